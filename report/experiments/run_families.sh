#!/usr/bin/env bash
# The report's comparison of the three families on ../shared/data at equal CPU budgets
# (report/README.md, section 7): two training streams side by side, one thread each, then
# test.ipynb and super_resolution.ipynb on Set5, Set14 and B100 (2 threads).
#
#   bash report/experiments/run_families.sh [PRETRAIN_MINUTES] [GAN_MINUTES]
#
# stream 1: preset `shared`        SRResNet (resize-conv), SRGAN, then its SRCNN baseline
#                                  (preset `shared_srcnn`: 10 minutes)
# stream 2: preset `shared_esrgan` RRDBNet (6 RRDBs), ESRGAN
# Everything goes to runs/shared (executed notebooks in runs/shared/notebooks*); logs in
# runs/shared/stream_{srgan,esrgan}.log.
set -euo pipefail
cd "$(dirname "$0")/.."
pre=${1:-45}
gan=${2:-20}
mkdir -p runs/shared
export TQDM_DISABLE=1
budget() {  # the SRGAN_CONFIG of one stream: stage budgets in seconds
  echo "{\"stages\": {\"pretrain\": {\"time_budget\": $(($1 * 60))}, \"gan\": {\"time_budget\": $(($2 * 60))}}$3}"
}
# the training lists once, before the two streams (both would make them); test.ipynb makes
# the Set14 and B100 lists
.venv/bin/python -c "import config, train; train.make_lists(config.training_config('shared'))"
OMP_NUM_THREADS=1 SRGAN_PRESET=shared \
  SRGAN_CONFIG="$(budget "$pre" "$gan" "")" \
  .venv/bin/jupyter nbconvert --to notebook --execute train.ipynb --output-dir runs/shared/notebooks_srgan \
  > runs/shared/stream_srgan.log 2>&1 &
first=$!
OMP_NUM_THREADS=1 SRGAN_PRESET=shared_esrgan SRGAN_CONFIG="$(budget "$pre" "$gan" "")" \
  .venv/bin/jupyter nbconvert --to notebook --execute train.ipynb --output-dir runs/shared/notebooks_esrgan \
  > runs/shared/stream_esrgan.log 2>&1 &
second=$!
status=0
wait $first || status=$?
wait $second || status=$?
if [[ $status != 0 ]]; then
  echo "a training stream failed (exit $status): see runs/shared/stream_*.log" >&2
  exit $status
fi
SRGAN_PRESET=shared .venv/bin/jupyter nbconvert --to notebook --execute test.ipynb super_resolution.ipynb \
  --output-dir runs/shared/notebooks
