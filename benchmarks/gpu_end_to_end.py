#!/usr/bin/env python3
"""End to end on a GPU machine: where a case's time goes, and whole runs on CPU and GPU.

    python benchmarks/gpu_end_to_end.py benchmarks/data/ct --rounds 3 --jobs 1,4

1. Stages of one case (median over the cases, in this process): reading both masks (file read and
   gzip decompression), the host->device copy of both, counting on the GPU, counting on the CPU.
   "Bound by decompression" means the read stage dominates the GPU ones.
2. Whole ``dicecli score`` processes (imports, CUDA start-up and the worker pool included) with
   ``--device cpu`` and ``--device gpu`` for each ``-j``: median seconds per case over the rounds.
   The CSV of every GPU run must equal the CPU run's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def stages(data: str) -> None:
    import cupy as cp

    from dicecli.io import load_mask
    from dicecli.metrics import joint_histogram

    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    sync = cp.cuda.Device().synchronize
    rows: dict[str, list[float]] = {k: [] for k in ("read", "copy", "gpu", "cpu")}
    cases = sorted(os.listdir(os.path.join(data, "gt")))
    joint_histogram(cp.zeros(16, cp.uint8), cp.zeros(16, cp.uint8), cp)  # compile once
    voxels = 0
    for case in cases:
        t0 = time.perf_counter()
        gt = load_mask(os.path.join(data, "gt", case)).array
        pred = load_mask(os.path.join(data, "pred", case)).array
        t1 = time.perf_counter()
        dg, dp = cp.asarray(gt), cp.asarray(pred)
        sync()
        t2 = time.perf_counter()
        gpu = joint_histogram(dg, dp, cp)
        t3 = time.perf_counter()
        cpu = joint_histogram(gt, pred)
        t4 = time.perf_counter()
        assert (gpu.counts == cpu.counts).all(), case
        voxels = gt.size
        for key, seconds in zip(rows, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            rows[key].append(seconds)
    print(f"{name}; {len(cases)} cases of {voxels / 1e6:.1f} M voxels; median ms per case\n")
    print("| stage | ms per case |")
    print("| --- | ---: |")
    labels = {
        "read": "read both masks (file + gzip decompression, CPU)",
        "copy": "host->device copy of both",
        "gpu": "count on the GPU (fused kernel, result back on the host)",
        "cpu": "count on the CPU (one core)",
    }
    for key, label in labels.items():
        print(f"| {label} | {statistics.median(rows[key]) * 1e3:.2f} |")


def whole_runs(data: str, rounds: int, jobs: list[int], labels: str) -> None:
    gt, pred = os.path.join(data, "gt"), os.path.join(data, "pred")
    n = len(os.listdir(gt))
    print(f"\nwhole processes, {n} cases, median of {rounds} rounds\n")
    print("| device | -j | s per case | s per run |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for j in jobs:
            for device in ("cpu", "gpu"):
                out = os.path.join(tmp, f"{device}-{j}.csv")
                argv = [sys.executable, "-m", "dicecli", "score", pred, gt, "--labels", labels]
                argv += ["--no-progress", "-j", str(j), "--device", device]
                argv += ["--format", "csv", "-o", out]
                times = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
                    times.append(time.perf_counter() - start)
                with open(out) as f:
                    text = f.read()
                reference = reference or text
                assert text == reference, f"{device} -j {j} differs from the first run"
                median = statistics.median(times)
                print(f"| {device} | {j} | {median / n:.3f} | {median:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", help="folder with gt/ and pred/ (benchmarks/gen_data.py)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", default="1,4")
    ap.add_argument("--labels", default="1,2,3")
    a = ap.parse_args()
    stages(a.data)
    whole_runs(a.data, a.rounds, [int(j) for j in a.jobs.split(",")], a.labels)


if __name__ == "__main__":
    main()
