"""Challenge rankings (``dicecli rank``): the leaderboard of each task -- a structure and a
metric -- under one of challengeR's schemes (``schemes.py``), the consensus over the tasks (the
weighted mean of each submission's ranks, as BraTS ranks over regions and metrics), and, with
bootstrap resamples of the cases, how stable each ranking is (``stability.py``).

Pure: per-case tables in (one per submission: case, label and the metric columns), tables out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dicecli.errors import UsageError
from dicecli.metrics.registry import lower_is_better
from dicecli.models.rank import RankResult, RankSettings, task_name
from dicecli.rank.schemes import filled, scores_and_ranks, significance_shares
from dicecli.rank.stability import kendall_tau, resample_weights, summary

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["rank_tables", "task_name"]

#: Each task's name in the tables: (label, metric); the consensus has label "all".
CONSENSUS = ("all", "consensus")


def rank_tables(
    tables: Mapping[str, pd.DataFrame], settings: RankSettings, sources: Sequence[str] = ()
) -> RankResult:
    """Rank the submissions ``tables`` (name -> per-case table) under ``settings``."""
    import pandas as pd

    names = list(tables)
    if len(names) < 2:
        raise UsageError("rank needs at least two submissions")
    _check_metrics(tables, settings.metrics)
    labels = _chosen_labels(tables, settings.labels)
    all_cases = sorted(set().union(*(t["case"].astype(str).unique() for t in tables.values())))
    weights = (
        resample_weights(len(all_cases), settings.bootstrap, settings.seed)
        if settings.bootstrap
        else None
    )
    warnings: list[str] = []
    rows: list[dict[str, Any]] = []
    frequencies: list[dict[str, Any]] = []
    significance: list[dict[str, Any]] = []
    kendall: list[dict[str, Any]] = []
    task_ranks: list[tuple[float, np.ndarray, np.ndarray | None]] = []
    values_long: list[pd.DataFrame] = []
    for label in labels:
        for metric in settings.metrics:
            task = _task(tables, names, label, metric, settings, all_cases)
            if task is None:
                warnings.append(
                    f"{task_name(label)}, {metric}: no submission has values; not ranked"
                )
                continue
            cases, values, worst, larger = task
            warnings += _missing(names, label, metric, values, settings)
            values_long.append(_long(names, cases, values, label, metric))
            ones = np.ones((1, len(cases)))
            scores, ranks = scores_and_ranks(values, ones, settings, larger, worst)
            boot = None
            if weights is not None:
                if len(cases) < 2:
                    warnings.append(f"{task_name(label)}, {metric}: one case only; no bootstrap")
                else:
                    index = np.searchsorted(all_cases, cases)
                    _, boot = scores_and_ranks(values, weights[:, index], settings, larger, worst)
            rows += _rows(names, label, metric, scores[0], ranks[0], boot, len(cases))
            if boot is not None:
                frequencies += _frequencies(names, label, metric, boot)
                kendall.append(_kendall(label, metric, ranks[0], boot))
            significance += _significance(names, label, metric, filled(values, settings, worst),
                                          settings, larger)  # fmt: skip
            task_ranks.append((settings.weights.get(metric, 1.0), ranks[0], boot))
    if not task_ranks:
        raise UsageError("nothing to rank: no submission has a value of the metrics asked for")
    consensus, boot = _consensus(task_ranks, settings)
    consensus_rank = _rank(consensus, settings)
    consensus_rows = _rows(names, *CONSENSUS, consensus, consensus_rank, boot, len(all_cases))
    if boot is not None:
        frequencies += _frequencies(names, *CONSENSUS, boot)
        kendall.append(_kendall(*CONSENSUS, consensus_rank, boot))
    return RankResult(
        names=tuple(names),
        sources=tuple(sources),
        settings=settings,
        tasks=pd.DataFrame(rows),
        consensus=pd.DataFrame(consensus_rows),
        frequencies=pd.DataFrame(frequencies, columns=FREQUENCY_COLUMNS),
        significance=pd.DataFrame(significance, columns=SIGNIFICANCE_COLUMNS),
        kendall=pd.DataFrame(kendall, columns=KENDALL_COLUMNS),
        cases=len(all_cases),
        warnings=tuple(warnings),
        values=pd.concat(values_long, ignore_index=True) if values_long else None,
    )


FREQUENCY_COLUMNS = ("label", "metric", "submission", "rank", "count", "share")
SIGNIFICANCE_COLUMNS = ("label", "metric", "better", "than", "n", "p", "p_adjusted", "significant")
KENDALL_COLUMNS = ("label", "metric", "tau_median", "tau_q1", "tau_q3", "tau_min")


def _check_metrics(tables: Mapping[str, pd.DataFrame], metrics: Sequence[str]) -> None:
    for name, table in tables.items():
        for column in ("case", "label"):
            if column not in table.columns:
                raise UsageError(f"{name}: the results have no {column!r} column")
    for metric in metrics:
        if not any(metric in t.columns for t in tables.values()):
            have = sorted({c for t in tables.values() for c in t.columns} - {"case", "label"})
            raise UsageError(
                f"--metric {metric}: no submission's results have it (they have "
                f"{', '.join(have[:12])}); score with --metrics {metric}"
            )


def _labels(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    return list(dict.fromkeys(v for t in tables.values() for v in t["label"].astype(str).unique()))


def _chosen_labels(tables: Mapping[str, pd.DataFrame], chosen: Sequence[str] | None) -> list[str]:
    have = _labels(tables)
    if not chosen:
        return have
    unknown = [label for label in chosen if label not in have]
    if unknown:
        raise UsageError(
            f"--labels {', '.join(unknown)}: no submission's results have "
            f"{'it' if len(unknown) == 1 else 'them'} (they have {', '.join(have[:20])})"
        )
    return list(chosen)


def _task(
    tables: Mapping[str, pd.DataFrame],
    names: Sequence[str],
    label: str,
    metric: str,
    settings: RankSettings,
    all_cases: Sequence[str],
) -> tuple[list[str], np.ndarray, float | None, bool] | None:
    """The task's cases, its values (cases x submissions, NaN missing), the value a missing one
    takes under ``missing worst``, and the metric's direction; None when it has no value."""
    columns: dict[str, dict[str, float]] = {}
    for name in names:
        table = tables[name]
        if metric not in table.columns:
            columns[name] = {}
            continue
        part = table[table["label"].astype(str) == label]
        columns[name] = dict(zip(part["case"].astype(str), part[metric].astype(float), strict=True))
    cases = [c for c in all_cases if any(c in columns[n] for n in names)]
    if not cases:
        return None
    values = np.array([[columns[n].get(c, np.nan) for n in names] for c in cases], dtype=float)
    given = settings.worst.get(metric)
    if given is not None:
        values = np.where(np.isnan(values), given, values)  # undefined and missing: its worst
    larger = not lower_is_better(metric)
    if np.isnan(values).all():
        return None
    observed = float(np.nanmin(values) if larger else np.nanmax(values))
    return cases, values, given if given is not None else observed, larger


