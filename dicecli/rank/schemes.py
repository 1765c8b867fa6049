"""The three ranking schemes of challengeR (Wiesenfarth et al., Sci Rep 2021) on one task (a
structure and a metric), for the full set of cases and for bootstrap resamples at once.

A task is a matrix of values (cases x submissions; NaN: missing or undefined) and weights
(resamples x cases: how often each case is drawn; one row of ones for the full data). Every
scheme returns the submissions' scores and ranks (resamples x submissions); rank 1 is best.

- aggregate-then-rank: the aggregate (mean, median, min, max or a quantile ``qP``, R's type 7)
  of each submission's values, ranked in the metric's direction;
- rank-then-aggregate: each case's ranks of the submissions, aggregated, ranked (a missing
  value takes the worst rank of its case, as challengeR's ``rankNA2``);
- test-then-rank: for every ordered pair, the one-sided paired Wilcoxon test that the first is
  better (``wilcoxon.signed_rank_greater``), p-values adjusted over the task's pairs (``none``
  or ``holm``), and the share of the others each submission is significantly better than.

Missing values (``missing``): ``worst`` fills them with the task's worst value (``worst`` given
for the metric, else the worst value any submission had) and, in rank-then-aggregate, gives them
the worst rank; a number fills them with it; ``drop`` leaves them out (pairwise in the tests).
Ties follow ``ties`` (scipy's ``rankdata`` methods; challengeR's default ``min``).
"""

from __future__ import annotations

import numpy as np

from dicecli import exact
from dicecli.models.rank import RankSettings


def filled(values: np.ndarray, settings: RankSettings, worst: float | None) -> np.ndarray:
    """The values with missing ones replaced as ``settings.missing`` says (``drop``: kept NaN)."""
    if settings.missing == "drop" or not np.isnan(values).any():
        return values
    fill = float(settings.missing) if settings.missing != "worst" else worst
    return np.where(np.isnan(values), np.nan if fill is None else fill, values)


def scores_and_ranks(
    values: np.ndarray,
    weights: np.ndarray,
    settings: RankSettings,
    larger_better: bool,
    worst: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ranks), each resamples x submissions, of one task under ``settings.scheme``.
    Means are exact and ranked on their exact values (``dicecli.exact``)."""
    if settings.scheme == "rank-then-aggregate":
        case_ranks = per_case_ranks(values, settings, larger_better, worst)
        scores, keys = aggregate_keyed(case_ranks, weights, settings.aggregate)
        return scores, rank(keys, False, settings.ties)
    full = filled(values, settings, worst)
    if settings.scheme == "test-then-rank":
        scores = significance_shares(full, weights, settings, larger_better)[0]
        return scores, rank(scores, True, settings.ties)
    scores, keys = aggregate_keyed(full, weights, settings.aggregate)
    return scores, rank(keys, larger_better, settings.ties)


def rank(scores: np.ndarray, larger_better: bool, ties: str) -> np.ndarray:
    """Ranks along the last axis, 1 best; a NaN score (no value at all) ranks last."""
    from scipy.stats import rankdata

    keyed = np.where(np.isnan(scores), np.inf, -scores if larger_better else scores)
    return np.asarray(rankdata(keyed, method=ties, axis=-1), dtype=float)


def per_case_ranks(
    values: np.ndarray, settings: RankSettings, larger_better: bool, worst: float | None
) -> np.ndarray:
    """Each case's ranks of the submissions (cases x submissions). A missing value takes the
    worst rank -- the highest present plus one (``min`` ties) or the mean of the ranks after it
    (``average``), as challengeR's ``rankNA2`` -- under ``missing worst``; a number fills it
    first; under ``drop`` its rank stays NaN and is left out of the aggregate."""
    from scipy.stats import rankdata

    if settings.missing not in ("worst", "drop"):
        values = filled(values, settings, worst)
    missing = np.isnan(values)
    keyed = np.where(missing, np.nan, -values if larger_better else values)
    ranks = np.asarray(rankdata(keyed, method=settings.ties, axis=1, nan_policy="omit"), float)
    if settings.missing == "drop" or not missing.any():
        return np.where(missing, np.nan, ranks)
    top = np.nanmax(np.where(missing, np.nan, ranks), axis=1, initial=0.0)
    count = missing.sum(axis=1)
    worst_rank = top + (1 if settings.ties != "average" else (count + 1) / 2)
    return np.where(missing, worst_rank[:, None], ranks)


def aggregate_keyed(
    values: np.ndarray, weights: np.ndarray, how: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each column's weighted aggregate (resamples x submissions; NaN values left out) and keys
    that rank exactly as the exact aggregates do: a mean is the exact weighted sum over the
    exact total weight, rounded once for the score, compared unrounded for the ranks; a
    quantile is its own key."""
    if how == "mean":
        return _exact_means(values, weights)
    quantile = {"median": 0.5, "min": 0.0, "max": 1.0}.get(how)
    if quantile is None:
        quantile = float(how.removeprefix("q"))
    present = ~np.isnan(values)
    out = np.empty((weights.shape[0], values.shape[1]))
    for s in range(values.shape[1]):
        out[:, s] = _weighted_quantile(
            values[present[:, s], s], weights[:, present[:, s]], quantile
        )
    return out, out


