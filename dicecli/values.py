"""How a mask's voxel values become a label map or a probability map under the run's options."""

from __future__ import annotations

from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.models import Mask

_CHUNK = 1 << 20


def label_map(mask: Mask, threshold: float | None = None, binarise: bool = False) -> Any:
    """Integer labels of ``mask``.

    With ``threshold`` T, floating-point masks (and every mask when ``binarise``) become
    ``value > T``. Floating-point masks that hold only whole numbers are label maps saved as floats
    and are cast back; any other float mask needs ``--threshold`` or ``--soft``.
    """
    a: Any = mask.array
    if a.dtype.kind == "f":
        check_finite(mask)
    if threshold is not None and (binarise or a.dtype.kind == "f"):
        return (a > threshold).view(np.uint8)
    if a.dtype.kind == "b":
        return a.view(np.uint8)
    if a.dtype.kind in "iu":
        return a
    if a.dtype.kind != "f":
        raise MaskReadError(f"{mask.path}: voxels of type {a.dtype} cannot hold labels")
    if not _whole_numbers(a):
        lo, hi = np.nanmin(a), np.nanmax(a)
        raise MaskReadError(
            f"{mask.path}: holds non-integer values ({a.dtype}, {lo:.4g} to {hi:.4g}); pass "
            "--threshold T to binarise it or --soft for soft Dice"
        )
    return _smallest_int(a, mask.path)


def probability_map(mask: Mask) -> Any:
    """Probabilities in [0, 1] for soft Dice; integer 0/1 masks are valid probabilities."""
    a = mask.array
    if a.dtype.kind == "f":
        check_finite(mask)
    lo, hi = float(np.min(a)), float(np.max(a))
    if not (lo >= 0.0 and hi <= 1.0):
        raise MaskReadError(
            f"{mask.path}: --soft needs probabilities in [0, 1] but values run from {lo:.4g} to "
            f"{hi:.4g}; rescale the prediction or drop --soft"
        )
    return a


def check_finite(mask: Mask) -> None:
    """Refuse NaN and infinite voxels: neither is a label, a probability or background."""
    flat = mask.array.ravel(order="K")
    nan = inf = 0
    for s in range(0, flat.size, _CHUNK):
        c = flat[s : s + _CHUNK]
        bad = ~np.isfinite(c)
        if bad.any():
            n = int(np.count_nonzero(np.isnan(c)))
            nan += n
            inf += int(np.count_nonzero(bad)) - n
    if nan or inf:
        what = " and ".join(
            text
            for text in (f"{nan:,} NaN" if nan else "", f"{inf:,} infinite" if inf else "")
            if text
        )
        raise MaskReadError(
            f"{mask.path}: {what} voxel value(s) of {flat.size:,}; a mask must hold finite "
            "values (NaN is not background) -- fix the export"
        )


def _whole_numbers(a: Any) -> bool:
    flat = a.ravel(order="K")
    for s in range(0, flat.size, _CHUNK):
        c = flat[s : s + _CHUNK]
        if not np.array_equal(c, np.trunc(c)):  # NaN and inf fail here too
            return False
    return True


def _smallest_int(a: Any, path: str) -> Any:
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    for dtype in (np.uint8, np.uint16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return a.astype(dtype, order="K")
    raise MaskReadError(f"{path}: label values {lo:g} to {hi:g} do not fit a 64-bit integer")
