"""Do a prediction and its reference share a grid? Nothing is ever resampled."""

from __future__ import annotations

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
    if policy == "ignore" or "raster" in (pred.format, ref.format):
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
