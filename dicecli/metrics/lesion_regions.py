"""Each reference lesion's own region (the voxels nearer to it than to any other reference
lesion, in millimetres: its Voronoi cell) and the prediction's Dice inside it -- per-lesion Dice
that a large lesion cannot drown and a neighbour's false positives do not touch (Jaus et al.,
"Every Component Counts", CC-Metrics, 2024).

Only the voxels of either mask are visited: a predicted voxel inside a reference lesion belongs
to it; one outside every lesion to the lesion of its nearest reference voxel, which is always a
boundary voxel of the reference (a k-d tree of those, scipy).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from dicecli.metrics.components import Parts


def region_dice(
    r: Parts,
    p: Parts,
    at: np.ndarray,
    shape: tuple[int, ...],
    spacing: tuple[float, ...],
    order: Literal["C", "F"],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per reference component (index 0 unused): voxels of the prediction's kept components
    in it, in its region, and its voxels -- the three sums a (merged) lesion's Dice is built
    from: 2 * inside / (size + region)."""
    from scipy.spatial import cKDTree

    pred = p.ids > 0
    ids = r.ids
    inside = np.bincount(ids[pred & (ids > 0)], minlength=r.n + 1)
    owner = ids[pred].copy()
    outside = owner == 0
    if outside.any() and r.n:
        edge = _boundary(at, ids > 0, shape, order)
        tree = cKDTree(r.coords[edge] * np.asarray(spacing))
        points = r.coords[pred][outside] * np.asarray(spacing)
        _, nearest = tree.query(points)
        owner[outside] = ids[edge][nearest]
    region = np.bincount(owner, minlength=r.n + 1)
    return inside, region, r.sizes


def _boundary(
    at: np.ndarray, member: np.ndarray, shape: tuple[int, ...], order: Literal["C", "F"]
) -> np.ndarray:
    """Which voxels of ``member`` (over the sorted flat indices ``at``) miss a face neighbour
    in it. A neighbour across the image border wraps to another row and may be taken as a
    member: such voxels can only be left out where no point inside the image is nearer to
    them than to a true boundary voxel, so every nearest voxel is kept."""
    flat = at[member]
    dims = shape if order == "F" else shape[::-1]
    strides = np.cumprod((1, *dims[:-1]))
    interior = np.ones(flat.size, dtype=bool)
    for stride in strides:
        for step in (-int(stride), int(stride)):
            where = np.searchsorted(flat, flat + step)
            found = where < flat.size
            found[found] = flat[where[found]] == flat[found] + step
            interior &= found
    out = np.zeros(at.size, dtype=bool)
    out[np.flatnonzero(member)[~interior]] = True
    return out
