#!/usr/bin/env bash
# The GPU check, on a machine with CUDA: build the CUDA ops, run the `gpu` tests, compare the
# CUDA ops with the PyTorch reference (<= 1e-3) and print the bench for 256 and 1024 px.
#   bash scripts/gpu_check.sh            # uses .venv/bin/python when present, else python3
# Exits 2 at once where there is no CUDA; 1 when a step fails (the step is named).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}

step() { echo; echo "== $1"; }
fail() { echo "gpu_check: FAILED: $1" >&2; exit 1; }

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "gpu_check: $PY cannot import torch; install the project first (README) or set PYTHON=..." >&2
  exit 2
fi
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_check: no CUDA device is visible to PyTorch here; run this on a machine with a GPU" >&2
  exit 2
fi

step "device"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"

step "build the CUDA ops (ninja; cached after the first build)"
"$PY" -c "from soundedit.gan.ops import _ext; _ext.build_extension(); print('built')" \
  || fail "the CUDA ops did not build (a compiler, ninja or CUDA toolkit problem)"

step "pytest -m gpu"
"$PY" -m pytest -m gpu -q -p no:cacheprovider || fail "a gpu test failed"

step "CUDA ops vs reference at generator sizes"
"$PY" scripts/gpu_compare.py --atol 1e-3 || fail "the CUDA ops differ from the reference"

step "bench 256 and 1024 px"
"$PY" -m soundedit bench --device cuda --configs 256 1024 || fail "bench"

echo; echo "gpu_check: all steps passed"
