"""Several raters per case (``dicecli score PRED GT1 GT2 ...``, ``dicecli agreement``): the
tables of a panel, from the runs of the model against each rater (and their consensus) and of
each rater against each other (the inter-rater band).

- ``cases``: every row of every run, ``reference`` and ``prediction`` first;
- ``per_case``: the model's mean, min and max over the raters per case and structure, and the
  band's (the rater pairs) for the panel's metric;
- ``agreement``: Fleiss' kappa per case and structure, from the band's confusion counts (the
  voxel votes are never needed: sum_v n_v^2 = sum_r |R_r| + 2 sum_{r<s} |R_r & R_s|);
- ``summary``: per structure, the model's mean against each rater and over them, the consensus
  rows' mean, the band's pair means (median, min, max), where the model falls, mean kappa;
- the gate: ``--fail-below-raters`` and score's rules on the model's values.

Pure: RunResults in, pandas tables out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dicecli import exact
from dicecli.metrics import registry
from dicecli.metrics.registry import lower_is_better
from dicecli.models import GateSettings, Region, RunResult, ScoreOptions
from dicecli.models.raters import RaterGate, consensus_name

__all__ = ["PanelTables", "fleiss_kappa", "panel_tables", "position"]

#: The ``runs`` key of the consensus rows.
CONSENSUS = "consensus"


@dataclass(frozen=True)
class PanelTables:
    cases: pd.DataFrame
    per_case: pd.DataFrame
    summary: pd.DataFrame
    agreement: pd.DataFrame
    metric: str
    gate: RaterGate | None


def panel_tables(
    raters: Sequence[str],
    runs: Mapping[str, RunResult],
    band: Mapping[tuple[str, str], RunResult],
    prediction: str | None,
    options: ScoreOptions,
    gate: GateSettings | None,
    below_raters: bool,
    consensus: str | None,
) -> PanelTables:
    metric = gate.metric if gate is not None else "dice"
    model = _name(prediction) if prediction else None
    cases = _long(raters, runs, band, model, consensus)
    metrics = _metrics(cases)
    if metric not in metrics and not cases.empty:
        from dicecli.errors import UsageError

        raise UsageError(f"--gate-metric {metric} was not computed; add it to --metrics")
    per_case = _per_case(raters, runs, band, metrics, metric)
    agreement = _agreement(band)
    summary = _summary(raters, runs, band, per_case, agreement, metric)
    checked = _gate(summary, per_case, runs, metric, gate, below_raters) if model else None
    return PanelTables(cases, per_case, summary, agreement, metric, checked)


def _name(path: str) -> str:
    import os

    return os.path.basename(os.path.normpath(path)) or path


def _long(
    raters: Sequence[str],
    runs: Mapping[str, RunResult],
    band: Mapping[tuple[str, str], RunResult],
    model: str | None,
    consensus: str | None,
) -> pd.DataFrame:
    parts = []
    for name in [*raters, CONSENSUS]:
        if name in runs:
            reference = consensus_name(consensus) if name == CONSENSUS else name
            parts.append(_tagged(runs[name].cases, reference, model or "prediction"))
    for (a, b), run in band.items():
        parts.append(_tagged(run.cases, a, b))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=["reference", "prediction", "case", "label"])
    return pd.concat(parts, ignore_index=True)


def _tagged(cases: pd.DataFrame, reference: str, prediction: str) -> pd.DataFrame:
    out = cases.copy()
    out.insert(0, "prediction", prediction)
    out.insert(0, "reference", reference)
    return out


def _metrics(cases: pd.DataFrame) -> list[str]:
    return [m for m in registry.names() if m in cases.columns]


def _per_case(
    raters: Sequence[str],
    runs: Mapping[str, RunResult],
    band: Mapping[tuple[str, str], RunResult],
    metrics: Sequence[str],
    metric: str,
) -> pd.DataFrame:
    """Per case and structure: the model's mean, min and max over the raters of every metric,
    and the band's (mean, min, max over the rater pairs) of ``metric``."""
    model = [runs[n].cases for n in raters if n in runs and not runs[n].cases.empty]
    keys = ["case", "label"]
    frames = []
    if model:
        rows = pd.concat(model, ignore_index=True)
        grouped = rows.groupby(keys, sort=False)
        stats = grouped[list(metrics)].agg([mean, "min", "max"])
        stats.columns = [f"{c[0]}_{c[1]}" for c in stats.columns]
        stats.insert(0, "n_raters", grouped.size())
        frames.append(stats)
    pairs = [run.cases for run in band.values() if not run.cases.empty]
    if pairs and metric in pairs[0].columns:
        rows = pd.concat(pairs, ignore_index=True)
        stats = rows.groupby(keys, sort=False)[metric].agg([mean, "min", "max"])
        stats.columns = [f"band_{metric}_{s}" for s in stats.columns]
        frames.append(stats)
    if not frames:
        return pd.DataFrame(columns=keys)
    table = frames[0]
    for other in frames[1:]:
        table = table.join(other, how="outer")
    return table.reset_index()


