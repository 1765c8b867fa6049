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
    visited = _nonzero(y | (p != 0))
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


def _nonzero(mask: Any) -> Any:
    """Flat indices of the true voxels of a boolean array: one pass over 8-byte words, then
    only the non-zero words are looked at (a probability map is mostly zeros)."""
    flat = mask.view(np.uint8)
    n = flat.size - flat.size % 8
    words = np.flatnonzero(flat[:n].view(np.uint64))
    candidates = np.concatenate(
        [(words[:, None] * 8 + np.arange(8)).ravel(), np.arange(n, flat.size)]
    )
    return candidates[flat[candidates] != 0]


def _ranking(y: Any, p: Any, zeros: int) -> tuple[float, float]:
    """AUROC and average precision of the visited voxels plus ``zeros`` negatives at p = 0.

    The positives' and the negatives' probabilities are sorted apart, in their own dtype; each
    positive's rank among the negatives (ties a half) gives AUROC, and the counts at or above
    each distinct positive value give the precision at the thresholds where recall grows."""
    pos = np.sort(p[y])
    neg = np.sort(p[~y])
    positives, negatives = int(pos.size), int(neg.size) + zeros
    if positives == 0 or negatives == 0:
        return math.nan, math.nan
    # per distinct positive value u: how many positives hold it, and the negatives below it
    # and tied with it (the unvisited zeros lie below every u > 0 and tie with u = 0)
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    values = pos[starts]
    per_value = np.diff(np.r_[starts, positives]).astype(np.float64)
    low = np.searchsorted(neg, values, side="left")
    high = np.searchsorted(neg, values, side="right")
    at_zero = values <= 0
    below = low + np.where(at_zero, 0, zeros)
    ties = high - low + np.where(at_zero, zeros, 0)
    auroc = float(np.dot(per_value, below + 0.5 * ties)) / (positives * negatives)
    # AP: precision over p >= u, weighted by the share of the positives at u (the recall it adds)
    tp = positives - starts
    fp = negatives - below
    ap = float(np.dot(per_value, tp / (tp + fp))) / positives
    return auroc, ap


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
