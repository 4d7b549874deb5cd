#!/usr/bin/env bash
# The GPU path end to end, for a user with one NVIDIA GPU (docs/scaling.md, "One GPU"); about a minute of work
# on a tiny model, bounded to 8 minutes:
#   1. tests/unit/test_device.py on cuda: one rollout, one RL step, one SFT step and a greedy evaluation on the GPU,
#      checked against the CPU computing the same thing;
#   2. benchmarks/gpu_check.py --device cuda: the smoke config's SFT, 2 RL steps of the native trainer and of
#      rl.backend trl (one process), a greedy evaluation, each with seconds per step and peak GPU memory.
# Without a GPU it says so and exits with status 2, having checked nothing.
#
#   benchmarks/gpu_check.sh            # PY=<python of a CUDA environment> to choose it (default .venv-gpu, .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PY:-}" ]]; then
  PY=.venv/bin/python
  [[ -x .venv-gpu/bin/python ]] && PY=.venv-gpu/bin/python
fi
export OMP_NUM_THREADS=1

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  torch_v=$("$PY" -c 'import torch; print(torch.__version__, "(CUDA build" if torch.version.cuda else "(CPU-only build", end="")')
  if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
    why="nvidia-smi lists a GPU, but torch $torch_v) of $PY cannot use it: install a CUDA build of torch (requirements-gpu.txt)"
  else
    why="no NVIDIA GPU here (nvidia-smi finds none) and torch $torch_v) of $PY sees none"
  fi
  echo "gpu_check: no CUDA GPU: $why. Nothing was checked; run this on a machine with one NVIDIA GPU." >&2
  exit 2
fi

echo "== gpu_check 1/2: the device test on cuda"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! timeout 240 "$PY" -m pytest -q -p no:cacheprovider -rs \
    "tests/unit/test_device.py::test_one_of_each_stage_runs_on_the_device[cuda]" 2>&1 | tee "$log" \
    || ! grep -q "1 passed" "$log"; then
  echo "gpu_check: FAILED: the cuda device test did not pass (see above)" >&2
  exit 1
fi

echo "== gpu_check 2/2: the smoke config on cuda (SFT, 2 RL steps native and trl, greedy eval)"
if ! timeout 240 "$PY" benchmarks/gpu_check.py --device cuda; then
  echo "gpu_check: FAILED: benchmarks/gpu_check.py --device cuda (see above; status 124 = over 240 s)" >&2
  exit 1
fi
