#!/usr/bin/env python3
"""Each metric family's cost on CT-sized cases, as a ratio to the plain score (counts only), in
one process, rotating order, median over rounds.

    python benchmarks/metrics.py [--shape 512,512,200] [--rounds 3] [--out /tmp/bench/metrics]

Cases: a 512×512×200 pair with 3 structures (benchmarks/gen_data.py's liver, kidney and tumour),
a pair with 96 structures (rough ellipsoids of 0.1-1 % of the volume each), and a probability map
(float32) of the first case's liver for the calibration row. Rows per case: the plain score; each
family with ``--metrics``: the surface distances (hd, hd95, assd, masd, nsd and the directed ones;
voxel and surfel surfaces),
boundary IoU, topology (clDice and the Betti errors); ``--lesions`` (with size bins); and for the
map, ``--soft`` alone and with the calibration metrics, against reading the map (load_mask).
Every row scores through ``dicecli.score_pair`` with ``jobs=1``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SURFACE = "hd,hd95,assd,masd,nsd,hd_rp,hd_pr,hd95_rp,hd95_pr"
ROWS = [
    ("plain score (counts)", {}),
    ("surface distances", {"metrics": SURFACE}),
    ("surface distances, --surface surfel", {"metrics": SURFACE, "surface": "surfel"}),
    ("boundary IoU", {"metrics": "biou"}),
    ("topology (cldice, betti)", {"metrics": "cldice,betti0_error,betti1_error"}),
    ("lesions + size bins", {"lesions": True, "lesion_size_bins": "10,100"}),
]


def many(shape: tuple[int, int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """96 rough ellipsoids, the prediction a correlated rough copy shifted by a voxel."""
    from gen_data import paint, smooth_noise

    gt = np.zeros(shape, np.uint8)
    pred = np.zeros(shape, np.uint8)
    for label in range(1, 97):
        radii = tuple(rng.uniform(0.03, 0.07, 3))
        centre = tuple(rng.uniform(0.1, 0.9, 3))
        noise = paint(gt, label, centre, radii, rng)
        other = 0.8 * noise + 0.6 * smooth_noise(noise.shape, rng)
        paint(pred, label, centre, radii, rng, (1, 0, 0), other)
    return gt, pred


def write(out: str, shape: tuple[int, int, int]) -> dict[str, tuple[str, str]]:
    import nibabel as nib
    from gen_data import make_case
    from scipy import ndimage

    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    cases = {"3 labels": make_case(shape, 0), "96 labels": many(shape, np.random.default_rng(96))}
    paths = {}
    for name, (gt, pred) in cases.items():
        folder = os.path.join(out, name.replace(" ", "_"))
        os.makedirs(folder, exist_ok=True)
        paths[name] = (os.path.join(folder, "pred.nii.gz"), os.path.join(folder, "gt.nii.gz"))
        for path, volume in zip(paths[name], (pred, gt), strict=True):
            if not os.path.exists(path):
                nib.save(nib.Nifti1Image(volume, affine), path)
    gt, pred = cases["3 labels"]
    folder = os.path.join(out, "probability")
    os.makedirs(folder, exist_ok=True)
    liver = (gt == 1).astype(np.uint8)
    smooth = ndimage.gaussian_filter((pred == 1).astype(np.float32), 1.5)
    rng = np.random.default_rng(1)
    p = np.clip(smooth + rng.normal(0, 0.02, shape).astype(np.float32) * (smooth > 0.01), 0, 1)
    paths["probability"] = (os.path.join(folder, "pred.nii.gz"), os.path.join(folder, "gt.nii.gz"))
    for path, volume in zip(paths["probability"], (p.astype(np.float32), liver), strict=True):
        if not os.path.exists(path):
            nib.save(nib.Nifti1Image(volume, affine), path)
    return paths


def timed(run, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shape", default="512,512,200")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="/tmp/bench/metrics")
    a = ap.parse_args()
    import dicecli

    shape = tuple(int(v) for v in a.shape.split(","))
    paths = write(a.out, shape)  # type: ignore[arg-type]
    print("| case | row | s median | min | max | × plain |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for case in ("3 labels", "96 labels"):
        pred, gt = paths[case]
        results: dict[str, list[float]] = {name: [] for name, _ in ROWS}
        dicecli.score_pair(pred, gt)  # warm: imports and the page cache
        for _ in range(a.rounds):  # rotating: every row once per round
            for name, options in ROWS:
                run = lambda o=options, p=pred, g=gt: dicecli.score_pair(p, g, **o)  # noqa: E731
                results[name] += timed(run, 1)
        plain = statistics.median(results[ROWS[0][0]])
        for name, _ in ROWS:
            t = results[name]
            m = statistics.median(t)
            print(f"| {case} | {name} | {m:.2f} | {min(t):.2f} | {max(t):.2f} | {m / plain:.2f} |")
    pred, gt = paths["probability"]
    rows = {
        "read the map (load_mask)": lambda: float(np.asarray(dicecli.load_mask(pred).array).max()),
        "--soft (soft Dice)": lambda: dicecli.score_pair(pred, gt, soft=True, labels="1"),
        "--soft --metrics calibration": lambda: dicecli.score_pair(
            pred, gt, soft=True, labels="1", metrics="calibration"
        ),
    }
    results = {name: [] for name in rows}
    rows["--soft (soft Dice)"]()  # warm
    for _ in range(a.rounds):
        for name, run in rows.items():
            results[name] += timed(run, 1)
    read = statistics.median(results["read the map (load_mask)"])
    own = statistics.median(results["--soft --metrics calibration"]) - statistics.median(
        results["--soft (soft Dice)"]
    )
    print(f"\ncalibration's own cost (with minus without): {own:.2f} s = {own / read:.2f} × read\n")
    for name, t in results.items():
        m = statistics.median(t)
        print(f"| probability map | {name} | {m:.2f} | {min(t):.2f} | {max(t):.2f} | "
              f"{m / read:.2f} × read |")  # fmt: skip


if __name__ == "__main__":
    main()
