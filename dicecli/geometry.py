"""Do a prediction and its reference share a grid, and putting them on one.

The same grid stored in another axis order or direction is reoriented (voxels only moved); a
DICOM SEG read on its own frames' grid is embedded in a larger grid it lies on exactly (integer
voxel offsets, same spacing and direction); anything else is resampled only under
``--geometry resample``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from dicecli.errors import GeometryError
from dicecli.models import PARTIAL_GRIDS, GeometryPolicy, Mask


def _fmt(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def geometry_differences(pred: Mask, ref: Mask, tolerance: float) -> list[str]:
    """How spacing, origin and direction differ beyond ``tolerance`` (relative to the spacing)."""
    diffs: list[str] = []
    sp, sr = np.asarray(pred.spacing), np.asarray(ref.spacing)
    if not np.allclose(sp, sr, rtol=tolerance, atol=0):
        diffs.append(f"spacing {_fmt(pred.spacing)} vs {_fmt(ref.spacing)}")
    scale = float(np.max(sr)) if sr.size else 1.0
    if not np.allclose(pred.origin, ref.origin, rtol=0, atol=tolerance * scale):
        diffs.append(f"origin {_fmt(pred.origin)} vs {_fmt(ref.origin)} mm")
    if not np.allclose(pred.direction, ref.direction, rtol=0, atol=tolerance):
        diffs.append(f"direction {_fmt(pred.direction)} vs {_fmt(ref.direction)}")
    return diffs


def check_geometry(
    pred: Mask, ref: Mask, policy: GeometryPolicy = "strict", tolerance: float = 1e-3
) -> list[str]:
    """Raise GeometryError when the grids differ; return warnings under ``policy="warn"``.

    A shape mismatch is always an error. Spacing/origin/direction are compared only between
    formats that carry geometry (not PNG against NIfTI, say, where PNG has none).
    """
    if pred.array.shape != ref.array.shape:
        raise GeometryError(
            f"{pred.path} has shape {tuple(pred.array.shape)} but {ref.path} has "
            f"{tuple(ref.array.shape)}; masks must be on the same grid (or pass --geometry "
            "resample to put the prediction on the reference grid, nearest neighbour)"
        )
    if policy in ("ignore", "resample") or not (pred.has_geometry and ref.has_geometry):
        return []
    diffs = geometry_differences(pred, ref, tolerance)
    if not diffs:
        return []
    message = f"{pred.path} and {ref.path} differ in " + "; ".join(diffs)
    if policy == "warn":
        return [message]
    raise GeometryError(
        message + " (use --geometry warn or ignore if they are the same grid, "
        "or --geometry-tolerance)"
    )


def orientation_code(mask: Mask) -> str:
    """Anatomical axis codes in nibabel's RAS convention (``RAS``, ``LPS``...), '' for 2D images
    without geometry."""
    if not mask.has_geometry:
        return ""
    import nibabel as nib

    n = mask.ndim
    lps = np.eye(3)
    lps[:n, :n] = np.asarray(mask.direction, dtype=float).reshape(n, n)
    ras = np.diag([-1.0, -1.0, 1.0]) @ lps
    affine = np.eye(4)
    affine[:3, :3] = ras
    return "".join(c or "?" for c in nib.aff2axcodes(affine)[:n])


def reorient(mask: Mask, ref: Mask, tolerance: float = 1e-3) -> Mask | None:
    """``mask`` with its axes permuted and flipped onto ``ref``'s axis directions, when its grid
    is the same physical grid stored in another orientation (RAS against LPS, a transposed or
    flipped array); None when no permutation and flips match. Voxel values are only moved."""
    n = mask.ndim
    if n != ref.ndim or mask.array.ndim != n:
        return None
    source = np.asarray(mask.direction, dtype=float).reshape(n, n)
    target = np.asarray(ref.direction, dtype=float).reshape(n, n)
    match = target.T @ source  # [i, j]: cosine between ref axis i and mask axis j
    perm = np.argmax(np.abs(match), axis=1)
    if sorted(perm.tolist()) != list(range(n)):
        return None
    signs = np.sign(match[np.arange(n), perm])
    if not np.allclose(np.abs(match[np.arange(n), perm]), 1.0, atol=tolerance):
        return None
    array = _turn(mask.array, perm, signs)
    spacing = np.asarray(mask.spacing, dtype=float)[perm]
    origin = np.asarray(mask.origin, dtype=float).copy()
    for i in range(n):
        if signs[i] < 0:
            origin += (array.shape[i] - 1) * spacing[i] * source[:, perm[i]]
    direction = source[:, perm] * signs
    return replace(
        mask,
        array=array,
        spacing=tuple(float(v) for v in spacing),
        origin=tuple(float(v) for v in origin),
        direction=tuple(float(v) for v in direction.ravel()),
        segments=tuple(replace(s, array=_turn(s.array, perm, signs)) for s in mask.segments),
    )


def _turn(array: Any, perm: np.ndarray, signs: np.ndarray) -> Any:
    """Axes permuted by ``perm``, then flipped where ``signs`` is negative (views, no copy)."""
    turned = np.transpose(array, perm)
    return np.flip(turned, axis=tuple(int(i) for i in np.flatnonzero(signs < 0)))


def resample(mask: Mask, ref: Mask) -> Mask:
    """``mask`` resampled onto ``ref``'s grid by nearest neighbour (``--geometry resample``);
    voxels outside ``mask``'s extent become 0."""
    import SimpleITK as sitk

    def image(array: Any, grid: Mask) -> Any:
        values = np.asarray(array)
        values = values.view(np.uint8) if values.dtype == bool else values
        img = sitk.GetImageFromArray(np.ascontiguousarray(values.T))
        img.SetSpacing(grid.spacing)
        img.SetOrigin(grid.origin)
        img.SetDirection(grid.direction)
        return img

    def onto(array: Any) -> Any:
        moved = sitk.Resample(
            image(array, mask),
            image(np.zeros(ref.array.shape, np.uint8), ref),
            sitk.Transform(),
            sitk.sitkNearestNeighbor,
            0,
        )
        return sitk.GetArrayFromImage(moved).T

    segments = tuple(
        replace(s, array=onto(s.array.astype(np.uint8)).astype(bool)) for s in mask.segments
    )
    return replace(
        mask,
        array=onto(mask.array),
        spacing=ref.spacing,
        origin=ref.origin,
        direction=ref.direction,
        segments=segments,
    )


