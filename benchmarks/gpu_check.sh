#!/usr/bin/env bash
# The device check for a session that has a GPU machine: CuPy tests and the GPU rows of the
# counting benchmark, in one run. Writes its log to ${OUT:-.}/gpu-check.log.
#   bash benchmarks/gpu_check.sh
set -uo pipefail
log="${OUT:-.}/gpu-check.log"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import cupy; print('cupy', cupy.__version__)" || pip install -q "cupy-cuda12x>=13"
  python3 -m pip install -q -e ".[test]" scipy
  python3 -m pytest -q -m gpu -p no:cacheprovider tests/unit/test_xp.py
  python3 benchmarks/kernels.py --repeat 9
  python3 -m dicecli score examples/nifti/pred examples/nifti/gt --device gpu -v --summary-only
} 2>&1 | tee "$log"
