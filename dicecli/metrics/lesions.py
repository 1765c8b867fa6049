"""Lesion-wise (instance) evaluation of one binary structure: connected components of the
reference and the prediction, matched one-to-one by IoU or BraTS-style by overlap.

Pure array code on the host: nothing here does I/O. One pass over the volume finds the voxels of
either mask; everything else works on those voxels only: components are the connected components
of their neighbour graph (scipy.sparse.csgraph), the overlaps of every pair of components come
from one histogram of (reference component, prediction component) pairs, and dilations and
distances run on each lesion's own box -- never a loop over lesion pairs over the volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dicecli.models import EmptyPolicy

Side = Literal["reference", "prediction"]
_EMPTY = {"nan": math.nan, "one": 1.0, "zero": 0.0}


@dataclass(frozen=True, slots=True)
class LesionSettings:
    """``--lesion-*`` options. ``connectivity`` None: full (26 in 3D, 8 in 2D)."""

    connectivity: int | None = None
    min_size: float = 0.0
    min_size_mm3: bool = False
    match: Literal["iou", "overlap"] = "iou"
    iou_threshold: float = 0.5
    strict: bool = False
    dilation: int = 0
    missed_distance: float = 374.0
    hd95: bool = False
    percentile: float = 95.0


@dataclass(frozen=True, slots=True)
class Lesion:
    """One connected component, with what it was matched to."""

    side: Side
    id: int
    voxels: int
    volume_ml: float
    centroid_mm: tuple[float, ...]
    bbox: tuple[int, ...]  # low corner then high corner (exclusive), array indices
    match_ids: tuple[int, ...]
    iou: float
    dice: float
    status: Literal["TP", "FN", "FP", "dropped"]


@dataclass(frozen=True, slots=True)
class LesionResult:
    """Lesion-wise counts and scores of one structure in one case."""

    n_ref: int
    n_pred: int
    tp: int
    fp: int
    fn: int
    f1: float
    sq: float
    pq: float
    dice: float
    hd95: float
    lesions: tuple[Lesion, ...]


def parse_match(spec: str) -> tuple[Literal["iou", "overlap"], float, bool]:
    """``iou:0.5`` (IoU >= 0.5), ``iou>0.5`` (strictly above), or ``overlap``."""
    from dicecli.errors import UsageError

    text = spec.strip().lower()
    if text == "overlap":
        return "overlap", 0.0, False
    for sep, strict in ((":", False), (">=", False), (">", True)):
        if text.startswith("iou" + sep):
            try:
                value = float(text[3 + len(sep) :])
            except ValueError:
                break
            if 0 <= value <= 1:
                return "iou", value, strict
            break
    raise UsageError(f"--lesion-match {spec}: write iou:T, iou>T (T in [0, 1]) or overlap")


def _offsets(ndim: int, connectivity: int | None) -> np.ndarray:
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
    for step in _offsets(len(shape), connectivity):
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
class _Parts:
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


def _flat(mask: np.ndarray, order: Literal["C", "F"]) -> np.ndarray:
    """The mask's bytes in ``order``: a view when it is stored that way (no copy)."""
    return np.asarray(mask).ravel(order=order).view(np.uint8)


def _foreground(ref: np.ndarray, pred: np.ndarray, order: Literal["C", "F"]) -> np.ndarray:
    """Flat indices (in ``order``) of the voxels in either mask: one pass over 8-byte words,
    then only the non-zero words are looked at (masks of small lesions are mostly zeros)."""
    a, b = _flat(ref, order), _flat(pred, order)
    n = a.size - a.size % 8
    words = np.flatnonzero(a[:n].view(np.uint64) | b[:n].view(np.uint64))
    candidates = np.concatenate([(words[:, None] * 8 + np.arange(8)).ravel(), np.arange(n, a.size)])
    return np.asarray(candidates[(a[candidates] | b[candidates]) != 0])


