#!/usr/bin/env python3
"""RTSTRUCT rasterisation: scanlines (dicecli) against the rule dicecli used before
(matplotlib's ``Path.contains_points`` at every voxel centre of each contour's bounding box).

    python benchmarks/rtstruct.py --shape 512,512,160 [--out /tmp/bench/rtstruct] [--rounds 3]

Writes a CT-sized series and an RT Structure Set like a planning system's: a BODY contour on every
slice (~600 vertices, most of the slice), a ring-shaped ROI with a hole, and 9 small ROIs (organs
at risk, nodes) on a few dozen slices each. Times both rules on the same contours (the reading of
the files is the same and is timed apart), checks that they give the same voxels, and prints the
time per ROI, the total and the speed-up (median of the rounds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))


def polygon(cx, cy, rx, ry, n, wobble=0.0, phase=0.0):
    a = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    r = 1.0 + wobble * np.sin(7 * a + phase)
    return list(zip(cx + rx * r * np.cos(a), cy + ry * r * np.sin(a), strict=True))


def write(out: str, shape: tuple[int, int, int]) -> str:
    from make_examples import write_dicom_series, write_rtstruct

    ct = os.path.join(out, "ct")
    if not os.path.isdir(ct):
        volume = np.zeros(shape, np.int16)
        write_dicom_series(ct, volume, (0.98, 0.98, 2.5), (-250.0, -250.0, 0.0))
    nx, ny, nz = shape
    rng = np.random.default_rng(7)
    rois: dict[str, list] = {
        "BODY": [(k, polygon(nx / 2, ny / 2, 0.45 * nx, 0.38 * ny, 600, 0.03, k / 9))
                 for k in range(nz)],
        "RING": [c for k in range(nz // 3, nz // 2)
                 for c in ((k, polygon(nx / 2, ny / 2, 60, 50, 120)),
                           (k, polygon(nx / 2, ny / 2, 30, 25, 80)))],
    }  # fmt: skip
    for i in range(9):
        cx, cy = rng.uniform(0.3, 0.7, 2) * (nx, ny)
        start = int(rng.integers(0, nz - 40))
        rois[f"OAR{i + 1}"] = [
            (k, polygon(cx, cy, rng.uniform(5, 25), rng.uniform(5, 25), 60, 0.1, k))
            for k in range(start, start + int(rng.integers(10, 40)))
        ]
    return write_rtstruct(os.path.join(out, "rs.dcm"), ct, rois)


def matplotlib_fill(plane, x, y):
    from matplotlib.path import Path

    index = np.column_stack([x, y])
    lo = np.maximum(np.floor(index.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(index.max(axis=0)).astype(int) + 1, plane.shape)
    if np.any(hi <= lo):
        return
    ii, jj = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]), indexing="ij")
    inside = Path(index, closed=False).contains_points(np.column_stack([ii.ravel(), jj.ravel()]))
    plane[lo[0] : hi[0], lo[1] : hi[1]] ^= inside.reshape(ii.shape)


def contours(path: str):
    """Each ROI's contours as (slice, x index, y index), as dicecli's reader computes them."""
    import pydicom

    import dicecli
    from dicecli.io.dicom import read_series

    ds = pydicom.dcmread(path)
    image, _ = read_series(os.path.join(os.path.dirname(path), "ct"), dicecli.io.ReadOptions())
    direction = np.asarray(image.direction).reshape(3, 3)
    to_index = np.linalg.inv(direction * np.asarray(image.spacing))
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    out = {}
    for roi in ds.ROIContourSequence:
        polys = []
        for c in roi.ContourSequence:
            index = (np.asarray(c.ContourData, float).reshape(-1, 3) - image.origin) @ to_index.T
            polys.append((round(float(index[:, 2].mean())), index[:, 0], index[:, 1]))
        out[names[int(roi.ReferencedROINumber)]] = polys
    return out, image.array.shape


def rasterise(polys, shape, fill):
    mask = np.zeros(shape, bool, order="F")
    for k, x, y in polys:
        fill(mask[:, :, k], x, y)
    return mask


def main() -> None:
    from dicecli.io.rtstruct import fill_polygon

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="512,512,160")
    parser.add_argument("--out", default="/tmp/bench/rtstruct")
    parser.add_argument("--rounds", type=int, default=3)
    a = parser.parse_args()
    shape = tuple(int(n) for n in a.shape.split(","))
    os.makedirs(a.out, exist_ok=True)
    path = write(a.out, shape)  # type: ignore[arg-type]
    rois, grid = contours(path)
    rows = []
    for name, polys in rois.items():
        times = {"scanline": [], "matplotlib": []}
        for _ in range(a.rounds):
            for rule, fill in (("scanline", fill_polygon), ("matplotlib", matplotlib_fill)):
                start = time.perf_counter()
                mask = rasterise(polys, grid, fill)
                times[rule].append(time.perf_counter() - start)
                if rule == "scanline":
                    new = mask
            assert np.array_equal(new, mask), f"{name}: the two rules differ"
        rows.append(
            (name, len(polys), int(new.sum()), *(statistics.median(times[r]) for r in times))
        )
    import dicecli

    start = time.perf_counter()
    dicecli.load_mask(path)
    whole = time.perf_counter() - start
    print(f"RTSTRUCT on {'x'.join(map(str, grid))}, {len(rois)} ROIs, median of {a.rounds}")
    print(
        f"{'ROI':<6} {'contours':>8} {'voxels':>10} {'scanline s':>11} {'matplotlib s':>13} "
        f"{'x':>7}"
    )
    for name, n, voxels, fast, slow in rows:
        print(f"{name:<6} {n:>8} {voxels:>10,} {fast:>11.4f} {slow:>13.3f} {slow / fast:>7.0f}")
    fast, slow = sum(r[3] for r in rows), sum(r[4] for r in rows)
    print(f"{'all':<6} {sum(r[1] for r in rows):>8} {'':>10} {fast:>11.4f} {slow:>13.3f} "
          f"{slow / fast:>7.0f}")  # fmt: skip
    print(f"dicecli.load_mask (series + RTSTRUCT, scanlines): {whole:.2f} s")


if __name__ == "__main__":
    main()