def _missing(
    names: Sequence[str], label: str, metric: str, values: np.ndarray, settings: RankSettings
) -> list[str]:
    """A warning per submission that lacks cases of the task (or whose metric is undefined)."""
    how = {"worst": "ranked with the worst value", "drop": "left out"}.get(
        settings.missing, f"ranked with {settings.missing}"
    )
    counts = np.isnan(values).sum(axis=0)
    return [
        f"{name} has no {metric} for {int(n)} of the {values.shape[0]} cases of "
        f"{task_name(label)}: {how}"
        for name, n in zip(names, counts, strict=True)
        if n
    ]


def _long(
    names: Sequence[str], cases: Sequence[str], values: np.ndarray, label: str, metric: str
) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "label": label,
            "metric": metric,
            "submission": np.tile(np.asarray(names, dtype=object), len(cases)),
            "case": np.repeat(np.asarray(cases, dtype=object), len(names)),
            "value": values.ravel(),
        }
    )


def _rows(
    names: Sequence[str],
    label: str,
    metric: str,
    scores: np.ndarray,
    ranks: np.ndarray,
    boot: np.ndarray | None,
    n_cases: int,
) -> list[dict[str, Any]]:
    stable = summary(boot) if boot is not None else {}
    return [
        {
            "label": label,
            "metric": metric,
            "submission": name,
            "score": float(scores[s]),
            "rank": float(ranks[s]),
            "n_cases": n_cases,
            **{key: float(v[s]) for key, v in stable.items()},
        }
        for s, name in enumerate(names)
    ]


