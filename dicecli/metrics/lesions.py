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

from dicecli.metrics.components import Parts, flat_bytes, foreground, parts
from dicecli.metrics.lesion_regions import region_dice
from dicecli.models import EMPTY_VALUE, EmptyPolicy, LesionSettings

__all__ = ["LesionSettings", "evaluate_lesions", "parse_match"]

Side = Literal["reference", "prediction"]


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
    #: a reference lesion's Dice inside its own region (``lesion_regions``); NaN otherwise
    region_dice: float = math.nan


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
    #: the mean of the reference lesions' region Dice (CC-Dice)
    region_dice: float = math.nan


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
    at = foreground(ref, pred, order)
    if at.size == 0:
        nan = EMPTY_VALUE[empty]
        return LesionResult(0, 0, 0, 0, 0, nan, nan, nan, nan, math.nan, (), nan)
    shape = tuple(int(n) for n in ref.shape)
    coords = np.stack(np.unravel_index(at, shape, order=order), axis=1)
    in_ref = flat_bytes(ref, order)[at] != 0
    in_pred = flat_bytes(pred, order)[at] != 0
    voxel_mm3 = float(np.prod(spacing))
    limit = settings.min_size / voxel_mm3 if settings.min_size_mm3 else settings.min_size
    geometry = (spacing, origin, direction, voxel_mm3, shape)
    if settings.match == "overlap":  # as BraTS: small reference lesions only, after merging
        r = parts(in_ref, coords, shape, settings.connectivity, 0, order)
        p = parts(in_pred, coords, shape, settings.connectivity, 0, order)
        sums = region_dice(r, p, at, shape, spacing, order)
        return _overlap_rule(r, p, geometry, settings, empty, limit, sums)
    r = parts(in_ref, coords, shape, settings.connectivity, limit, order)
    p = parts(in_pred, coords, shape, settings.connectivity, limit, order)
    return _iou_rule(r, p, geometry, settings, empty, region_dice(r, p, at, shape, spacing, order))


def _region(sums: tuple[np.ndarray, ...], members: list[int]) -> float:
    """The Dice of a (merged) reference lesion with the prediction inside its region."""
    inside, region, sizes = (float(a[members].sum()) for a in sums)
    return 2 * inside / (sizes + region)


def _overlaps(r: Parts, p: Parts) -> np.ndarray:
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
    r: Parts,
    p: Parts,
    geometry: Any,
    settings: LesionSettings,
    empty: EmptyPolicy,
    sums: tuple[np.ndarray, ...],
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
            hd.append(
                _hd95(
                    r.mask(i, box),
                    p.mask(j, box),
                    geometry[0],
                    settings.percentile,
                    settings.surfel,
                )
            )
    regions = [_region(sums, [i]) for i in range(1, r.n + 1)]
    lesions = [
        _lesion(
            "reference",
            i,
            r,
            geometry,
            ref_match.get(i),
            "TP" if i in ref_match else "FN",
            region=regions[i - 1],
        )
        for i in range(1, r.n + 1)
    ] + [
        _lesion("prediction", j, p, geometry, pred_match.get(j), "TP" if j in pred_match else "FP")
        for j in range(1, p.n + 1)
    ]
    return _result(r.n, p.n, len(ref_match), ious, dices, hd, settings, empty, lesions, regions)


def _overlap_rule(
    r: Parts,
    p: Parts,
    geometry: Any,
    settings: LesionSettings,
    empty: EmptyPolicy,
    limit: float,
    sums: tuple[np.ndarray, ...],
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
    dices, ious, hd, lesions, regions = [], [], [], [], []
    for number, members in enumerate(groups, start=1):
        size = int(r.sizes[members].sum())
        low, high = r.low[members].min(axis=0), r.high[members].max(axis=0)
        box = _box(low, high, shape, k)
        lesion = np.isin(r.crop(box), members)
        if size < limit:
            lesions.append(_group_lesion(number, members, r, geometry, None, "dropped"))
            continue
        regions.append(_region(sums, members))
        hits = np.unique(p.crop(box)[grown(lesion, k)])
        hits = hits[hits > 0]
        if not hits.size:
            dices.append(0.0)
            lesions.append(
                _group_lesion(number, members, r, geometry, None, "FN", region=regions[-1])
            )
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
            hd.append(_hd95(ref_mask, pred_mask, geometry[0], settings.percentile, settings.surfel))
        match = (tuple(int(h) for h in hits), iou)
        lesions.append(
            _group_lesion(number, members, r, geometry, match, "TP", dice, region=regions[-1])
        )
    for j in range(1, p.n + 1):
        lesions.append(_lesion("prediction", j, p, geometry, None, "TP" if j in detected else "FP"))
    tp = len(ious)
    fp = p.n - len(detected)
    return _result(len(dices), p.n, tp, ious, dices, hd, settings, empty, lesions, regions, fp=fp)


def _merge(r: Parts, k: int, grown: Any, shape: tuple[int, ...]) -> list[list[int]]:
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


def _hd95(
    a: np.ndarray,
    b: np.ndarray,
    spacing: tuple[float, ...],
    percentile: float,
    surfel: bool = False,
) -> float:
    from dicecli.metrics.surface import surface_metrics, surface_stats

    stats = surface_stats(a, b, spacing, percentile, surfel=surfel)
    return float(surface_metrics(stats)["hd95"])


def _lesion(
    side: Side,
    k: int,
    parts: Parts,
    geometry: Any,
    match: tuple[Any, float] | None,
    status: Any,
    dice: float | None = None,
    region: float = math.nan,
) -> Lesion:
    return _group_lesion(k, [k], parts, geometry, match, status, dice, side, region)


def _group_lesion(
    number: int,
    members: list[int],
    parts: Parts,
    geometry: Any,
    match: tuple[Any, float] | None,
    status: Any,
    dice: float | None = None,
    side: Side = "reference",
    region: float = math.nan,
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
        float(region),
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
    regions: list[float],
    fp: int | None = None,
    fn: int | None = None,
) -> LesionResult:
    fp = n_pred - tp if fp is None else fp
    fn = n_ref - tp if fn is None else fn
    if n_ref == 0 and n_pred == 0:
        none = EMPTY_VALUE[empty]
        return LesionResult(0, 0, 0, 0, 0, none, none, none, none, math.nan, tuple(lesions), none)
    f1 = tp / (tp + fp / 2 + fn / 2)
    sq = float(np.mean(ious)) if ious else 0.0  # as panoptica: no match, SQ 0
    pq = sq * f1
    dice = float(np.sum(dices)) / (n_ref + fp) if n_ref + fp else math.nan
    hd95 = math.nan
    if settings.hd95:
        missed = settings.missed_distance
        hd95 = (float(np.sum(hd)) + missed * (n_ref - len(hd) + fp)) / (n_ref + fp)
    region = float(np.mean(regions)) if regions else math.nan  # no reference lesion: undefined
    return LesionResult(n_ref, n_pred, tp, fp, fn, f1, sq, pq, dice, hd95, tuple(lesions), region)
