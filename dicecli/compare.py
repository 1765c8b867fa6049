"""Paired statistics between prediction sets scored against one reference (``dicecli compare``).

Pure functions over the per-case tables of each set: no I/O, no printing. For each label, metric
and pair of sets (B against A), over the cases where both values are defined: the mean and median
paired difference (B − A), a percentile-bootstrap 95% interval of the mean difference (cases
resampled, seeded), the two-sided Wilcoxon signed-rank test (``scipy.stats.wilcoxon`` with its
defaults), wins/ties/losses following the metric's direction, and Holm-adjusted p-values over
every comparison of the run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from dicecli.metrics import registry
from dicecli.metrics.paired import paired_values
from dicecli.metrics.registry import lower_is_better
from dicecli.models import (
    CompareGate,
    CompareResult,
    GateCheck,
    WorseRule,
)

__all__ = ["CompareGate", "CompareResult", "GateCheck", "WorseRule"]

if TYPE_CHECKING:
    import pandas as pd


#: Columns of the comparisons table, in order (CSV columns and JSON fields).
COLUMNS = (
    "label",
    "metric",
    "a",
    "b",
    "n",
    "n_left_out",
    "left_out",
    "mean_a",
    "mean_b",
    "mean_diff",
    "median_diff",
    "ci_low",
    "ci_high",
    "wilcoxon_p",
    "p_holm",
    "wins",
    "ties",
    "losses",
)


def set_pairs(names: Sequence[str], all_pairs: bool) -> tuple[tuple[str, str], ...]:
    """(A, B) pairs: every later set against the first, or every pair in order."""
    if all_pairs:
        return tuple((a, b) for i, a in enumerate(names) for b in names[i + 1 :])
    return tuple((names[0], b) for b in names[1:])


def metrics_of(cases: pd.DataFrame, named: str = "") -> tuple[str, ...]:
    """The metrics compared: those present in a per-case table, overlap first -- of the overlap
    metrics the ones shown by default and those ``--metrics`` names (``named``; ``all``: every
    one), so that a metric added to the registry does not change the Holm family of a run."""
    chosen = {n.strip() for n in named.split(",")}
    return tuple(
        m.name
        for m in registry.metrics()
        if m.name in cases.columns
        and (m.family != "overlap" or m.shown or m.name in chosen or "all" in chosen)
    )


def compare_tables(
    tables: Mapping[str, pd.DataFrame],
    pairs: Sequence[tuple[str, str]],
    labels: Sequence[str],
    metrics: Sequence[str],
    resamples: int = 1000,
) -> pd.DataFrame:
    """One row per label × metric × pair (columns ``COLUMNS``); ``tables`` are the per-case
    tables of each set (columns case, label and the metrics)."""
    import pandas as pd

    rows = []
    for a, b in pairs:
        for label in labels:
            for metric in metrics:
                va, vb, left_out = paired_values(tables[a], tables[b], label, metric, (a, b))
                rows.append(
                    {
                        "label": label,
                        "metric": metric,
                        "a": a,
                        "b": b,
                        **paired_statistics(va, vb, metric, resamples),
                        "n_left_out": sum(left_out.values()),
                        "left_out": "; ".join(f"{n} {why}" for why, n in left_out.items() if n),
                    }
                )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if not table.empty:
        table["p_holm"] = holm(table["wilcoxon_p"].to_numpy(dtype=float))
    return table


def paired_statistics(
    va: np.ndarray, vb: np.ndarray, metric: str, resamples: int
) -> dict[str, float | int]:
    """n, means, mean and median difference (B − A), its bootstrap interval, Wilcoxon p, and
    wins/ties/losses of B (better = higher, or lower for distances)."""
    from dicecli import exact
    from dicecli.aggregate import bootstrap_ci

    diff = vb - va
    n = int(diff.size)
    nan = float("nan")
    low, high = bootstrap_ci(diff, resamples) if n else (nan, nan)
    better = -diff if lower_is_better(metric) else diff
    return {
        "n": n,
        "mean_a": exact.mean(va) if n else nan,
        "mean_b": exact.mean(vb) if n else nan,
        "mean_diff": exact.mean(diff) if n else nan,
        "median_diff": exact.median(diff) if n else nan,
        "ci_low": low,
        "ci_high": high,
        "wilcoxon_p": wilcoxon_p(diff),
        "wins": int(np.count_nonzero(better > 0)),
        "ties": int(np.count_nonzero(better == 0)),
        "losses": int(np.count_nonzero(better < 0)),
    }


def wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided ``scipy.stats.wilcoxon`` p-value with scipy's defaults (zero differences
    dropped, "wilcox"; exact distribution for small samples without ties, the normal
    approximation otherwise). 1.0 when every difference is zero (scipy returns NaN: there is
    nothing to rank); NaN without cases."""
    if diff.size == 0:
        return float("nan")
    if not np.any(diff):
        return 1.0
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample notes; the p-value is what scipy gives
        return float(wilcoxon(diff).pvalue)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment over the defined p-values (NaN stays NaN).

    >>> holm(np.array([0.01, 0.04, 0.03, np.nan])).tolist()[:3]
    [0.03, 0.06, 0.06]
    """
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(np.isfinite(p))
    m = defined.size
    running = 0.0
    for rank, i in enumerate(defined[np.argsort(p[defined], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * float(p[i])))
        out[i] = running
    return out


def evaluate(
    comparisons: pd.DataFrame, metric: str, rules: Sequence[WorseRule], alpha: float
) -> CompareGate:
    """Fail a pair on a label when B trails A by more than the label's margin, or when B is
    significantly worse (Holm-adjusted p < alpha, in the metric's worse direction)."""
    margins = {r.label: r.margin for r in rules}
    lower = lower_is_better(metric)
    checks = []
    for record in comparisons[comparisons["metric"] == metric].to_dict(orient="records"):
        row = SimpleNamespace(**{str(k): v for k, v in record.items()})
        margin = margins.get(str(row.label), margins.get(None))
        if margin is None:
            continue
        trail = (row.mean_b - row.mean_a) if lower else (row.mean_a - row.mean_b)
        pair = f"{row.b} vs {row.a}"
        where = f"{pair}, {row.label}: mean {metric} {row.mean_b:.4f} vs {row.mean_a:.4f}"
        failure = None
        if math.isnan(trail):
            failure = f"{pair}, {row.label}: no case with {metric} defined in both sets"
        elif trail > margin:
            failure = f"{where} ({trail:.4f} worse, more than the margin {margin:g})"
        elif trail > 0 and row.p_holm < alpha:
            failure = (
                f"{where}: significantly worse (Holm-adjusted Wilcoxon p {row.p_holm:.3g} < "
                f"{alpha:g})"
            )
        checks.append(GateCheck(pair, str(row.label), failure))
    return CompareGate(metric, alpha, tuple(rules), tuple(checks))


def parse_worse_rules(values: Sequence[str]) -> tuple[WorseRule, ...]:
    """``0.02`` (every label) or ``liver=0.02`` (one label); a label rule wins over the global."""
    from dicecli.errors import UsageError

    rules = []
    for value in values:
        label, _, number = value.rpartition("=")
        try:
            margin = float(number)
        except ValueError:
            raise UsageError(
                f"--fail-if-worse {value}: write MARGIN or LABEL=MARGIN, e.g. 0.02 or liver=0.02"
            ) from None
        if margin < 0 or math.isnan(margin):
            raise UsageError(f"--fail-if-worse {value}: the margin must be zero or positive")
        rules.append(WorseRule(margin, label.strip() or None))
    return tuple(rules)
