#!/usr/bin/env bash
# On a CUDA machine: the default 10,000-step fit (cuDNN LSTM, GPU-resident data, no per-step host
# sync) timed, fp32 and bf16-mixed, then the throughput benchmark (fit path against a bare loop).
#   bash benchmarks/gpu.sh [DATA_DIR]   (DATA_DIR holds MNIST/raw/; default: $RNN_LIGHTNING_DATA)
# Each script prints the processor and the commit with its figures; the GPU's name is printed first.
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
cd "$(dirname "$0")/.."
data_dir="${1:-${RNN_LIGHTNING_DATA:-}}"
if [ -z "$data_dir" ]; then
  echo "benchmarks/gpu.sh: error: give the folder holding MNIST/raw/ as DATA_DIR or \$RNN_LIGHTNING_DATA" >&2
  exit 2
fi
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
# fit_wall is trainer.fit as a whole (data set-up and the 23 validations included).
python benchmarks/speedups.py --data_dir "$data_dir" --variants fp32 bf16 2>/dev/null | tail -6
python benchmarks/throughput.py --data_dir "$data_dir" --steps 400 --warmup 20 --repeats 5 2>/dev/null
