"""Connected components of sparse masks (lesions): one pass over the volume finds the voxels of
either mask, then only those voxels are touched -- components are the connected components of
their neighbour graph (``scipy.sparse.csgraph``), with each component's size, centroid and
bounding box. Work in proportion to the lesion voxels, never to the volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


def offsets(ndim: int, connectivity: int | None) -> np.ndarray:
    """Half of the neighbour offsets (each edge once): faces (6 / 4), faces and edges (18), or
    every neighbour (26 / 8, the default). 6 reads as 4 and 18 or 26 as 8 in 2D; 4 as 6 and 8 as
    26 in 3D."""
    if ndim == 2:
        most = {None: 2, 4: 1, 6: 1, 8: 2, 18: 2, 26: 2}[connectivity]
    else:
        most = {None: 3, 4: 1, 6: 1, 8: 3, 18: 2, 26: 3}[connectivity]
    steps = np.array(np.meshgrid(*[[-1, 0, 1]] * ndim, indexing="ij")).reshape(ndim, -1).T
    nonzero = np.count_nonzero(steps, axis=1)
    steps = steps[(nonzero > 0) & (nonzero <= most)]
    first = steps[np.arange(len(steps)), np.argmax(steps != 0, axis=1)]
    return np.asarray(steps[first > 0])  # the first non-zero step positive: one of each pair


def components(
    coords: np.ndarray,
    shape: tuple[int, ...],
    connectivity: int | None,
    order: Literal["C", "F"] = "C",
) -> np.ndarray:
    """Connected component ids (1..n) of the voxels at ``coords`` (rows sorted by flat index in
    ``order``), found as the connected components of their neighbour graph
    (``scipy.sparse.csgraph``): work in proportion to the lesion voxels, never to the volume."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(coords)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    flat = np.ravel_multi_index(coords.T, shape, order=order)
    rows, cols = [], []
    for step in offsets(len(shape), connectivity):
        other = coords + step
        inside = np.all((other >= 0) & (other < np.asarray(shape)), axis=1)
        target = np.ravel_multi_index(other[inside].T, shape, order=order)
        j = np.searchsorted(flat, target)
        j[j == n] = 0
        hit = flat[j] == target
        rows.append(np.flatnonzero(inside)[hit])
        cols.append(j[hit])
    i, j = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # number the components in the order of their first voxel (as a raster scan would)
    first = np.full(labels.max() + 1, n)
    np.minimum.at(first, labels, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(1, len(first) + 1)
    return np.asarray(rank[labels], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Parts:
    """The components of one side over the voxels of either mask (``coords``): each voxel's
    component id (0: not in this side, or dropped for its size), and per component (index 0
    unused) its voxel count, centroid and bounding box in array indices."""

    ids: np.ndarray
    coords: np.ndarray
    n: int
    sizes: np.ndarray
    centroids: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def crop(self, box: tuple[slice, ...]) -> np.ndarray:
        """The component ids inside ``box`` as an array of its shape (0 elsewhere)."""
        lo = np.array([b.start for b in box])
        hi = np.array([b.stop for b in box])
        inside = (self.ids > 0) & np.all((self.coords >= lo) & (self.coords < hi), axis=1)
        out = np.zeros(tuple(hi - lo), dtype=np.int64)
        out[tuple((self.coords[inside] - lo).T)] = self.ids[inside]
        return out

    def mask(self, k: int, box: tuple[slice, ...]) -> np.ndarray:
        return np.asarray(self.crop(box) == k)


def flat_bytes(mask: np.ndarray, order: Literal["C", "F"]) -> np.ndarray:
    """The mask's bytes in ``order``: a view when it is stored that way (no copy)."""
    return np.asarray(mask).ravel(order=order).view(np.uint8)


def foreground(ref: np.ndarray, pred: np.ndarray, order: Literal["C", "F"]) -> np.ndarray:
    """Flat indices (in ``order``) of the voxels in either mask: one pass over 8-byte words,
    then only the non-zero words are looked at (masks of small lesions are mostly zeros)."""
    a, b = flat_bytes(ref, order), flat_bytes(pred, order)
    n = a.size - a.size % 8
    words = np.flatnonzero(a[:n].view(np.uint64) | b[:n].view(np.uint64))
    candidates = np.concatenate([(words[:, None] * 8 + np.arange(8)).ravel(), np.arange(n, a.size)])
    return np.asarray(candidates[(a[candidates] | b[candidates]) != 0])


def parts(
    side: np.ndarray,
    coords: np.ndarray,
    shape: tuple[int, ...],
    connectivity: int | None,
    limit: float,
    order: Literal["C", "F"],
) -> Parts:
    """Components of the voxels where ``side`` is true, smaller ones than ``limit`` dropped."""
    lab = np.zeros(len(coords), dtype=np.int64)
    lab[side] = components(coords[side], shape, connectivity, order)
    n = int(lab.max(initial=0))
    sizes = np.bincount(lab, minlength=n + 1)
    keep = sizes >= max(limit, 1)
    keep[0] = False
    mapping = np.zeros(n + 1, dtype=np.int64)
    mapping[keep] = np.arange(1, int(keep.sum()) + 1)
    lab = mapping[lab]
    m = int(keep.sum())
    sizes = np.bincount(lab, minlength=m + 1)
    ndim = coords.shape[1]
    centroids = np.zeros((m + 1, ndim))
    low = np.full((m + 1, ndim), np.iinfo(np.int64).max)
    high = np.full((m + 1, ndim), -1)
    for d in range(ndim):
        centroids[:, d] = np.bincount(lab, weights=coords[:, d], minlength=m + 1)
        np.minimum.at(low[:, d], lab, coords[:, d])
        np.maximum.at(high[:, d], lab, coords[:, d] + 1)
    centroids /= np.maximum(sizes, 1)[:, None]
    return Parts(lab, coords, m, sizes, centroids, low, high)
