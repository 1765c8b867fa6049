"""Surfel surfaces (``--surface surfel``): DeepMind surface-distance's convention.

Every 2×2(×2) block of voxels holding both foreground and background (the image border counting
as background) carries a piece of the marching-cubes surface (marching squares in 2-D): a
surface element, placed at the block's centre (a grid shifted by half a voxel), weighted by its
area in mm² (length in mm in 2-D) on the case's spacing. Distances run between the element
centres; every statistic is weighted by the elements' areas: ASSD and MASD are area-weighted
means, the percentile distance is the first distance whose cumulative area reaches the
percentile, NSD is the share of the total area within the tolerance.

The area table is built here from the marching-cubes triangles at edge midpoints (Lorensen's
table, scikit-image), a block with more than four voxels set taking its complement's
triangles -- the same surface seen from the other side. It equals surface-distance 0.1's
table for every block and spacing (a peer test).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np


@functools.cache
def _triangles() -> tuple[np.ndarray, ...]:
    """Per 3-D block code (voxel (a, b, c) of the block is bit 7 - (4a + 2b + c)): the area
    vectors (half the cross product) of its marching-cubes triangles in voxel units."""
    from skimage.measure import marching_cubes

    out = []
    for code in range(256):
        solid = code if bin(code).count("1") <= 4 else 255 - code
        if solid in (0, 255):
            out.append(np.zeros((0, 3)))
            continue
        block = np.zeros((2, 2, 2), np.float32)
        for a, b, c in itertools.product((0, 1), repeat=3):
            block[a, b, c] = (solid >> (7 - (4 * a + 2 * b + c))) & 1
        verts, faces, _, _ = marching_cubes(block, 0.5, method="lorensen", allow_degenerate=True)
        tri = verts[faces]
        out.append(0.5 * np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]))
    return tuple(out)


def _segments() -> tuple[tuple[tuple[float, float], ...], ...]:
    """Per 2-D block code (pixel (a, b) is bit 3 - (2a + b)): its marching-squares segments'
    extents (d0, d1) in pixel units, between the midpoints of the edges it crosses."""
    corners = [(0, 0), (0, 1), (1, 0), (1, 1)]
    edges = {  # edge -> its midpoint, between the two corners it joins
        (0, 1): (0.0, 0.5),
        (2, 3): (1.0, 0.5),
        (0, 2): (0.5, 0.0),
        (1, 3): (0.5, 1.0),
    }
    out = []
    for code in range(16):
        on = [(code >> (3 - (2 * a + b))) & 1 for a, b in corners]
        mids = [m for (i, j), m in edges.items() if on[i] != on[j]]
        if len(mids) == 2:
            pairs = [(mids[0], mids[1])]
        elif len(mids) == 4:  # a saddle: two segments, each cutting one corner off
            pairs = [(edges[(0, 1)], edges[(0, 2)]), (edges[(2, 3)], edges[(1, 3)])]
        else:
            pairs = []
        out.append(tuple((abs(p[0] - q[0]), abs(p[1] - q[1])) for p, q in pairs))
    return tuple(out)


def element_sizes(spacing: tuple[float, ...]) -> np.ndarray:
    """Area (mm², 3-D) or length (mm, 2-D) of the surface in each block code on ``spacing``."""
    s = np.asarray(spacing, dtype=np.float64)
    if len(s) == 2:
        return np.array(
            [sum(math.hypot(d0 * s[0], d1 * s[1]) for d0, d1 in seg) for seg in _segments()]
        )
    scale = np.array([s[1] * s[2], s[0] * s[2], s[0] * s[1]])  # how each face's area scales
    return np.array([float(np.linalg.norm(n * scale, axis=1).sum()) for n in _triangles()])


def block_codes(mask: np.ndarray) -> np.ndarray:
    """The code of every 2×2(×2) block of ``mask`` (one smaller along each axis)."""
    ndim = mask.ndim
    n = mask.shape
    codes = np.zeros(tuple(k - 1 for k in n), dtype=np.uint8)
    for offset in itertools.product((0, 1), repeat=ndim):
        bit = (2**ndim - 1) - sum(o << (ndim - 1 - i) for i, o in enumerate(offset))
        view = mask[tuple(slice(o, k - 1 + o) for o, k in zip(offset, n, strict=True))]
        codes |= view.astype(np.uint8) << np.uint8(bit)
    return codes


def weighted_percentile(distances: np.ndarray, weights: np.ndarray, percentile: float) -> float:
    """The first distance (ascending) whose cumulative weight reaches ``percentile`` % of the
    total (surface-distance's ``compute_robust_hausdorff``)."""
    order = np.argsort(distances, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative / cumulative[-1], percentile / 100.0))
    return float(distances[order][min(index, len(order) - 1)])


def surfel_distances(
    ref: np.ndarray, pred: np.ndarray, spacing: tuple[float, ...]
) -> tuple[np.ndarray, ...]:
    """(distances ref→pred, ref areas, distances pred→ref, pred areas) over the surface
    elements of two cropped boolean masks; no distances when either has no surface."""
    from dicecli.metrics.nearest import indices, nearest_distances

    r, p = np.pad(ref, 1), np.pad(pred, 1)  # the image border counts as background
    code_r, code_p = block_codes(r), block_codes(p)
    full = np.uint8(255 if ref.ndim == 3 else 15)
    edge_r = (code_r != 0) & (code_r != full)
    edge_p = (code_p != 0) & (code_p != full)
    sizes = element_sizes(spacing)
    areas_r, areas_p = sizes[code_r[edge_r]], sizes[code_p[edge_p]]
    if not areas_r.size or not areas_p.size:
        return np.zeros(0), areas_r, np.zeros(0), areas_p
    scale = np.asarray(spacing, dtype=np.float64)
    points_r, points_p = indices(edge_r), indices(edge_p)

    def directed(points: np.ndarray, target: np.ndarray, target_points: np.ndarray) -> np.ndarray:
        out = np.zeros(len(points))
        away = ~target[tuple(points.T)]
        out[away] = nearest_distances(points[away], target, scale, target_points)
        return out

    d_rp = directed(points_r, edge_p, points_p)
    d_pr = directed(points_p, edge_r, points_r)
    return d_rp, areas_r, d_pr, areas_p
