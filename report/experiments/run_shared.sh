#!/usr/bin/env bash
# The report's main run, on ../shared/data (T91 + BSD200 to train; Set5, Set14, B100 to test).
#
#   bash report/experiments/run_shared.sh [GAN_MINUTES] [PRETRAIN_DIR] [--amp-cpu]
#
# Stage 1 (SRResNet) is the checkpoint of report/experiments/pretrain_cpu.py in PRETRAIN_DIR
# (runs/pretrain_cpu), copied to runs/shared so that train.ipynb's `shared` preset resumes it as
# finished; stage 2 (SRGAN, pixel-MSE content loss: no ImageNet VGG weights offline) then trains
# for GAN_MINUTES (30); --amp-cpu trains it with bf16 autocast and channels_last on the CPU.
# test.ipynb and super_resolution.ipynb follow. Results: runs/shared/test_results.json and the
# executed notebooks in runs/shared/notebooks; the report copies the table and the curves.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
pretrain=${2:-runs/pretrain_cpu}
speed=""
if [[ "${3:-}" == "--amp-cpu" ]]; then
  speed='"amp_cpu": true, "channels_last": true, '
fi
mkdir -p runs/shared/lists
cp "$pretrain"/srresnet_last.pth "$pretrain"/srresnet_best.pth \
   "$pretrain"/srresnet_history.csv "$pretrain"/srresnet_iterations.csv runs/shared/
cp "$pretrain"/lists/train.csv "$pretrain"/lists/Set5.csv \
   "$pretrain"/lists/Set14.csv "$pretrain"/lists/B100.csv runs/shared/lists/
iterations=$(.venv/bin/python -c "import torch; print(torch.load('runs/shared/srresnet_last.pth', weights_only=True)['iteration'])")
export SRGAN_PRESET=shared TQDM_DISABLE=1
export SRGAN_CONFIG="{${speed}\"stages\": {\"pretrain\": {\"iterations\": $iterations}, \"gan\": {\"time_budget\": $((minutes * 60))}}}"
.venv/bin/jupyter nbconvert --to notebook --execute train.ipynb test.ipynb super_resolution.ipynb \
  --output-dir runs/shared/notebooks