def _parts(
    side: np.ndarray,
    coords: np.ndarray,
    shape: tuple[int, ...],
    settings: LesionSettings,
    limit: float,
    order: Literal["C", "F"],
) -> _Parts:
    """Components of the voxels where ``side`` is true, smaller ones than ``limit`` dropped."""
    lab = np.zeros(len(coords), dtype=np.int64)
    lab[side] = components(coords[side], shape, settings.connectivity, order)
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
    return _Parts(lab, coords, m, sizes, centroids, low, high)


def evaluate_lesions(
    ref: np.ndarray,
    pred: np.ndarray,
    spacing: tuple[float, ...],
    origin: tuple[float, ...],
    direction: tuple[float, ...],
    settings: LesionSettings,
    empty: EmptyPolicy = "nan",
) -> LesionResult:
    """Lesion-wise evaluation of two boolean masks on one grid."""
    # the order the reference is stored in (NIfTI: Fortran), so that nothing is copied
    order: Literal["C", "F"] = "F" if ref.flags.f_contiguous and not ref.flags.c_contiguous else "C"
    at = _foreground(ref, pred, order)
    if at.size == 0:
        nan = _EMPTY[empty]
        return LesionResult(0, 0, 0, 0, 0, nan, nan, nan, nan, math.nan, ())
    shape = tuple(int(n) for n in ref.shape)
    coords = np.stack(np.unravel_index(at, shape, order=order), axis=1)
    in_ref = _flat(ref, order)[at] != 0
    in_pred = _flat(pred, order)[at] != 0
    voxel_mm3 = float(np.prod(spacing))
    limit = settings.min_size / voxel_mm3 if settings.min_size_mm3 else settings.min_size
    geometry = (spacing, origin, direction, voxel_mm3, shape)
    if settings.match == "overlap":  # as BraTS: small reference lesions only, after merging
        r = _parts(in_ref, coords, shape, settings, 0, order)
        p = _parts(in_pred, coords, shape, settings, 0, order)
        return _overlap_rule(r, p, geometry, settings, empty, limit)
    r = _parts(in_ref, coords, shape, settings, limit, order)
    p = _parts(in_pred, coords, shape, settings, limit, order)
    return _iou_rule(r, p, geometry, settings, empty)


def _overlaps(r: _Parts, p: _Parts) -> np.ndarray:
    """``[i, j]``: voxels in reference component i and prediction component j (0: outside),
    from one histogram over the voxels of either mask."""
    codes = r.ids * (p.n + 1) + p.ids
    return np.bincount(codes, minlength=(r.n + 1) * (p.n + 1)).reshape(r.n + 1, p.n + 1)


def _box(
    low: np.ndarray, high: np.ndarray, shape: tuple[int, ...], margin: int = 0
) -> tuple[slice, ...]:
    return tuple(
        slice(max(int(lo) - margin, 0), min(int(hi) + margin, n))
        for lo, hi, n in zip(low, high, shape, strict=True)
    )


def _iou_rule(
    r: _Parts,
    p: _Parts,
    geometry: Any,
    settings: LesionSettings,
    empty: EmptyPolicy,
) -> LesionResult:
    """Greedy one-to-one matching by descending IoU (panoptica's NaiveThresholdMatching)."""
    table = _overlaps(r, p)
    pairs = []
    for i, j in zip(*np.nonzero(table[1:, 1:]), strict=True):
        inter = table[i + 1, j + 1]
        pairs.append((inter / (r.sizes[i + 1] + p.sizes[j + 1] - inter), i + 1, j + 1))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    ref_match: dict[int, tuple[int, float]] = {}
    pred_match: dict[int, tuple[int, float]] = {}
    for iou, i, j in pairs:
        if i in ref_match or j in pred_match:
            continue
        if iou > settings.iou_threshold or (iou == settings.iou_threshold and not settings.strict):
            ref_match[i] = (j, iou)
            pred_match[j] = (i, iou)
    ious = [iou for _, iou in ref_match.values()]
    dices = [2 * iou / (1 + iou) for _, iou in ref_match.values()]
    hd = []
    if settings.hd95:
        for i, (j, _) in ref_match.items():
            box = _box(
                np.minimum(r.low[i], p.low[j]), np.maximum(r.high[i], p.high[j]), geometry[4], 1
            )
            hd.append(_hd95(r.mask(i, box), p.mask(j, box), geometry[0], settings.percentile))
    lesions = [
        _lesion("reference", i, r, geometry, ref_match.get(i), "TP" if i in ref_match else "FN")
        for i in range(1, r.n + 1)
    ] + [
        _lesion("prediction", j, p, geometry, pred_match.get(j), "TP" if j in pred_match else "FP")
        for j in range(1, p.n + 1)
    ]
    return _result(r.n, p.n, len(ref_match), ious, dices, hd, settings, empty, lesions)