def fleiss_kappa(votes_squared: float, marked: float, voxels: float, raters: int) -> float:
    """Fleiss' kappa of one binary category (a structure against the rest) over ``voxels``
    subjects rated by ``raters``: ``marked`` = sum of the raters' counts (sum_v n_v),
    ``votes_squared`` = sum_v n_v^2. NaN when every voxel is rated the same by chance alone
    (nobody marks anything, or everything)."""
    k, n = raters, voxels
    if k < 2 or n <= 0:
        return math.nan
    agreement = (2 * votes_squared - 2 * k * marked + n * k * k - n * k) / (n * k * (k - 1))
    p = marked / (n * k)
    chance = p * p + (1 - p) * (1 - p)
    if chance >= 1:
        return math.nan
    return (agreement - chance) / (1 - chance)


def _agreement(band: Mapping[tuple[str, str], RunResult]) -> pd.DataFrame:
    """Fleiss' kappa per case and structure over the raters whose every pair was scored."""
    columns = ["case", "label", "n_raters", "fleiss_kappa"]
    rows = []
    for (a, b), run in band.items():
        if run.cases.empty or "tp" not in run.cases.columns:
            continue
        for r in run.cases[["case", "label", "tp", "fp", "fn", "tn"]].itertuples(index=False):
            rows.append((r.case, r.label, a, b, r.tp, r.fp, r.fn, r.tn))
    if not rows:
        return pd.DataFrame(columns=columns)
    by_case: dict[tuple[Any, Any], list[tuple[Any, ...]]] = {}
    for row in rows:
        by_case.setdefault((row[0], row[1]), []).append(row)
    out = []
    for (case, label), part in by_case.items():
        present = sorted({str(r[2]) for r in part} | {str(r[3]) for r in part})
        k = len(present)
        if len(part) != k * (k - 1) // 2:  # a pair failed: no kappa over a partial panel
            out.append((case, label, k, math.nan))
            continue
        volume: dict[str, float] = {}
        for _, _, a, b, tp, fp, fn, _ in part:
            volume[str(a)] = float(tp + fn)
            volume[str(b)] = float(tp + fp)
        _, _, _, _, tp, fp, fn, tn = part[0]
        voxels = float(tp + fp + fn + tn)
        marked = sum(volume.values())
        squared = marked + 2 * sum(float(r[4]) for r in part)
        out.append((case, label, k, fleiss_kappa(squared, marked, voxels, k)))
    return pd.DataFrame(out, columns=columns)


def position(mean: float, low: float, high: float) -> str:
    """Where a mean falls against the band's range: below, within or above (in value)."""
    if any(math.isnan(v) for v in (mean, low, high)):
        return ""
    if mean < low:
        return "below"
    if mean > high:
        return "above"
    return "within"


