"""How stable a ranking is: bootstrap resamples of the cases (drawn with replacement, seeded,
the same patients for every task), each ranking's Kendall tau against the full one, how often
each submission took each rank, its median rank and 95% interval."""

from __future__ import annotations

import numpy as np


def resample_weights(n_cases: int, resamples: int, seed: int) -> np.ndarray:
    """How often each case is drawn in each resample (resamples x cases); ``n_cases`` draws each."""
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n_cases, (resamples, n_cases))
    weights = np.zeros((resamples, n_cases), dtype=np.int64)
    np.add.at(weights, (np.repeat(np.arange(resamples), n_cases), drawn.ravel()), 1)
    return weights


def kendall_tau(full: np.ndarray, resampled: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each resampled ranking (rows) against the full one, as
    ``scipy.stats.kendalltau`` computes it; NaN where either ranking is all ties."""
    i, j = np.triu_indices(full.size, k=1)
    sx = np.sign(full[i] - full[j])
    sy = np.sign(resampled[:, i] - resampled[:, j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((sy @ sx) / np.sqrt((sx * sx).sum() * (sy * sy).sum(axis=1)))


def summary(ranks: np.ndarray) -> dict[str, np.ndarray]:
    """Per submission (columns): the median rank, the 2.5 and 97.5 percentiles of its ranks over
    the resamples, and the share of resamples that ranked it first."""
    return {
        "median_rank": np.median(ranks, axis=0),
        "rank_low": np.percentile(ranks, 2.5, axis=0),
        "rank_high": np.percentile(ranks, 97.5, axis=0),
        "first_share": (ranks == 1).mean(axis=0),
    }
