"""Do a prediction and its reference share a grid? Nothing is ever resampled."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from dicecli.errors import GeometryError
from dicecli.models import GeometryPolicy, Mask


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
            f"{tuple(ref.array.shape)}; masks must be on the same grid (dicecli never resamples)"
        )
    if policy in ("ignore", "resample") or "raster" in (pred.format, ref.format):
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
    if mask.format == "raster":
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
    return Mask(
        array,
        tuple(float(v) for v in spacing),
        tuple(float(v) for v in origin),
        tuple(float(v) for v in direction.ravel()),
        mask.path,
        mask.format,
        mask.meta,
        mask.warnings,
        tuple(replace(s, array=_turn(s.array, perm, signs)) for s in mask.segments),
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
    return Mask(
        onto(mask.array),
        ref.spacing,
        ref.origin,
        ref.direction,
        mask.path,
        mask.format,
        mask.meta,
        mask.warnings,
        segments,
    )


def align(pred: Mask, ref: Mask, policy: str, tolerance: float) -> tuple[Mask, list[str]]:
    """``pred`` on ``ref``'s grid: reoriented when it is the same grid stored in another axis
    order or direction, resampled only under ``--geometry resample``."""
    if policy == "resample":
        if pred.array.shape == ref.array.shape and not geometry_differences(pred, ref, tolerance):
            return pred, []
        return resample(pred, ref), [f"{pred.path}: resampled onto the grid of {ref.path}"]
    if "raster" in (pred.format, ref.format):
        return pred, []
    same_axes = np.allclose(pred.direction, ref.direction, rtol=0, atol=tolerance)
    if same_axes:
        return pred, []
    turned = reorient(pred, ref, tolerance)
    if turned is None:
        return pred, []
    return turned, []
