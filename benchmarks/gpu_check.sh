#!/usr/bin/env bash
# The device check for a session that has a GPU machine (H100/H200): the CuPy tests, the GPU rows
# of the counting benchmark, where a case's time goes and whole runs on CPU vs GPU, in one call.
# The device image has numpy, scipy, pandas, click, rich, pytest, hypothesis and CuPy; nibabel and
# deflate (libdeflate) travel as wheels in .whl/ (see benchmarks/README.md), the benchmark cases in
# benchmarks/data/gpu (made here: python benchmarks/gen_data.py --cases 8 --shape 512,512,300
# --out benchmarks/data/gpu). The log goes to ${OUT:-.}/gpu-check.log.
#   run(command="bash benchmarks/gpu_check.sh", carry=[".whl", "benchmarks/data/gpu"], timeout_s=420)
set -uo pipefail
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
log="${OUT:-.}/gpu-check.log"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import cupy, numpy, sys; print('python', sys.version.split()[0], 'cupy', cupy.__version__, 'numpy', numpy.__version__)"
  python3 -m pytest -q -m gpu -p no:cacheprovider -o addopts="" tests/unit/test_xp.py tests/unit/test_gpu_counting.py
  python3 benchmarks/kernels.py --repeat 9
  if [ -d benchmarks/data/gpu/gt ]; then
    python3 benchmarks/gpu_end_to_end.py benchmarks/data/gpu --rounds 3 --jobs 1,4
  fi
  python3 -m dicecli score examples/nifti/pred examples/nifti/gt --device gpu -v --summary-only
} 2>&1 | tee "$log"
