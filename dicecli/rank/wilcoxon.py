"""One-sided Wilcoxon signed-rank tests of many paired differences at once, on weighted cases.

A bootstrap resample of n cases is the original cases with multiplicities (weights summing to
n); a test per resample and per pair of submissions is then a weighted signed-rank statistic,
computed here for every resample at once from one sort of each pair's differences: each tie
group of |d| holds the summed weights of its cases, its members take its mid-rank. The p-value
is the normal approximation with the tie correction and the continuity correction, as R's
``wilcox.test(x, y, paired = TRUE, exact = FALSE)`` (challengeR's test) and
``scipy.stats.wilcoxon(d, alternative="greater", method="asymptotic")`` compute it; zero
differences are left out ("wilcox"). With weights of one it equals scipy's exactly.
"""

from __future__ import annotations

import numpy as np


def signed_rank_greater(diffs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """p-values (resamples x pairs) of "the differences are greater than zero" for ``diffs``
    (cases x pairs, finite) under ``weights`` (resamples x cases); NaN where no difference is
    non-zero."""
    return signed_rank_tests(diffs, weights)[0]


def signed_rank_tests(diffs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The p-values of "greater" and of "less" (each resamples x pairs) from one pass: the
    statistic of -d is n(n+1)/2 minus that of d, with the same ranks and ties.

    Arrays run cases x resamples (a cumulative sum then adds whole rows), in float32, exactly:
    weights and cumulative weights are whole numbers below 2^24, ranks and statistics
    multiples of 1/2 below n(n+1)/2; the tie term, which grows as the cube of a group's
    weight, is summed in float64."""
    from scipy.special import ndtr

    n_pairs = diffs.shape[1]
    greater = np.empty((weights.shape[0], n_pairs))
    less = np.empty_like(greater)
    w = np.ascontiguousarray(weights.T, dtype=np.float32)  # cases x resamples
    cw = np.zeros((w.shape[0] + 1, w.shape[1]), np.float32)
    cp = np.zeros_like(cw)
    for p in range(n_pairs):
        d = diffs[:, p]
        magnitude = np.abs(d)
        order = np.argsort(magnitude, kind="stable")
        a = magnitude[order]
        ws = w[order]
        if a[0] == 0:
            ws[a == 0] = 0  # zero differences are left out
        np.cumsum(ws, axis=0, out=cw[1:])
        np.cumsum(ws * (d[order] > 0)[:, None], axis=0, out=cp[1:])
        if (a[1:] != a[:-1]).all():  # no ties between cases: a group is one case's copies
            before, total, plus = cw[:-1], ws, cp[1:] - cp[:-1]
        else:
            starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
            ends = np.r_[starts[1:], a.size]
            before = cw[starts]
            total = cw[ends] - before  # the weight of each tie group of |d|
            plus = cp[ends] - cp[starts]
        statistic = ((before + (total + 1) / 2) * plus).sum(axis=0, dtype=np.float64)
        n = cw[-1].astype(np.float64)
        t = total.astype(np.float64)
        mean = n * (n + 1) / 4
        variance = n * (n + 1) * (2 * n + 1) / 24 - (t * t * t - t).sum(axis=0) / 48
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma = np.sqrt(variance)
            up = (statistic - mean - 0.5) / sigma  # continuity correction toward the mean
            down = (mean - statistic - 0.5) / sigma
        defined = variance > 0
        greater[:, p] = np.where(defined, ndtr(-up), np.nan)
        less[:, p] = np.where(defined, ndtr(-down), np.nan)
    return greater, less