def _exact_means(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from fractions import Fraction

    present = ~np.isnan(values)
    counts = np.asarray(weights).astype(np.int64)
    n_rows, n_subs = counts.shape[0], values.shape[1]
    numerators: list[list[int]] = []
    totals: list[list[int]] = []
    scores = np.full((n_rows, n_subs), np.nan)
    shift = exact.scaled(values[present])[1]  # one scale for every submission of the task
    for s in range(n_subs):
        column = values[present[:, s], s]
        nums, own = exact.weighted_sums(counts[:, present[:, s]], column)
        nums = [n << (own - shift) for n in nums] if own != shift and any(nums) else nums
        total = counts[:, present[:, s]].sum(axis=1).tolist()
        numerators.append(nums)
        totals.append(total)
        for r in range(n_rows):
            if total[r]:
                scores[r, s] = exact.ratio(nums[r], total[r], shift)
    keys: list[list[int | Fraction | None]] = []
    for r in range(n_rows):
        row_totals = {totals[s][r] for s in range(n_subs) if totals[s][r]}
        same = len(row_totals) == 1
        keys.append(
            [
                None
                if not totals[s][r]
                else numerators[s][r]
                if same
                else Fraction(numerators[s][r], totals[s][r])
                for s in range(n_subs)
            ]
        )
    return scores, exact.order_codes(keys)


def _weighted_quantile(column: np.ndarray, weights: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile (numpy's default, R's type 7) of each resample: ``column``'s values
    repeated as often as their weights say."""
    if column.size == 0:
        return np.full(weights.shape[0], np.nan)
    order = np.argsort(column, kind="stable")
    sorted_values = column[order]
    counts = np.cumsum(weights[:, order], axis=1)  # resamples x values
    total = counts[:, -1]
    position = (total - 1) * q  # 0-based, in the expanded multiset
    low, high = np.floor(position), np.ceil(position)

    def at(k: np.ndarray) -> np.ndarray:
        index = np.array(
            [np.searchsorted(c, v, side="right") for c, v in zip(counts, k, strict=True)]
        )
        return np.asarray(sorted_values[np.minimum(index, column.size - 1)])

    with np.errstate(invalid="ignore"):
        result = at(low) + (position - low) * (at(high) - at(low))
    return np.asarray(np.where(total > 0, result, np.nan))


def significance_shares(
    values: np.ndarray, weights: np.ndarray, settings: RankSettings, larger_better: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each resample: the share of the other submissions each one is significantly better
    than (resamples x submissions), and the p-values and adjusted p-values of every ordered
    pair (resamples x submissions x submissions; [i, j]: i better than j)."""
    from dicecli.rank.wilcoxon import signed_rank_tests

    n_subs = values.shape[1]
    pairs = [(i, j) for i in range(n_subs) for j in range(i + 1, n_subs)]
    sign = 1.0 if larger_better else -1.0
    diffs = np.stack([sign * (values[:, i] - values[:, j]) for i, j in pairs], axis=1)
    diffs = np.nan_to_num(diffs, nan=0.0)  # a case missing on either side: no difference
    p = np.full((weights.shape[0], n_subs, n_subs), np.nan)
    if pairs:
        better, worse = signed_rank_tests(diffs, weights)
        for k, (i, j) in enumerate(pairs):
            p[:, i, j], p[:, j, i] = better[:, k], worse[:, k]
    adjusted = _adjust(p, settings.p_adjust)
    significant = np.nan_to_num(adjusted, nan=1.0) <= settings.alpha
    shares = significant.sum(axis=2) / max(n_subs - 1, 1)
    return shares, p, adjusted


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Holm's step-down adjustment over each resample's ordered pairs (R's ``p.adjust``)."""
    if method == "none":
        return p
    flat = p.reshape(p.shape[0], -1)
    out = np.full_like(flat, np.nan)
    for b in range(flat.shape[0]):
        defined = ~np.isnan(flat[b])
        m = int(defined.sum())
        if not m:
            continue
        values = flat[b, defined]
        order = np.argsort(values, kind="stable")
        stepped = np.maximum.accumulate((m - np.arange(m)) * values[order])
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
        out[b, defined] = adjusted
    return out.reshape(p.shape)
