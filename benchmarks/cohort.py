#!/usr/bin/env python3
"""Cohort scale: the built-in worker pool against Dask (a LocalCluster, and an external
`dask scheduler` with `dask worker` processes) on many cases, and a projection.

    python benchmarks/cohort.py --cases 200 --workers 2 --shape 96,96,48 --rounds 3

Each run is a whole `dicecli score ... --metrics hd,hd95,assd,masd,nsd` process (median of the
rounds). Per-task overhead = (Dask wall time - pool wall time) x workers / cases: the extra
worker-seconds a case costs on Dask. The projection for a study: cases x labels x (per-label
cost) / workers + the overhead per task, from the per-case cost measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

#: the surface metrics the figures in benchmarks/README.md were measured with (what
#: ``--metrics all`` meant then; it now adds the directed distances, biou and topology)
SURFACE = "hd,hd95,assd,masd,nsd"


def make_cases(root: str, n: int, shape: tuple[int, ...]) -> None:
    import nibabel as nib

    rng = np.random.default_rng(0)
    for side in ("gt", "pred"):
        os.makedirs(os.path.join(root, side), exist_ok=True)
    grid = np.ogrid[tuple(slice(0, s) for s in shape)]
    for i in range(n):
        gt = np.zeros(shape, np.uint8)
        for label, radius in ((1, 0.3), (2, 0.15), (3, 0.08)):
            centre = rng.uniform(0.35, 0.65, 3) * shape
            d = sum(
                ((g - c) / (radius * s)) ** 2 for g, c, s in zip(grid, centre, shape, strict=True)
            )
            gt[d < 1 + 0.1 * rng.standard_normal(shape)] = label
        pred = np.roll(gt, int(rng.integers(0, 3)), axis=0)
        affine = np.diag([0.8, 0.8, 2.5, 1.0])
        nib.save(nib.Nifti1Image(gt, affine), os.path.join(root, "gt", f"c{i:04d}.nii.gz"))
        nib.save(nib.Nifti1Image(pred, affine), os.path.join(root, "pred", f"c{i:04d}.nii.gz"))


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def external(workers: int, folder: str) -> tuple[str, list[subprocess.Popen[bytes]]]:
    bin_dir = os.path.dirname(sys.executable)
    file = os.path.join(folder, "scheduler.json")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [
                os.path.join(bin_dir, "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                file,
            ],
            **quiet,
        )
    ]
    while not os.path.exists(file):
        time.sleep(0.1)
    time.sleep(0.5)
    with open(file) as f:
        address = json.load(f)["address"]
    for _ in range(workers):
        procs.append(
            subprocess.Popen(
                [
                    os.path.join(bin_dir, "dask"),
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                ],
                **quiet,
            )
        )
    import distributed

    with distributed.Client(address) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shape", default="96,96,48")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--label-seconds",
        type=float,
        default=0.19,
        help="cost of one label of a typical CT case for the projection (default: all surface "
        "metrics of a 1.8 M-voxel label, benchmarks/surface.py on this VM)",
    )
    args = ap.parse_args()
    shape = tuple(int(v) for v in args.shape.split(","))
    root = tempfile.mkdtemp(prefix="dicecli-cohort-")
    make_cases(root, args.cases, shape)
    base = [
        sys.executable,
        "-m",
        "dicecli",
        "score",
        f"{root}/pred",
        f"{root}/gt",
        "--metrics",
        SURFACE,
        "--no-progress",
        "-o",
        os.path.join(root, "out.csv"),
    ]
    w = args.workers
    one = statistics.median(timed([*base, "-j", "1"]) for _ in range(args.rounds)) / args.cases
    address, procs = external(w, root)
    try:
        runs = {
            f"built-in pool (-j {w})": [*base, "-j", str(w)],
            f"--scheduler local:{w}": [*base, "--scheduler", f"local:{w}"],
            f"external scheduler, {w} workers": [*base, "--scheduler", address],
        }
        times = {
            k: statistics.median(timed(v) for _ in range(args.rounds)) for k, v in runs.items()
        }
    finally:
        for p in procs:
            p.terminate()
    pool = times[f"built-in pool (-j {w})"]
    print(
        f"{args.cases} cases of {'x'.join(map(str, shape))}, 3 labels, --metrics {SURFACE}; "
        f"one process: {one:.3f} s/case; median of {args.rounds}"
    )
    print("| run | wall s | cases/s | overhead per task (worker-s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, t in times.items():
        overhead = (t - pool) * w / args.cases
        print(f"| {name} | {t:.1f} | {args.cases / t:.1f} | {overhead:+.4f} |")
    per_label = args.label_seconds
    worst = max(max((t - pool) * w / args.cases for t in times.values()), 0.0)
    share = worst / (100 * per_label)
    print(
        f"\nprojection, 10 000 cases x 100 labels at {per_label:.3f} s per label "
        f"(+ {worst:.4f} s per task = {share:.2%} of such a case):"
    )
    for workers in (1, 8, 64):
        hours = (10_000 * (100 * per_label + worst)) / workers / 3600
        print(f"  {workers:>2} workers: {hours:.1f} h")


if __name__ == "__main__":
    main()