def _summary(
    raters: Sequence[str],
    runs: Mapping[str, RunResult],
    band: Mapping[tuple[str, str], RunResult],
    per_case: pd.DataFrame,
    agreement: pd.DataFrame,
    metric: str,
) -> pd.DataFrame:
    labels = _labels([*runs.values(), *band.values()])
    rows = []
    for label in labels:
        row: dict[str, Any] = {"label": label, "metric": metric}
        mine = per_case[per_case["label"] == label] if "label" in per_case.columns else per_case
        model_column = f"{metric}_mean"
        if runs and model_column in mine.columns:
            row["n_cases"] = int(mine[model_column].notna().sum())
            row["model_mean"] = mean(mine[model_column])
            for name in raters:
                if name in runs:
                    row[f"vs {name}"] = mean(_values(runs[name], label, metric))
            if CONSENSUS in runs:
                row["consensus_mean"] = mean(_values(runs[CONSENSUS], label, metric))
        pair_means = []
        for (a, b), run in band.items():
            value = mean(_values(run, label, metric))
            row[f"{b} vs {a}"] = value
            if not math.isnan(value):
                pair_means.append(value)
        row["n_pairs"] = len(pair_means)
        row["band_median"] = exact.median(pair_means) if pair_means else math.nan
        row["band_min"] = min(pair_means, default=math.nan)
        row["band_max"] = max(pair_means, default=math.nan)
        if "model_mean" in row:
            row["position"] = position(row["model_mean"], row["band_min"], row["band_max"])
        kappas = agreement.loc[agreement["label"] == label, "fleiss_kappa"].astype(float)
        row["fleiss_kappa"] = mean(kappas)
        rows.append(row)
    return pd.DataFrame(rows)


def _labels(results: Sequence[RunResult]) -> list[str]:
    return list(dict.fromkeys(r.name for result in results for r in result.regions))


def _values(run: RunResult, label: str, metric: str) -> pd.Series:
    cases = run.cases
    if cases.empty or metric not in cases.columns:
        return pd.Series([], dtype=float)
    return cases.loc[cases["label"] == label, metric].astype(float)


def mean(values: pd.Series) -> float:
    """The exact mean of a column's values that are not NaN (NaN without any); pandas' ``agg``
    names the column after this function."""
    return exact.mean(values.to_numpy(dtype=float))


def _gate(
    summary: pd.DataFrame,
    per_case: pd.DataFrame,
    runs: Mapping[str, RunResult],
    metric: str,
    settings: GateSettings | None,
    below_raters: bool,
) -> RaterGate | None:
    """``--fail-below-raters`` per structure, and score's rules on the model's values (the
    consensus rows when there are any, else the per-case mean over the raters)."""
    from dicecli.gate import evaluate_gate

    if not below_raters and (settings is None or not settings.active):
        return None
    failures, rules = [], []
    lower = lower_is_better(metric)
    if below_raters:
        for r in summary.to_dict(orient="records"):
            worst = r["band_max"] if lower else r["band_min"]
            mean = r.get("model_mean", math.nan)
            if math.isnan(worst):
                continue
            rules.append(f"{r['label']} mean {metric} no worse than the raters' worst pair")
            worse = mean > worst if lower else mean < worst
            if math.isnan(mean) or worse:
                failures.append(
                    f"{r['label']} mean {metric} {mean:.3f} is worse than every rater pair "
                    f"(band {r['band_min']:.3f} to {r['band_max']:.3f})"
                )
    score = None
    if settings is not None and settings.active:
        cases, regions = _gated(per_case, runs, metric)
        score = evaluate_gate(cases, regions, settings)
    return RaterGate(below_raters, tuple(failures), tuple(rules), score)


def _gated(
    per_case: pd.DataFrame, runs: Mapping[str, RunResult], metric: str
) -> tuple[pd.DataFrame, tuple[Region, ...]]:
    if CONSENSUS in runs:
        run = runs[CONSENSUS]
        return run.cases, run.regions
    regions = tuple({r.name: r for run in runs.values() for r in run.regions}.values())
    column = f"{metric}_mean"
    table = per_case[["case", "label", column]].rename(columns={column: metric})
    return table, regions