def align(pred: Mask, ref: Mask, policy: str, tolerance: float) -> tuple[Mask, Mask, list[str]]:
    """``pred`` and ``ref`` on one grid: ``pred`` reoriented when it is the same grid stored in
    another axis order or direction; a SEG on its own frames' grid (or a 3D Slicer segmentation
    cropped to its segments) embedded exactly in the other's grid (both, when each covers voxels
    the other lacks); ``pred`` resampled only under ``--geometry resample``. Returns the two
    masks and the warnings to show."""
    if (
        pred.has_geometry
        and ref.has_geometry
        and not np.allclose(pred.direction, ref.direction, rtol=0, atol=tolerance)
    ):
        pred = reorient(pred, ref, tolerance) or pred
    if pred.array.shape != ref.array.shape and PARTIAL_GRIDS & {pred.grid, ref.grid}:
        embedded = embed(pred, ref, tolerance)
        if embedded is not None:
            pred, ref = embedded
    if policy == "resample":
        if pred.array.shape == ref.array.shape and not geometry_differences(pred, ref, tolerance):
            return pred, ref, []
        return resample(pred, ref), ref, [f"{pred.path}: resampled onto the grid of {ref.path}"]
    return pred, ref, []


def embed(a: Mask, b: Mask, tolerance: float) -> tuple[Mask, Mask] | None:
    """Both masks on the smallest grid holding both, when they share spacing and direction and
    one's voxels fall exactly on the other's (integer offsets); None otherwise. Voxels are only
    copied, never interpolated; voxels a mask did not cover read 0 (outside every segment)."""
    n = a.array.ndim
    if n != b.array.ndim or n != a.ndim or n != b.ndim or not (a.has_geometry and b.has_geometry):
        return None
    if not np.allclose(a.spacing, b.spacing, rtol=tolerance, atol=0) or not np.allclose(
        a.direction, b.direction, rtol=0, atol=tolerance
    ):
        return None
    axes = np.asarray(b.direction, dtype=float).reshape(n, n) * np.asarray(b.spacing)
    offset = np.linalg.solve(axes, np.asarray(a.origin, float) - np.asarray(b.origin, float))
    steps = np.rint(offset).astype(int)
    if np.abs(offset - steps).max() > max(tolerance, 1e-6):
        return None
    low = np.minimum(0, steps)
    high = np.maximum(b.array.shape, steps + np.asarray(a.array.shape))
    return _pad(a, steps - low, high - low, b), _pad(b, -low, high - low, b)


def _pad(mask: Mask, start: Any, shape: Any, grid: Mask) -> Mask:
    """``mask`` placed at index ``start`` of a zero grid of ``shape`` on ``grid``'s axes."""
    if tuple(shape) == mask.array.shape and not np.any(start):
        return mask
    window = tuple(slice(int(s), int(s) + n) for s, n in zip(start, mask.array.shape, strict=True))

    def placed(array: Any) -> Any:
        out = np.zeros(tuple(int(v) for v in shape), dtype=array.dtype)
        out[window] = array
        return out

    n = mask.ndim
    axes = np.asarray(grid.direction, dtype=float).reshape(n, n) * np.asarray(grid.spacing)
    origin = np.asarray(mask.origin, float) - axes @ np.asarray(start, float)
    return replace(
        mask,
        array=placed(np.asarray(mask.array)),
        origin=tuple(float(v) for v in origin),
        segments=tuple(replace(s, array=placed(s.array)) for s in mask.segments),
    )
