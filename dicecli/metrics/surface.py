"""Boundary metrics: distances between the surfaces of two masks, in millimetres.

The surface of a mask is its voxels with a face neighbour outside the mask (or outside the image).
Directed distances go from each surface voxel of one mask to the nearest surface voxel of the other,
in physical units (index x spacing, so anisotropic voxels are exact). One set of distances per
region and case is reduced to the few numbers every surface metric needs (``SurfaceStats``).

Method, chosen by measurement (benchmarks/surface.py): crop both masks to the padded bounding box
of their union, extract the surfaces with shifted comparisons, then find each surface voxel's
nearest voxel of the other surface by trying neighbour offsets nearest first, with a k-d tree
(scipy's cKDTree) only for the few farther away. Shared surface voxels are at distance 0.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dicecli.metrics.nearest import indices, nearest_distances
from dicecli.metrics.topology import (
    EMPTY_TOPOLOGY,
    TopologyStats,
    topology_metrics,
    topology_stats,
)


@dataclass(frozen=True, slots=True)
class SurfaceStats:
    """What the surface metrics of one region in one case are computed from."""

    n_ref: float  # surface voxels of the reference (--surface surfel: its area, mm²)
    n_pred: float  # surface voxels of the prediction
    max_ref_to_pred: float
    max_pred_to_ref: float
    pct_ref_to_pred: float  # the --hd-percentile of each directed set
    pct_pred_to_ref: float
    pct_pooled: float  # the percentile of both sets together (medpy, seg-metrics)
    sum_ref_to_pred: float
    sum_pred_to_ref: float
    within_ref: float  # reference surface voxels within the NSD tolerance of the prediction's
    within_pred: float
    tolerance: float
    biou: float = math.nan  # boundary IoU, when a band was given
    #: skeletons and Betti numbers, when topology metrics were asked for
    topology: TopologyStats | None = None


def surface(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with a face neighbour outside it; the image border counts as outside."""
    interior = mask.copy()
    for axis in range(mask.ndim):
        lo = [slice(None)] * mask.ndim
        hi = [slice(None)] * mask.ndim
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        interior[tuple(lo)] &= mask[tuple(hi)]
        interior[tuple(hi)] &= mask[tuple(lo)]
        for edge in (0, -1):
            index = [slice(None)] * mask.ndim
            index[axis] = edge  # type: ignore[call-overload]
            interior[tuple(index)] = False
    return np.asarray(mask & ~interior)


def crop_box(ref: np.ndarray, pred: np.ndarray) -> tuple[slice, ...] | None:
    """The bounding box of ``ref | pred`` grown by one voxel (clipped to the image); None if both
    are empty. One full pass projects along the last axis; the last axis's extent is then read
    inside the box of the others only."""
    last = ref.ndim - 1
    projection: Any = np.any(ref, axis=last) | np.any(pred, axis=last)
    box = []
    for axis in range(projection.ndim):
        other = tuple(a for a in range(projection.ndim) if a != axis)
        hit = np.flatnonzero(np.any(projection, axis=other) if other else projection)
        if hit.size == 0:
            return None
        box.append(slice(max(int(hit[0]) - 1, 0), min(int(hit[-1]) + 2, ref.shape[axis])))
    inner = (*box, slice(None))
    column = ref[inner] | pred[inner]
    hit = np.flatnonzero(np.any(column, axis=tuple(range(last))))
    box.append(slice(max(int(hit[0]) - 1, 0), min(int(hit[-1]) + 2, ref.shape[last])))
    return tuple(box)


def boundary_band(mask: np.ndarray, width: float, sampling: tuple[float, ...]) -> np.ndarray:
    """The voxels of ``mask`` within ``width`` (in ``sampling``'s units) of a voxel outside it,
    the image border counting as outside (as for the surfaces): its inner boundary band."""
    from scipy.ndimage import distance_transform_edt

    padded = np.pad(mask, 1)
    inside = distance_transform_edt(padded, sampling=sampling)
    core = tuple(slice(1, -1) for _ in range(mask.ndim))
    return np.asarray(mask & (inside[core] <= width))


