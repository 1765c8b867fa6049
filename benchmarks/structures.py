#!/usr/bin/env python3
"""A case of 117 structures (TotalSegmentator's count) as one multilabel NIfTI and as a folder of
117 binary NIfTI files, scored against a reference label map named by a label table; whole
processes, rotating order, median seconds over rounds.

    python benchmarks/structures.py --shape 512,512,200 --rounds 5 [--out /tmp/bench/structures]

Rows: the multilabel file matched by value (no table: the old path), the multilabel file matched by
name (``--label-table``), the per-structure folder matched by name. The folder's ratio to the
multilabel file is the figure the structures issue asks for; every run's CSV must agree (same
counts per structure).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

N_STRUCTURES = 117


def blobs(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """117 ellipsoids of 0.02-2 % of the volume each, placed at random (later ones win)."""
    labels = np.zeros(shape, np.uint8)
    for value in range(1, N_STRUCTURES + 1):
        radii = rng.uniform(0.02, 0.12, 3) * np.asarray(shape)
        centre = rng.uniform(radii, np.asarray(shape) - radii)
        lo = np.maximum(np.floor(centre - radii).astype(int), 0)
        hi = np.minimum(np.ceil(centre + radii).astype(int) + 1, shape)
        grid = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)], indexing="ij")
        inside = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) < 1
        box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        labels[box][inside] = value
    return labels


def write(out: str, shape: tuple[int, ...]) -> dict[str, str]:
    import nibabel as nib

    rng = np.random.default_rng(117)
    ref = blobs(shape, rng)
    pred = np.roll(ref, 1, axis=0)
    affine = np.diag([0.8, 0.8, 1.5, 1.0])
    os.makedirs(os.path.join(out, "folder"), exist_ok=True)
    nib.save(nib.Nifti1Image(ref, affine), os.path.join(out, "ref.nii.gz"))
    nib.save(nib.Nifti1Image(pred, affine), os.path.join(out, "multilabel.nii.gz"))
    names = {v: f"structure_{v:03d}" for v in range(1, N_STRUCTURES + 1)}
    for value, name in names.items():
        binary = (pred == value).astype(np.uint8)
        nib.save(nib.Nifti1Image(binary, affine), os.path.join(out, "folder", f"{name}.nii.gz"))
    with open(os.path.join(out, "table.json"), "w", encoding="utf-8") as f:
        json.dump({str(v): n for v, n in names.items()}, f)
    return {
        "ref": os.path.join(out, "ref.nii.gz"),
        "multilabel": os.path.join(out, "multilabel.nii.gz"),
        "folder": os.path.join(out, "folder"),
        "table": os.path.join(out, "table.json"),
    }


def commands(paths: dict[str, str], out: str) -> dict[str, list[str]]:
    base = [sys.executable, "-m", "dicecli", "score", "--no-progress", "-j", "1", "--format"]
    table = ["--label-table", paths["table"]]
    return {
        "multilabel, by value": [*base, "csv", paths["multilabel"], paths["ref"]],
        "multilabel, by name": [*base, "csv", paths["multilabel"], paths["ref"], *table],
        "117-file folder, by name": [*base, "csv", paths["folder"], paths["ref"], *table],
    }


def run(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def counts(text: str) -> dict[str, tuple[str, ...]]:
    """TP/FP/FN/TN per structure, keyed by its number (rows by value) or its name's number."""
    rows = csv.DictReader(text.splitlines())
    return {
        r["label"].removeprefix("structure_").lstrip("0"): tuple(r[k] for k in ("tp", "fp", "fn"))
        for r in rows
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="512,512,200")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="/tmp/bench/structures")
    args = parser.parse_args()
    shape = tuple(int(n) for n in args.shape.split(","))
    paths = write(args.out, shape)
    runs = commands(paths, args.out)
    outputs = {name: run(argv)[1] for name, argv in runs.items()}
    reference = counts(outputs["multilabel, by value"])
    for name, text in outputs.items():
        assert counts(text) == reference, f"{name}: counts differ from the label-map run"
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.rounds):
        order = list(runs)[r % len(runs) :] + list(runs)[: r % len(runs)]
        for name in order:
            times[name].append(run(runs[name])[0])
    base = statistics.median(times["multilabel, by name"])
    print(f"{N_STRUCTURES} structures, {'x'.join(map(str, shape))}, {args.rounds} rounds")
    print(f"{'input':<26} {'median s':>9} {'min':>7} {'max':>7} {'x multilabel':>13}")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:<26} {median:9.3f} {min(values):7.3f} {max(values):7.3f} {median / base:13.2f}"
        )


if __name__ == "__main__":
    main()
