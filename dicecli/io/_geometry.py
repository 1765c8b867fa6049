"""Convert reader-specific geometry (a NIfTI RAS affine, ITK's LPS direction) into Mask fields."""

from __future__ import annotations

from typing import Any

import numpy as np


def from_ras_affine(affine: Any, ndim: int) -> tuple[tuple[float, ...], ...]:
    """Spacing, LPS origin and LPS direction (row-major, columns are axes) of a 4x4 RAS affine."""
    a = np.asarray(affine, dtype=np.float64)
    lps = np.diag([-1.0, -1.0, 1.0]) @ a[:3, :4]
    linear = lps[:, :3]
    spacing = np.linalg.norm(linear, axis=0)
    direction = linear / np.where(spacing == 0, 1.0, spacing)
    origin = lps[:, 3]
    return (
        tuple(float(v) for v in spacing[:ndim]),
        tuple(float(v) for v in origin[:ndim]),
        tuple(float(v) for v in direction[:ndim, :ndim].ravel()),
    )


def identity(ndim: int) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Unit spacing, zero origin and identity direction, for formats without geometry (PNG)."""
    return (
        (1.0,) * ndim,
        (0.0,) * ndim,
        tuple(float(v) for v in np.eye(ndim).ravel()),
    )