def boundary_iou(
    ref: np.ndarray, pred: np.ndarray, width: float, sampling: tuple[float, ...]
) -> float:
    """Boundary IoU (Cheng et al., CVPR 2021): the IoU of the two masks' inner boundary bands,
    the voxels in both bands over the voxels in either; NaN when both are empty."""
    a, b = boundary_band(ref, width, sampling), boundary_band(pred, width, sampling)
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else math.nan


def surface_stats(
    ref: np.ndarray,
    pred: np.ndarray,
    spacing: tuple[float, ...],
    percentile: float = 95.0,
    tolerance: float = 1.0,
    band: tuple[float, tuple[float, ...]] | None = None,
    topology: bool = False,
    surfel: bool = False,
) -> SurfaceStats:
    """Distances between the surfaces of two boolean masks of the same grid (``surfel``:
    between surface elements, weighted by area, ``metrics.surfels``); with ``band`` (width,
    sampling), their boundary IoU too; with ``topology``, skeletons and Betti numbers."""
    box = crop_box(ref, pred)
    if box is None:
        return dataclasses.replace(
            empty_stats(0, 0, tolerance), topology=EMPTY_TOPOLOGY if topology else None
        )
    ref_c, pred_c = ref[box], pred[box]
    # the crop keeps a layer of background wherever it is not the image border, so each
    # voxel's nearest outside voxel is inside it: the bands are those of the whole image
    biou = boundary_iou(ref_c, pred_c, *band) if band is not None else math.nan
    shape = topology_stats(ref_c, pred_c) if topology else None
    if surfel:
        return _surfel_stats(ref_c, pred_c, spacing, percentile, tolerance, biou, shape)
    ref_s, pred_s = surface(ref_c), surface(pred_c)
    n_ref, n_pred = int(np.count_nonzero(ref_s)), int(np.count_nonzero(pred_s))
    if n_ref == 0 or n_pred == 0:
        empty = empty_stats(n_ref, n_pred, tolerance)
        return dataclasses.replace(empty, biou=biou, topology=shape)
    scale = np.asarray(spacing, dtype=np.float64)

    points = {"ref": indices(ref_s), "pred": indices(pred_s)}

    def directed(a: str, b: np.ndarray, b_points: np.ndarray) -> np.ndarray:
        """Distance from each surface voxel of ``a`` to the surface ``b`` (0 where shared)."""
        away = ~b[tuple(points[a].T)]
        far = nearest_distances(points[a][away], b, scale, b_points)
        return np.concatenate([np.zeros(away.size - int(np.count_nonzero(away))), far])

    d_rp = directed("ref", pred_s, points["pred"])
    d_pr = directed("pred", ref_s, points["ref"])
    return SurfaceStats(
        n_ref,
        n_pred,
        float(d_rp.max()),
        float(d_pr.max()),
        float(np.percentile(d_rp, percentile)),
        float(np.percentile(d_pr, percentile)),
        float(np.percentile(np.concatenate([d_rp, d_pr]), percentile)),
        float(d_rp.sum()),
        float(d_pr.sum()),
        int(np.count_nonzero(d_rp <= tolerance)),
        int(np.count_nonzero(d_pr <= tolerance)),
        tolerance,
        biou,
        shape,
    )


def _surfel_stats(
    ref: np.ndarray,
    pred: np.ndarray,
    spacing: tuple[float, ...],
    percentile: float,
    tolerance: float,
    biou: float,
    shape: TopologyStats | None,
) -> SurfaceStats:
    from dicecli.metrics.surfels import surfel_distances, weighted_percentile

    d_rp, a_r, d_pr, a_p = surfel_distances(ref, pred, spacing)
    n_ref, n_pred = float(a_r.sum()), float(a_p.sum())
    if not d_rp.size or not d_pr.size:
        empty = empty_stats(n_ref, n_pred, tolerance)
        return dataclasses.replace(empty, biou=biou, topology=shape)
    both, weights = np.concatenate([d_rp, d_pr]), np.concatenate([a_r, a_p])
    return SurfaceStats(
        n_ref,
        n_pred,
        float(d_rp.max()),
        float(d_pr.max()),
        weighted_percentile(d_rp, a_r, percentile),
        weighted_percentile(d_pr, a_p, percentile),
        weighted_percentile(both, weights, percentile),
        float(np.dot(d_rp, a_r)),
        float(np.dot(d_pr, a_p)),
        float(a_r[d_rp <= tolerance].sum()),
        float(a_p[d_pr <= tolerance].sum()),
        tolerance,
        biou,
        shape,
    )


