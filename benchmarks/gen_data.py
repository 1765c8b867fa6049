#!/usr/bin/env python3
"""CT-like synthetic label maps for the benchmarks: rough, realistic boundaries, configurable size.

    python benchmarks/gen_data.py --cases 10 --shape 512,512,200 --out benchmarks/data/ct

Per case, three structures (a liver-like ellipsoid, a kidney-like one, a tumour inside the liver)
whose surfaces are perturbed by smooth low-frequency noise *and* voxel-scale speckle (rough, not
smooth blobs). The prediction uses a correlated but different noise field, a 1-2 voxel shift and a
few small false-positive blobs, so Dice lands around 0.85-0.95 like a decent model. Written as
uint8 .nii.gz (nibabel's default compression) with anisotropic 0.8 x 0.8 x 2.5 mm voxels.
Needs numpy, scipy and nibabel.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

# (label, centre as a fraction of the shape, radii as a fraction of the shape)
ORGANS = [
    (1, (0.40, 0.45, 0.50), (0.16, 0.13, 0.30)),
    (2, (0.65, 0.55, 0.45), (0.06, 0.05, 0.15)),
    (3, (0.42, 0.40, 0.55), (0.03, 0.03, 0.06)),
]


def smooth_noise(shape: tuple[int, ...], rng: np.random.Generator, cell: int = 24) -> np.ndarray:
    from scipy import ndimage

    coarse = [max(2, s // cell + 2) for s in shape]
    field = ndimage.gaussian_filter(rng.standard_normal(coarse).astype(np.float32), 1.0)
    field /= field.std() + 1e-6
    zoomed = ndimage.zoom(field, [s / c for s, c in zip(shape, coarse, strict=True)], order=1)
    return zoomed[tuple(slice(0, s) for s in shape)]


def paint(volume: np.ndarray, label: int, centre, radii, rng, shift=(0, 0, 0), noise=None):
    """Draw one rough ellipsoid into ``volume``; returns the noise used (to correlate the pred)."""
    shape = volume.shape
    c = [f * s + d for f, s, d in zip(centre, shape, shift, strict=True)]
    r = [max(2.0, f * s) for f, s in zip(radii, shape, strict=True)]
    lo = [max(0, int(ci - 1.4 * ri)) for ci, ri in zip(c, r, strict=True)]
    hi = [min(s, int(ci + 1.4 * ri) + 1) for ci, ri, s in zip(c, r, shape, strict=True)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    grid = np.ogrid[box]
    dist = sum(
        ((g.astype(np.float32) - ci) / ri) ** 2 for g, ci, ri in zip(grid, c, r, strict=True)
    )
    if noise is None:
        noise = smooth_noise(dist.shape, rng)
    speckle = 0.04 * rng.standard_normal(dist.shape).astype(np.float32)
    inside = dist < 1.0 + 0.18 * noise + speckle
    volume[box][inside] = label
    return noise


def make_case(shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gt = np.zeros(shape, np.uint8)
    pred = np.zeros(shape, np.uint8)
    for label, centre, radii in ORGANS:
        noise = paint(gt, label, centre, radii, rng)
        other = 0.8 * noise + 0.6 * smooth_noise(noise.shape, rng)
        shift = tuple(int(v) for v in rng.integers(-2, 3, 3))
        paint(pred, label, centre, radii, rng, shift, other)
    for _ in range(3):  # small false-positive blobs
        centre = tuple(rng.uniform(0.2, 0.8, 3))
        paint(pred, int(rng.integers(1, 4)), centre, (0.01, 0.01, 0.02), rng)
    return gt, pred


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--shape", default="512,512,200", help="x,y,z voxels (default 512,512,200)")
    ap.add_argument("--spacing", default="0.8,0.8,2.5", help="mm (default 0.8,0.8,2.5)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data", "ct"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import nibabel as nib

    shape = tuple(int(v) for v in a.shape.split(","))
    spacing = [float(v) for v in a.spacing.split(",")]
    for side in ("gt", "pred"):
        os.makedirs(os.path.join(a.out, side), exist_ok=True)
    start = time.perf_counter()
    for i in range(a.cases):
        gt, pred = make_case(shape, a.seed + i)  # type: ignore[arg-type]
        for side, volume in (("gt", gt), ("pred", pred)):
            img = nib.Nifti1Image(volume, np.diag([*spacing, 1.0]))
            nib.save(img, os.path.join(a.out, side, f"case_{i:03d}.nii.gz"))
    print(
        f"wrote {a.cases} case pairs of {shape} to {a.out} in {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