def _overlap_rule(
    r: _Parts,
    p: _Parts,
    geometry: Any,
    settings: LesionSettings,
    empty: EmptyPolicy,
    limit: float,
) -> LesionResult:
    """BraTS 2023: reference lesions whose dilations touch are one lesion; a lesion below
    ``limit`` voxels is left out (not counted); a kept lesion is detected by every predicted
    component touching its dilation and scored against their union; predicted components
    touching no kept lesion are false positives (never dropped for their size). Dilations are
    computed on each lesion's own box, never on the volume."""
    from scipy import ndimage

    shape = geometry[4]
    structure = ndimage.generate_binary_structure(len(shape), 2)  # BraTS: 18-connected
    k = settings.dilation

    def grown(mask: np.ndarray, steps: int) -> np.ndarray:
        if steps <= 0:
            return mask
        return np.asarray(ndimage.binary_dilation(mask, structure, iterations=steps))

    groups = _merge(r, k, grown, shape) if k > 0 else [[i] for i in range(1, r.n + 1)]
    table = _overlaps(r, p)
    detected: set[int] = set()
    dices, ious, hd, lesions = [], [], [], []
    for number, members in enumerate(groups, start=1):
        size = int(r.sizes[members].sum())
        low, high = r.low[members].min(axis=0), r.high[members].max(axis=0)
        box = _box(low, high, shape, k)
        lesion = np.isin(r.crop(box), members)
        if size < limit:
            lesions.append(_group_lesion(number, members, r, geometry, None, "dropped"))
            continue
        hits = np.unique(p.crop(box)[grown(lesion, k)])
        hits = hits[hits > 0]
        if not hits.size:
            dices.append(0.0)
            lesions.append(_group_lesion(number, members, r, geometry, None, "FN"))
            continue
        detected.update(int(h) for h in hits)
        inter = int(table[np.ix_(np.asarray(members), hits)].sum())
        union_size = int(p.sizes[hits].sum())
        dice = 2 * inter / (size + union_size)
        iou = inter / (size + union_size - inter)
        dices.append(dice)
        ious.append(iou)
        if settings.hd95:
            both = _box(
                np.minimum(low, p.low[hits].min(axis=0)),
                np.maximum(high, p.high[hits].max(axis=0)),
                shape,
                1,
            )
            ref_mask = np.isin(r.crop(both), members)
            pred_mask = np.isin(p.crop(both), hits)
            hd.append(_hd95(ref_mask, pred_mask, geometry[0], settings.percentile))
        match = (tuple(int(h) for h in hits), iou)
        lesions.append(_group_lesion(number, members, r, geometry, match, "TP", dice))
    for j in range(1, p.n + 1):
        lesions.append(_lesion("prediction", j, p, geometry, None, "TP" if j in detected else "FP"))
    tp = len(ious)
    fp = p.n - len(detected)
    return _result(len(dices), p.n, tp, ious, dices, hd, settings, empty, lesions, fp=fp)