def empty_stats(n_ref: float, n_pred: float, tolerance: float) -> SurfaceStats:
    nan = math.nan
    return SurfaceStats(n_ref, n_pred, nan, nan, nan, nan, nan, nan, nan, 0, 0, tolerance)


def surface_metrics(
    stats: SurfaceStats,
    hd95_mode: str = "max",
    empty_distance: float = math.nan,
    empty_nsd: float = math.nan,
) -> dict[str, Any]:
    """hd, hd95, assd, masd and nsd from the stats; ``empty_distance`` when either surface is
    empty, and NSD ``empty_nsd`` when both are (0 when only one is)."""
    biou = stats.biou
    both_empty = stats.n_ref == stats.n_pred == 0
    if both_empty:
        biou = empty_nsd  # both empty: --empty, as Dice
    shape = stats.topology or (EMPTY_TOPOLOGY if both_empty else None)
    topology = (
        topology_metrics(shape, empty_nsd)
        if shape is not None
        else dict.fromkeys(TOPOLOGY, math.nan)
    )
    if stats.n_ref == 0 or stats.n_pred == 0:
        nsd = empty_nsd if both_empty else 0.0
        return dict.fromkeys(DISTANCES, empty_distance) | {"nsd": nsd, "biou": biou} | topology
    n = stats.n_ref + stats.n_pred
    pct = (
        stats.pct_pooled
        if hd95_mode == "pooled"
        else max(stats.pct_ref_to_pred, stats.pct_pred_to_ref)
    )
    return {
        "hd": max(stats.max_ref_to_pred, stats.max_pred_to_ref),
        "hd95": pct,
        "assd": (stats.sum_ref_to_pred + stats.sum_pred_to_ref) / n,
        "masd": (stats.sum_ref_to_pred / stats.n_ref + stats.sum_pred_to_ref / stats.n_pred) / 2,
        "nsd": (stats.within_ref + stats.within_pred) / n,
        "hd_rp": stats.max_ref_to_pred,
        "hd_pr": stats.max_pred_to_ref,
        "hd95_rp": stats.pct_ref_to_pred,
        "hd95_pr": stats.pct_pred_to_ref,
        "biou": biou,
        **topology,
    }


#: The topology metrics (``metrics.topology``), computed in the surface pass's crop.
TOPOLOGY = ("cldice", "betti0_error", "betti1_error")


#: The distances ``surface_metrics`` gives (``--empty-distance`` where a surface is empty).
DISTANCES = ("hd", "hd95", "assd", "masd", "hd_rp", "hd_pr", "hd95_rp", "hd95_pr")


def region_surfaces(
    ref: np.ndarray,
    pred: np.ndarray,
    matches: Any,
    spacing: tuple[float, ...],
    percentile: float,
    tolerance: Any,
    ignore: int | None = None,
    band: tuple[float, tuple[float, ...]] | None = None,
    topology: bool = False,
    surfel: bool = False,
) -> dict[str, SurfaceStats]:
    """Surface statistics of each structure of two label maps (``Match``: its values on each
    side; ``tolerance(match)`` gives its NSD tolerance); reference voxels equal to ``ignore``
    are left out of both masks."""
    if not any(0 in m.ref or 0 in m.pred for m in matches):
        # every region lies inside the foreground: compare labels only in its bounding box
        box = crop_box(ref != 0, pred != 0)
        if box is not None:
            ref, pred = ref[box], pred[box]
    keep = ref != ignore if ignore is not None else None
    out = {}
    for match in matches:
        r, p = member(ref, match.ref), member(pred, match.pred)
        if keep is not None:
            r &= keep
            p &= keep
        out[match.key] = surface_stats(
            r, p, spacing, percentile, tolerance(match), band, topology, surfel
        )
    return out


def member(labels: np.ndarray, values: tuple[int, ...]) -> np.ndarray:
    """Voxels holding any of ``values`` (none for no values)."""
    if not values:
        return np.zeros(labels.shape, dtype=bool)
    mask = labels == values[0]
    for v in values[1:]:
        mask |= labels == v
    return np.asarray(mask)
