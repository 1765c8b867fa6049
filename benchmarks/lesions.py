#!/usr/bin/env python3
"""What `--lesions` costs on top of a plain `dicecli score`, on CT-sized cases with many lesions.

    python benchmarks/lesions.py --cases 4 --shape 512,512,200 --lesions 50,200 --rounds 3

Writes N cases (uint8 .nii.gz, 0.8 x 0.8 x 2.5 mm) holding 50-200 small ellipsoidal lesions each:
the prediction moves each lesion by up to a voxel, misses about 10% of them (the smallest first)
and adds about 10% false ones. Then times whole `dicecli score` processes (-j 1, median of the
rounds) without and with `--lesions`, and prints the lesion overhead as a share of the plain run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def lesion_case(shape, count, rng):
    gt = np.zeros(shape, np.uint8)
    pred = np.zeros(shape, np.uint8)
    for k in range(count):
        radius = rng.uniform(1.5, 6.0, 3) / (1.0, 1.0, 3.0)
        centre = rng.uniform(radius + 1, np.asarray(shape) - radius - 2)
        lo = np.maximum((centre - radius - 2).astype(int), 0)
        hi = np.minimum((centre + radius + 3).astype(int), shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        grid = np.ogrid[box]
        d = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radius, strict=True))
        gt[box][d < 1] = 1
        if k % 10 == 0:
            continue  # missed
        moved = sum(
            ((g - c - s) / r) ** 2
            for g, c, r, s in zip(grid, centre, radius, rng.uniform(-1, 1, 3), strict=True)
        )
        pred[box][moved < 1] = 1
    for _ in range(count // 10):  # false lesions
        c = rng.uniform(4, np.asarray(shape) - 5).astype(int)
        pred[c[0] - 1 : c[0] + 2, c[1] - 1 : c[1] + 2, c[2] : c[2] + 1] = 1
    return gt, pred


def timed(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=4)
    ap.add_argument("--shape", default="512,512,200")
    ap.add_argument("--lesions", default="50,200", help="lesions per case: MIN,MAX")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", help="keep the cases in this folder (default: a temporary one)")
    args = ap.parse_args()
    import nibabel as nib

    shape = tuple(int(v) for v in args.shape.split(","))
    low, high = (int(v) for v in args.lesions.split(","))
    root = args.data or tempfile.mkdtemp(prefix="dicecli-lesions-")
    rng = np.random.default_rng(0)
    for side in ("gt", "pred"):
        os.makedirs(os.path.join(root, side), exist_ok=True)
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    for i in range(args.cases):
        gt, pred = lesion_case(shape, int(rng.integers(low, high + 1)), rng)
        nib.save(nib.Nifti1Image(gt, affine), os.path.join(root, "gt", f"case{i:03d}.nii.gz"))
        nib.save(nib.Nifti1Image(pred, affine), os.path.join(root, "pred", f"case{i:03d}.nii.gz"))
    base = [
        sys.executable,
        "-m",
        "dicecli",
        "score",
        f"{root}/pred",
        f"{root}/gt",
        "--labels",
        "1",
        "-j",
        "1",
        "--no-progress",
    ]
    runs = {"plain": base, "--lesions": [*base, "--lesions"]}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.rounds):
        for name, argv in runs.items():
            times[name].append(timed(argv) / args.cases)
    plain = statistics.median(times["plain"])
    lesions = statistics.median(times["--lesions"])
    size = "x".join(map(str, shape))
    print(f"{args.cases} cases of {size}, {low}-{high} lesions each, median of {args.rounds}")
    print("| run | s/case | vs plain |")
    print("| --- | ---: | ---: |")
    print(f"| plain score | {plain:.3f} | 1.00 |")
    print(f"| --lesions | {lesions:.3f} | {lesions / plain:.2f} |")
    extra = lesions - plain
    print(f"lesion overhead: {extra:.3f} s/case = {extra / plain:.2f} x the plain score")


if __name__ == "__main__":
    main()
