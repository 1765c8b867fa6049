#!/usr/bin/env bash
# The device check for a session that has a GPU machine (H100/H200): the CuPy tests, the GPU rows
# of the counting benchmark and one end-to-end run, in one call. Nothing is installed: the device
# image has numpy, scipy, pandas, click, rich, pytest, hypothesis and CuPy, and dicecli's NIfTI-1
# path needs neither nibabel nor libdeflate. The log goes to ${OUT:-.}/gpu-check.log.
#   run(command="bash benchmarks/gpu_check.sh", timeout_s=420)
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
log="${OUT:-.}/gpu-check.log"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import cupy; print('cupy', cupy.__version__)"
  python3 -m pytest -q -m gpu -p no:cacheprovider -o addopts="" tests/unit/test_xp.py
  python3 benchmarks/kernels.py --repeat 9
  python3 -m dicecli score examples/nifti/pred examples/nifti/gt --device gpu -v --summary-only
} 2>&1 | tee "$log"
