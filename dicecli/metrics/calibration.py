"""Calibration and ranking quality of a probability map against a binary reference (``--soft``
with ``--metrics ece,brier,auroc,...``): every voxel a prediction with probability p and an
outcome y.

- ``brier``: mean (p - y)^2 (scikit-learn's ``brier_score_loss``);
- ``nll``: mean -(y log p + (1 - y) log(1 - p)), p clipped to [eps, 1 - eps], eps float64's
  machine epsilon (scikit-learn's ``log_loss`` on float64);
- ``ece``, ``ace``, ``mce``: the voxels in ``--calibration-bins`` N equal bins of p, [k/N,
  (k+1)/N) and the last one closed at 1; per bin the mean outcome (accuracy) and the mean p
  (confidence); ECE the bins' |accuracy - confidence| weighted by their share of the voxels,
  ACE its plain mean over the non-empty bins, MCE its maximum (Guo et al. 2017; Nixon et al.
  2019; MONAI's ``CalibrationErrorMetric``);
- ``auroc``: the probability that a voxel of the structure has a higher p than one outside it,
  ties counting a half (scikit-learn's ``roc_auc_score``); ``ap``: average precision, the
  precision at each distinct p weighted by the recall it adds (``average_precision_score``).
  NaN without voxels of both kinds.

Voxels with p = 0 outside the structure add nothing to the sums and sit together at the bottom
of every ranking: they are counted, not visited, so a sparse map costs what its non-zero voxels
cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True)
class CalibrationStats:
    """What the calibration metrics of one structure in one case are computed from."""

    n: int
    positives: int
    brier_sum: float
    nll_sum: float
    #: per bin: voxels, sum of p, sum of y
    bin_count: tuple[int, ...]
    bin_confidence: tuple[float, ...]
    bin_hits: tuple[int, ...]
    auroc: float
    ap: float


def calibration_stats(y: Any, p: Any, bins: int = 20) -> CalibrationStats:
    """The sums and rankings of outcomes ``y`` (boolean) against probabilities ``p`` (any
    shape, same size)."""
    y = np.asarray(y, dtype=bool).ravel(order="K")
    p = np.asarray(p).ravel(order="K")
    n = int(y.size)
    visited = _visited(y, p)
    zeros = n - int(visited.size)  # p = 0 outside the structure: no error, bottom of the ranks
    yv = y[visited]
    native = p[visited]
    pv = native.astype(np.float64)
    positives = int(np.count_nonzero(yv))
    brier = float(np.sum((pv - yv) ** 2))
    clipped = np.clip(pv, _EPS, 1.0 - _EPS)
    nll = -float(np.sum(np.log(clipped[yv])) + np.sum(np.log1p(-clipped[~yv])))
    nll += zeros * -math.log1p(-_EPS)  # their p = 0 is clipped to eps as well
    index = np.minimum((pv * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    confidence = np.bincount(index, weights=pv, minlength=bins)
    hits = np.bincount(index, weights=yv, minlength=bins)
    count[0] += zeros
    auroc, ap = _ranking(yv, native, zeros)  # sorted in the map's own dtype
    return CalibrationStats(
        n,
        positives,
        brier,
        nll,
        tuple(int(v) for v in count),
        tuple(float(v) for v in confidence),
        tuple(round(float(v)) for v in hits),
        auroc,
        ap,
    )


def _visited(y: Any, p: Any, chunk: int = 1 << 18) -> Any:
    """Flat indices of the voxels inside the structure or with p != 0, chunk by chunk (the
    temporaries stay in cache; a chunk of zeros outside the structure costs two passes)."""
    found = [np.zeros(0, dtype=np.int64)]
    for s in range(0, int(y.size), chunk):
        hit = y[s : s + chunk] | (p[s : s + chunk] != 0)
        if hit.any():
            found.append(np.flatnonzero(hit) + s)
    return np.concatenate(found)


def _ranking(y: Any, p: Any, zeros: int) -> tuple[float, float]:
    """AUROC and average precision of the visited voxels plus ``zeros`` negatives at p = 0,
    from the positives and negatives at each distinct probability (ascending)."""
    positives = int(np.count_nonzero(y))
    negatives = int(y.size) - positives + zeros
    if positives == 0 or negatives == 0:
        return math.nan, math.nan
    values, tp, fp = _groups(y, p)
    if zeros:  # the unvisited zeros join the group at p = 0, the lowest, or make one
        if values.size and values[0] == 0:
            fp[0] += zeros
        else:
            tp, fp = np.r_[0, tp], np.r_[zeros, fp]
    tp, fp = tp.astype(np.float64), fp.astype(np.float64)
    # AUROC: each positive beats the negatives of the lower groups, ties count a half
    below = np.cumsum(fp) - fp
    auroc = float(np.dot(tp, below + 0.5 * fp)) / (positives * negatives)
    # AP: at each group's value u, highest first, the precision over p >= u weighted by the
    # share of the positives at u (the recall it adds)
    tp_at_least = np.cumsum(tp[::-1])[::-1]
    fp_at_least = np.cumsum(fp[::-1])[::-1]
    ap = float(np.dot(tp, tp_at_least / (tp_at_least + fp_at_least))) / positives
    return auroc, ap


def _groups(y: Any, p: Any) -> tuple[Any, Any, Any]:
    """The distinct values of ``p`` (ascending) with the positives and negatives at each. A
    float32 map sorts one uint32 key per voxel, its bits (order-preserving for p >= 0) and its
    outcome; other dtypes sort the probabilities and carry the outcomes."""
    if p.dtype == np.float32:
        # p in [0, 1]: its bits are below 2^30, so bits and outcome share one uint32 key
        bits = (p + np.float32(0)).view(np.uint32)  # -0.0 becomes 0.0
        keys = np.sort((bits << np.uint32(1)) | y.astype(np.uint32))
        sorted_bits = keys >> np.uint32(1)
        hits = (keys & np.uint32(1)).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, sorted_bits[1:] != sorted_bits[:-1]])
        values = sorted_bits[starts].view(np.float32)
    else:
        order = np.argsort(p, kind="stable")
        ps = p[order]
        hits = y[order].astype(np.int64)
        starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
        values = ps[starts]
    tp = np.add.reduceat(hits, starts)
    fp = np.diff(np.r_[starts, hits.size]) - tp
    return values, tp, fp


def calibration_metrics(stats: CalibrationStats) -> dict[str, float]:
    n = stats.n
    count = np.asarray(stats.bin_count, dtype=np.float64)
    gap = np.abs(np.asarray(stats.bin_hits, dtype=np.float64) - np.asarray(stats.bin_confidence))
    filled = count > 0
    per_bin = gap[filled] / count[filled]
    return {
        "ece": float(gap.sum() / n) if n else math.nan,
        "ace": float(per_bin.mean()) if per_bin.size else math.nan,
        "mce": float(per_bin.max()) if per_bin.size else math.nan,
        "brier": stats.brier_sum / n if n else math.nan,
        "nll": stats.nll_sum / n if n else math.nan,
        "auroc": stats.auroc,
        "ap": stats.ap,
    }


def pooled_bins(stats: list[CalibrationStats]) -> tuple[Any, Any, Any]:
    """The bins summed over cases: voxels, sum of p, sum of y (the reliability diagram)."""
    count = np.sum([s.bin_count for s in stats], axis=0)
    confidence = np.sum([s.bin_confidence for s in stats], axis=0)
    hits = np.sum([s.bin_hits for s in stats], axis=0)
    return count, confidence, hits