def _merge(r: _Parts, k: int, grown: Any, shape: tuple[int, ...]) -> list[list[int]]:
    """Groups of reference components whose dilations by ``k`` touch (are one component of the
    dilated mask, as BraTS labels it): j joins i when it lies within the dilation of i by 2k
    plus one fully connected step (union-find over each component's own box)."""
    from scipy import ndimage

    full = ndimage.generate_binary_structure(len(shape), len(shape))
    parent = list(range(r.n + 1))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(1, r.n + 1):
        box = _box(r.low[i], r.high[i], shape, 2 * k + 1)
        ids = r.crop(box)
        reach = ndimage.binary_dilation(grown(ids == i, 2 * k), full)
        for j in np.unique(ids[reach]):
            if j > 0:
                parent[root(int(j))] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(1, r.n + 1):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else math.nan


def _hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...], percentile: float) -> float:
    from dicecli.metrics.surface import surface_metrics, surface_stats

    return float(surface_metrics(surface_stats(a, b, spacing, percentile))["hd95"])


def _lesion(
    side: Side,
    k: int,
    parts: _Parts,
    geometry: Any,
    match: tuple[Any, float] | None,
    status: Any,
    dice: float | None = None,
) -> Lesion:
    return _group_lesion(k, [k], parts, geometry, match, status, dice, side)


def _group_lesion(
    number: int,
    members: list[int],
    parts: _Parts,
    geometry: Any,
    match: tuple[Any, float] | None,
    status: Any,
    dice: float | None = None,
    side: Side = "reference",
) -> Lesion:
    """A lesion (one component, or reference components merged by dilation) with its place."""
    spacing, origin, direction, voxel_mm3, _ = geometry
    n = len(spacing)
    sizes = parts.sizes[members]
    voxels = int(sizes.sum())
    centre = (parts.centroids[members] * sizes[:, None]).sum(axis=0) / max(voxels, 1)
    axes = np.asarray(direction, dtype=float).reshape(n, n) * np.asarray(spacing)
    centroid = np.asarray(origin, dtype=float) + axes @ centre
    ids: tuple[int, ...] = ()
    iou = dice_value = math.nan
    if match is not None:
        other, iou = match
        ids = other if isinstance(other, tuple) else (int(other),)
        dice_value = dice if dice is not None else 2 * iou / (1 + iou)
    low = parts.low[members].min(axis=0)
    high = parts.high[members].max(axis=0)
    return Lesion(
        side,
        number,
        voxels,
        voxels * voxel_mm3 / 1000.0,
        tuple(round(float(v), 3) for v in centroid),
        (*(int(v) for v in low), *(int(v) for v in high)),
        ids,
        float(iou),
        float(dice_value),
        status,
    )


def _result(
    n_ref: int,
    n_pred: int,
    tp: int,
    ious: list[float],
    dices: list[float],
    hd: list[float],
    settings: LesionSettings,
    empty: EmptyPolicy,
    lesions: list[Lesion],
    fp: int | None = None,
    fn: int | None = None,
) -> LesionResult:
    fp = n_pred - tp if fp is None else fp
    fn = n_ref - tp if fn is None else fn
    if n_ref == 0 and n_pred == 0:
        none = _EMPTY[empty]
        return LesionResult(0, 0, 0, 0, 0, none, none, none, none, math.nan, tuple(lesions))
    f1 = tp / (tp + fp / 2 + fn / 2)
    sq = float(np.mean(ious)) if ious else 0.0  # as panoptica: no match, SQ 0
    pq = sq * f1
    dice = float(np.sum(dices)) / (n_ref + fp) if n_ref + fp else math.nan
    hd95 = math.nan
    if settings.hd95:
        missed = settings.missed_distance
        hd95 = (float(np.sum(hd)) + missed * (n_ref - len(hd) + fp)) / (n_ref + fp)
    return LesionResult(n_ref, n_pred, tp, fp, fn, f1, sq, pq, dice, hd95, tuple(lesions))
