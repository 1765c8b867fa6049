"""Lesion-wise (instance) evaluation of one binary structure: connected components of the
reference and the prediction, matched one-to-one by IoU or BraTS-style by overlap.

Pure array code on the host (scipy.ndimage): nothing here does I/O. The overlaps of every pair of
components come from one histogram of (reference component, prediction component) over the
voxels of either mask, never a loop over pairs over the volume.
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


def components(mask: np.ndarray, connectivity: int | None) -> tuple[np.ndarray, int]:
    """Connected components (``scipy.ndimage.label``): 6/18/26 in 3D, 4/8 in 2D."""
    from scipy import ndimage

    rank = {None: mask.ndim, 4: 1, 8: 2, 6: 1, 18: 2, 26: 3}[connectivity]
    labels, n = ndimage.label(mask, structure=ndimage.generate_binary_structure(mask.ndim, rank))
    return labels, int(n)


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
    box = _box(ref, pred, settings.dilation)
    if box is None:
        nan = _EMPTY[empty]
        return LesionResult(0, 0, 0, 0, 0, nan, nan, nan, nan, math.nan, ())
    r, n_r = components(ref[box], settings.connectivity)
    p, n_p = components(pred[box], settings.connectivity)
    voxel_mm3 = float(np.prod(spacing))
    limit = settings.min_size / voxel_mm3 if settings.min_size_mm3 else settings.min_size
    geometry = (spacing, origin, direction, tuple(s.start for s in box), voxel_mm3)
    if settings.match == "overlap":  # as BraTS: small reference lesions only, after merging
        return _overlap_rule(r, n_r, p, n_p, geometry, settings, empty, limit)
    if limit > 0:
        r, n_r = _drop_small(r, n_r, limit)
        p, n_p = _drop_small(p, n_p, limit)
    return _iou_rule(r, n_r, p, n_p, geometry, settings, empty)


def _box(ref: np.ndarray, pred: np.ndarray, margin: int) -> tuple[slice, ...] | None:
    either = ref | pred
    if not either.any():
        return None
    box = []
    for axis in range(either.ndim):
        hit = np.flatnonzero(either.any(axis=tuple(a for a in range(either.ndim) if a != axis)))
        lo = max(int(hit[0]) - margin - 1, 0)
        hi = min(int(hit[-1]) + margin + 2, either.shape[axis])
        box.append(slice(lo, hi))
    return tuple(box)


def _drop_small(labels: np.ndarray, n: int, limit: float) -> tuple[np.ndarray, int]:
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= limit
    keep[0] = False
    new = np.zeros(n + 1, dtype=labels.dtype)
    new[keep] = np.arange(1, int(keep.sum()) + 1)
    return new[labels], int(keep.sum())


def _overlaps(r: np.ndarray, n_r: int, p: np.ndarray, n_p: int) -> np.ndarray:
    """``[i, j]``: voxels in reference component i and prediction component j (0: outside)."""
    codes = r.astype(np.int64).ravel() * (n_p + 1) + p.ravel()
    return np.bincount(codes, minlength=(n_r + 1) * (n_p + 1)).reshape(n_r + 1, n_p + 1)


def _iou_rule(
    r: np.ndarray,
    n_r: int,
    p: np.ndarray,
    n_p: int,
    geometry: Any,
    settings: LesionSettings,
    empty: EmptyPolicy,
) -> LesionResult:
    """Greedy one-to-one matching by descending IoU (panoptica's NaiveThresholdMatching)."""
    table = _overlaps(r, n_r, p, n_p)
    size_r, size_p = table.sum(axis=1), table.sum(axis=0)
    pairs = []
    for i, j in zip(*np.nonzero(table[1:, 1:]), strict=True):
        inter = table[i + 1, j + 1]
        pairs.append((inter / (size_r[i + 1] + size_p[j + 1] - inter), i + 1, j + 1))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    ref_match: dict[int, tuple[int, float]] = {}
    pred_match: dict[int, tuple[int, float]] = {}
    for iou, i, j in pairs:
        if i in ref_match or j in pred_match:
            continue
        if iou > settings.iou_threshold or (iou == settings.iou_threshold and not settings.strict):
            ref_match[i] = (j, iou)
            pred_match[j] = (i, iou)
    tp = len(ref_match)
    ious = [iou for _, iou in ref_match.values()]
    dices = {i: 2 * iou / (1 + iou) for i, (_, iou) in ref_match.items()}
    hd = []
    if settings.hd95:
        for i, (j, _) in ref_match.items():
            hd.append(_hd95(r == i, p == j, geometry[0], settings.percentile))
    lesions = [
        _lesion("reference", i, r, geometry, ref_match.get(i), "TP" if i in ref_match else "FN")
        for i in range(1, n_r + 1)
    ] + [
        _lesion("prediction", j, p, geometry, pred_match.get(j), "TP" if j in pred_match else "FP")
        for j in range(1, n_p + 1)
    ]
    return _result(n_r, n_p, tp, ious, list(dices.values()), hd, settings, empty, lesions)


def _overlap_rule(
    r: np.ndarray,
    n_r: int,
    p: np.ndarray,
    n_p: int,
    geometry: Any,
    settings: LesionSettings,
    empty: EmptyPolicy,
    limit: float,
) -> LesionResult:
    """BraTS 2023: reference lesions whose dilations touch are one lesion; a lesion below
    ``limit`` voxels is left out (not counted); a kept lesion is detected by every predicted
    component touching its dilation and scored against their union; predicted components
    touching no kept lesion are false positives (never dropped for their size)."""
    from scipy import ndimage

    structure = ndimage.generate_binary_structure(r.ndim, 2)  # BraTS dilates 18-connected

    def grown(mask: np.ndarray) -> np.ndarray:
        if settings.dilation <= 0:
            return mask
        return np.asarray(ndimage.binary_dilation(mask, structure, iterations=settings.dilation))

    if settings.dilation > 0:
        merged, _ = components(grown(r > 0), None)
        r, n_r = _drop_small(np.where(r > 0, merged, 0), int(merged.max()), 1)
    detected: set[int] = set()
    dices, ious, hd, lesions = [], [], [], []
    for i in range(1, n_r + 1):
        lesion = r == i
        if lesion.sum() < limit:
            lesions.append(_lesion("reference", i, r, geometry, None, "dropped"))
            continue
        hits = np.unique(p[grown(lesion)])
        hits = hits[hits > 0]
        if not hits.size:
            dices.append(0.0)
            lesions.append(_lesion("reference", i, r, geometry, None, "FN"))
            continue
        detected.update(int(h) for h in hits)
        union = np.isin(p, hits)
        dice = 2 * int(np.count_nonzero(union & lesion)) / (int(lesion.sum()) + int(union.sum()))
        dices.append(dice)
        if settings.hd95:
            hd.append(_hd95(lesion, union, geometry[0], settings.percentile))
        match = (tuple(int(h) for h in hits), _iou(lesion, union))
        ious.append(match[1])
        lesions.append(_lesion("reference", i, r, geometry, match, "TP", dice))
    for j in range(1, n_p + 1):
        lesions.append(_lesion("prediction", j, p, geometry, None, "TP" if j in detected else "FP"))
    kept = len(dices)
    tp = sum(1 for d in lesions if d.side == "reference" and d.status == "TP")
    fp = n_p - len(detected)
    return _result(kept, n_p, tp, ious, dices, hd, settings, empty, lesions, fp=fp)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else math.nan


def _hd95(a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...], percentile: float) -> float:
    from dicecli.metrics.surface import surface_metrics, surface_stats

    return float(surface_metrics(surface_stats(a, b, spacing, percentile))["hd95"])


def _lesion(
    side: Side,
    k: int,
    labels: np.ndarray,
    geometry: Any,
    match: tuple[Any, float] | None,
    status: Any,
    dice: float | None = None,
) -> Lesion:
    spacing, origin, direction, offset, voxel_mm3 = geometry
    where = np.argwhere(labels == k) + np.asarray(offset)
    n = len(spacing)
    centre = where.mean(axis=0)
    axes = np.asarray(direction, dtype=float).reshape(n, n) * np.asarray(spacing)
    centroid = np.asarray(origin, dtype=float) + axes @ centre
    ids: tuple[int, ...] = ()
    iou = dice_value = math.nan
    if match is not None:
        other, iou = match
        ids = other if isinstance(other, tuple) else (int(other),)
        dice_value = dice if dice is not None else 2 * iou / (1 + iou)
    return Lesion(
        side,
        k,
        len(where),
        len(where) * voxel_mm3 / 1000.0,
        tuple(round(float(v), 3) for v in centroid),
        (*(int(v) for v in where.min(axis=0)), *(int(v) + 1 for v in where.max(axis=0))),
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