def _rank(scores: np.ndarray, settings: RankSettings) -> np.ndarray:
    from dicecli.rank.schemes import rank

    return rank(scores, False, settings.ties)


def _consensus(
    task_ranks: list[tuple[float, np.ndarray, np.ndarray | None]], settings: RankSettings
) -> tuple[np.ndarray, np.ndarray | None]:
    """The weighted mean rank over the tasks (per submission), and its ranks per resample
    (None unless every task was resampled); exact, and ranked on the exact means."""
    weights = np.array([w for w, _, _ in task_ranks])
    full, _ = _weighted_mean_ranks(weights, np.stack([r for _, r, _ in task_ranks])[:, None, :])
    boots = [b for _, _, b in task_ranks if b is not None]
    if len(boots) < len(task_ranks):
        return full[0], None
    _, keys = _weighted_mean_ranks(weights, np.stack(boots))
    return full[0], _rank(keys, settings)


def _weighted_mean_ranks(weights: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum_t w_t ranks[t] / sum_t w_t (ranks: tasks x resamples x submissions, multiples of
    one half), each rounded once, and keys that order as the exact values do."""
    from dicecli import exact

    _, rows, subs = ranks.shape
    doubled = np.rint(2 * ranks).astype(np.int64).reshape(len(weights), -1).T  # exact: halves
    numerators, _ = exact.weighted_sums(doubled, weights)  # units of 2**shift, as the weights'
    denominator = 2 * sum(exact.scaled(weights)[0])
    scores = np.array([n / denominator for n in numerators]).reshape(rows, subs)
    keys = [numerators[r * subs : (r + 1) * subs] for r in range(rows)]
    return scores, exact.order_codes(keys)


def _frequencies(
    names: Sequence[str], label: str, metric: str, boot: np.ndarray
) -> list[dict[str, Any]]:
    out = []
    for s, name in enumerate(names):
        values, counts = np.unique(boot[:, s], return_counts=True)
        for value, count in zip(values, counts, strict=True):
            out.append(
                {
                    "label": label,
                    "metric": metric,
                    "submission": name,
                    "rank": float(value),
                    "count": int(count),
                    "share": float(count) / boot.shape[0],
                }
            )
    return out


def _kendall(label: str, metric: str, full: np.ndarray, boot: np.ndarray) -> dict[str, Any]:
    tau = kendall_tau(full, boot)
    tau = tau[np.isfinite(tau)]
    q1, median, q3 = np.percentile(tau, (25, 50, 75)) if tau.size else (np.nan,) * 3
    return {
        "label": label,
        "metric": metric,
        "tau_median": float(median),
        "tau_q1": float(q1),
        "tau_q3": float(q3),
        "tau_min": float(tau.min()) if tau.size else float("nan"),
    }


def _significance(
    names: Sequence[str],
    label: str,
    metric: str,
    values: np.ndarray,
    settings: RankSettings,
    larger: bool,
) -> list[dict[str, Any]]:
    ones = np.ones((1, values.shape[0]))
    _, p, adjusted = significance_shares(values, ones, settings, larger)
    complete = ~np.isnan(values)
    out = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j:
                continue
            q = adjusted[0, i, j]
            out.append(
                {
                    "label": label,
                    "metric": metric,
                    "better": a,
                    "than": b,
                    "n": int((complete[:, i] & complete[:, j]).sum()),
                    "p": float(p[0, i, j]),
                    "p_adjusted": float(q),
                    "significant": bool(np.isfinite(q) and q <= settings.alpha),
                }
            )
    return out
