#!/usr/bin/env bash
# The report's main run, on ../shared/data (T91 + BSD200 to train; Set5, Set14, B100 to test).
#
#   bash report/run_shared.sh [GAN_MINUTES]
#
# Stage 1 (SRResNet) is the checkpoint of report/pretrain_cpu.py (runs/pretrain_cpu), copied to
# runs/shared so that train.ipynb's `shared` preset resumes it as finished; stage 2 (SRGAN,
# pixel-MSE content loss: no ImageNet VGG weights offline) then trains for GAN_MINUTES (30).
# test.ipynb and super_resolution.ipynb follow. Results: runs/shared/test_results.json and the
# executed notebooks in runs/shared/notebooks; the report copies the table and the curves.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
mkdir -p runs/shared/lists
cp runs/pretrain_cpu/srresnet_last.pth runs/pretrain_cpu/srresnet_best.pth \
   runs/pretrain_cpu/srresnet_history.csv runs/pretrain_cpu/srresnet_iterations.csv runs/shared/
cp runs/pretrain_cpu/lists/train.csv runs/pretrain_cpu/lists/Set5.csv \
   runs/pretrain_cpu/lists/Set14.csv runs/pretrain_cpu/lists/B100.csv runs/shared/lists/
iterations=$(.venv/bin/python -c "import torch; print(torch.load('runs/shared/srresnet_last.pth', weights_only=True)['iteration'])")
export SRGAN_PRESET=shared TQDM_DISABLE=1
export SRGAN_CONFIG="{\"stages\": {\"srresnet\": {\"iterations\": $iterations}, \"srgan\": {\"time_budget\": $((minutes * 60))}}}"
.venv/bin/jupyter nbconvert --to notebook --execute train.ipynb test.ipynb super_resolution.ipynb \
  --output-dir runs/shared/notebooks
