#!/usr/bin/env python3
"""Several raters: what k = 3 raters cost against one reference, on CT-sized cases.

    python benchmarks/raters.py --cases 4 --shape 512,512,200 --rounds 3 [--out /tmp/bench/raters]

Per case, k raters and a model outline the same three structures (``gen_data.py``'s anatomy),
each with its own boundary noise and a shift of up to a voxel. Whole ``dicecli score``
processes, rotating order, median seconds over the rounds:

- one reference: the model against rater 1;
- the panel: the model against each of the k raters plus the k(k-1)/2 rater pairs;
- the panel with ``--consensus majority`` and with ``--consensus staple`` (SimpleITK);
- ``dicecli agreement`` of the k raters.

The issue's bound is k x one reference plus the band: k + k(k-1)/2 = 6 comparisons for k = 3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen_data import ORGANS, paint, smooth_noise  # noqa: E402


def make_panel(shape: tuple[int, ...], seed: int, k: int) -> list[np.ndarray]:
    """k raters and a model (last) of one case."""
    rng = np.random.default_rng(seed)
    volumes = [np.zeros(shape, np.uint8) for _ in range(k + 1)]
    for label, centre, radii in ORGANS:
        anatomy = None
        for volume in volumes:
            noise = None
            if anatomy is not None:  # the same anatomy, each reader's own hesitation
                noise = 0.8 * anatomy + 0.6 * smooth_noise(anatomy.shape, rng)
            shift = tuple(int(v) for v in rng.integers(-1, 2, 3))
            used = paint(volume, label, centre, radii, rng, shift, noise)
            anatomy = used if anatomy is None else anatomy
    return volumes


def write(out: str, cases: int, shape: tuple[int, ...], k: int) -> list[str]:
    import nibabel as nib

    folders = [os.path.join(out, f"rater{i + 1}") for i in range(k)] + [os.path.join(out, "model")]
    if all(os.path.isdir(f) and len(os.listdir(f)) == cases for f in folders):
        return folders
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    for i in range(cases):
        for folder, volume in zip(folders, make_panel(shape, i, k), strict=True):
            nib.save(nib.Nifti1Image(volume, affine), os.path.join(folder, f"case_{i:03d}.nii.gz"))
    return folders


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=4)
    ap.add_argument("--shape", default="512,512,200")
    ap.add_argument("--raters", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="/tmp/bench/raters")
    ap.add_argument("--dicecli", default=os.path.join(os.path.dirname(sys.executable), "dicecli"))
    a = ap.parse_args()
    shape = tuple(int(v) for v in a.shape.split(","))
    *raters, model = write(a.out, a.cases, shape, a.raters)
    score = [a.dicecli, "score", model]
    runs = {
        "one reference (model vs rater 1)": [*score, raters[0]],
        f"panel of {a.raters} (model vs each, and the rater pairs)": [*score, *raters],
        "panel + --consensus majority": [*score, *raters, "--consensus", "majority"],
        "panel + --consensus staple": [*score, *raters, "--consensus", "staple"],
        f"agreement of {a.raters} raters": [a.dicecli, "agreement", *raters],
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(a.rounds):
        names = list(runs)
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(timed([*runs[name], "--no-progress"]))
    base = statistics.median(times[next(iter(runs))])
    k = a.raters
    print(
        f"{a.cases} cases of {'x'.join(map(str, shape))}, {k} raters, {a.rounds} rounds; the "
        f"bound k + k(k-1)/2 = {k + k * (k - 1) // 2} x one reference\n"
    )
    print("| run | s median | min | max | x one reference |\n| --- | ---: | ---: | ---: | ---: |")
    for name, t in times.items():
        m = statistics.median(t)
        print(f"| {name} | {m:.2f} | {min(t):.2f} | {max(t):.2f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
