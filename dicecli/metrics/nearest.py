"""The exact nearest true voxel of a mask for a set of voxel indices, in millimetres: the
distance search behind every surface metric (voxel surfaces and surfels alike)."""

from __future__ import annotations

import numpy as np


def nearest_distances(
    points: np.ndarray,
    target: np.ndarray,
    scale: np.ndarray,
    target_points: np.ndarray | None = None,
    reach: float = 4.0,
) -> np.ndarray:
    """Exact distance (mm) from each voxel index in ``points`` to the nearest true voxel of
    ``target``.

    Most surface voxels have a voxel of the other surface a step or two away: the voxel offsets
    within ``reach`` x the largest spacing are tried nearest first (one gather each, over the
    points not yet resolved), so the first hit is the exact nearest. The few points farther away
    go to a k-d tree. About 5x faster than querying the tree for every point.
    """
    from scipy.spatial import cKDTree

    out = np.full(len(points), np.inf)
    if not len(points):
        return out
    # at most ~3000 offsets, whatever the anisotropy: each costs one pass over the points left
    cap = (3000 * float(np.prod(scale)) * 3 / (4 * np.pi)) ** (1 / len(scale))
    radius = min(reach * float(scale.max()), cap)
    steps = np.floor(radius / scale).astype(int)
    grid = np.stack(np.meshgrid(*(np.arange(-s, s + 1) for s in steps), indexing="ij"), -1)
    offsets = grid.reshape(-1, target.ndim)
    lengths = np.sqrt(((offsets * scale) ** 2).sum(axis=1))
    keep = lengths <= radius
    order = np.argsort(lengths[keep], kind="stable")
    offsets, lengths = offsets[keep][order], lengths[keep][order]
    padded = np.pad(target, [(s, s) for s in steps])
    flat = padded.ravel()
    base = np.ravel_multi_index(tuple((points + steps).T), padded.shape)
    deltas = np.ravel_multi_index(tuple((offsets + steps).T), padded.shape) - np.ravel_multi_index(
        tuple(steps), padded.shape
    )
    remaining = np.arange(len(points))
    for delta, length in zip(deltas[1:], lengths[1:], strict=True):  # [0] is the point itself
        hit = flat[base + delta]
        if np.count_nonzero(hit):
            out[remaining[hit]] = length
            miss = ~hit
            remaining, base = remaining[miss], base[miss]
            if not remaining.size:
                return out
    if target_points is None:
        target_points = indices(target)
    tree = cKDTree(target_points * scale, balanced_tree=False, compact_nodes=False)
    far, _ = tree.query(points[remaining] * scale, k=1)
    out[remaining] = far
    return out


def indices(mask: np.ndarray) -> np.ndarray:
    """(n, ndim) indices of the true voxels; 3x faster than np.argwhere on a cropped mask."""
    return np.column_stack(np.unravel_index(np.flatnonzero(mask), mask.shape))
