"""CI gates: thresholds and regression against a baseline, evaluated into a GateOutcome (pure).

How NaN values (both masks empty, under ``--empty nan``) enter a gate is ``gate_empty``: ``skip``
leaves them out (and counts them), ``fail`` counts them as 0 (a failing case), ``pass`` as 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dicecli import exact
from dicecli.errors import DiceCliError, UsageError
from dicecli.metrics.registry import lower_is_better
from dicecli.models import (
    GateEmpty,
    GateOutcome,
    GateSettings,
    LabelComparison,
    Region,
    RuleFailure,
)

__all__ = ["GateEmpty", "GateOutcome", "GateSettings", "LabelComparison", "RuleFailure"]


def parse_fail_under(values: Sequence[str]) -> tuple[float | None, dict[str, float]]:
    """``["0.85", "liver=0.9"]`` -> (0.85, {"liver": 0.9}); the last global value wins."""
    overall: float | None = None
    per_label: dict[str, float] = {}
    for raw in values:
        label, _, number = str(raw).rpartition("=")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(
                f"--fail-under: cannot read {raw!r}; write a number (0.85) or LABEL=NUMBER"
            ) from None
        if label.strip():
            per_label[label.strip()] = value
        else:
            overall = value
    return overall, per_label


def load_baseline(path: str) -> dict[str, Any]:
    """A JSON report that dicecli wrote earlier."""
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except OSError as e:
        raise DiceCliError(f"{path}: cannot read the baseline ({e.strerror})") from e
    except ValueError as e:
        raise DiceCliError(f"{path}: the baseline is not valid JSON ({e})") from e
    if not isinstance(report, dict) or "schema_version" not in report or "cases" not in report:
        raise DiceCliError(f"{path}: not a dicecli JSON report; write one with -o results.json")
    return report


def evaluate_gate(
    cases: pd.DataFrame,
    regions: Sequence[Region],
    settings: GateSettings,
    baseline: Mapping[str, Any] | None = None,
) -> GateOutcome:
    """Check every rule; a label-mean rule per label, a case rule per case and label."""
    if settings.metric not in cases.columns:
        remedy = (
            "pass --lesions" if settings.metric.startswith("lesion_") else "add it to --metrics"
        )
        raise UsageError(f"--gate-metric {settings.metric} was not computed; {remedy}")
    names = [r.name for r in regions]
    thresholds = _label_thresholds(settings, regions)
    metric, worse = settings.metric, _worse(settings.metric)
    failures: list[RuleFailure] = []
    rules: list[str] = []
    skipped: dict[str, int] = {}
    for name in names:
        values = cases.loc[cases["label"] == name, ["case", metric]]
        gated, n_skipped = _gated_values(
            values[metric].to_numpy(dtype=float), settings.gate_empty, metric
        )
        skipped[name] = n_skipped
        mean = exact.mean(gated) if gated.size else math.nan
        if name in thresholds:
            limit = thresholds[name]
            rules.append(f"{name} mean {metric} {_bound(metric)} {limit:g}")
            if math.isnan(mean) or worse(mean, limit):
                failures.append(
                    RuleFailure(
                        "mean",
                        name,
                        None,
                        mean,
                        limit,
                        f"{name} mean {metric} {mean:.3f} {_op(metric)} {limit:.3f} "
                        f"({gated.size} cases, {n_skipped} empty skipped)",
                    )
                )
        if settings.fail_case_under is not None:
            failures += _case_failures(values, name, settings)
    if settings.fail_case_under is not None:
        rules.append(f"every case {metric} {_bound(metric)} {settings.fail_case_under:g}")
    outcome = GateOutcome(settings, tuple(failures), tuple(rules), skipped)
    if baseline is not None:
        outcome = _regression(outcome, cases, names, settings, baseline)
    return outcome


def _label_thresholds(settings: GateSettings, regions: Sequence[Region]) -> dict[str, float]:
    thresholds = (
        {r.name: settings.fail_under for r in regions} if settings.fail_under is not None else {}
    )
    for key, value in settings.fail_under_labels.items():
        match = [r.name for r in regions if key in (r.name, r.spec)]
        if not match:
            known = ", ".join(r.name for r in regions)
            raise UsageError(f"--fail-under {key}={value:g}: no label {key!r} (labels: {known})")
        thresholds[match[0]] = value
    return thresholds


def _gated_values(values: np.ndarray, policy: GateEmpty, metric: str) -> tuple[np.ndarray, int]:
    """Undefined values left out (skip), or replaced by the worst (fail) or best (pass) value."""
    nan = np.isnan(values)
    if policy == "skip":
        return values[~nan], int(nan.sum())
    worst, best = (math.inf, 0.0) if lower_is_better(metric) else (0.0, 1.0)
    return np.where(nan, worst if policy == "fail" else best, values), 0


def _case_failures(values: pd.DataFrame, name: str, settings: GateSettings) -> list[RuleFailure]:
    limit = settings.fail_case_under
    assert limit is not None
    metric, worse = settings.metric, _worse(settings.metric)
    out = []
    for case, value in zip(values["case"], values[metric].to_numpy(dtype=float), strict=True):
        if math.isnan(value):
            if settings.gate_empty != "fail":
                continue
            text = f"case {case} {name} {metric} is undefined (both empty) and --gate-empty fail"
        elif worse(value, limit):
            text = f"case {case} {name} {metric} {value:.3f} {_op(metric)} {limit:.3f}"
        else:
            continue
        out.append(RuleFailure("case", name, str(case), value, limit, text))
    return out


def _regression(
    outcome: GateOutcome,
    cases: pd.DataFrame,
    names: Sequence[str],
    settings: GateSettings,
    baseline: Mapping[str, Any],
) -> GateOutcome:
    metric = settings.metric
    old = pd.DataFrame(baseline.get("cases") or [], columns=["case", "label", metric])
    old[metric] = pd.to_numeric(old[metric], errors="coerce")
    failures = list(outcome.failures)
    rules = list(outcome.rules)
    comparison = []
    for name in names:
        before, _ = _gated_values(
            old.loc[old["label"] == name, metric].to_numpy(float), settings.gate_empty, metric
        )
        now, _ = _gated_values(
            cases.loc[cases["label"] == name, metric].to_numpy(float), settings.gate_empty, metric
        )
        if not before.size or not now.size:
            continue
        item = LabelComparison(name, exact.mean(before), exact.mean(now))
        comparison.append(item)
        drop = -item.delta if not lower_is_better(metric) else item.delta
        if settings.max_drop is not None and drop > settings.max_drop:
            failures.append(
                RuleFailure(
                    "drop",
                    name,
                    None,
                    drop,
                    settings.max_drop,
                    f"{name} mean {metric} dropped {drop:.3f} ({item.baseline:.3f} -> "
                    f"{item.current:.3f}) > max drop {settings.max_drop:.3f}",
                )
            )
    if settings.max_drop is not None:
        rules.append(f"no label mean {metric} drops more than {settings.max_drop:g}")
    if settings.max_case_drop is not None:
        rules.append(f"no case {metric} drops more than {settings.max_case_drop:g}")
        failures += _case_drops(old, cases, settings)
    old_cases, new_cases = set(old["case"].astype(str)), set(cases["case"].astype(str))
    return GateOutcome(
        settings,
        tuple(failures),
        tuple(rules),
        outcome.empty_skipped,
        tuple(comparison),
        tuple(sorted(old_cases - new_cases)),
        tuple(sorted(new_cases - old_cases)),
    )


def _case_drops(
    old: pd.DataFrame, cases: pd.DataFrame, settings: GateSettings
) -> list[RuleFailure]:
    metric, limit = settings.metric, settings.max_case_drop
    assert limit is not None
    both = (
        cases[["case", "label", metric]]
        .astype({"case": str})
        .merge(old.astype({"case": str}), on=["case", "label"], suffixes=("", "_baseline"))
    )
    out = []
    for row in both.itertuples(index=False):
        now, before = float(getattr(row, metric)), float(getattr(row, f"{metric}_baseline"))
        drop = before - now if not lower_is_better(metric) else now - before
        if not math.isnan(drop) and drop > limit:
            out.append(
                RuleFailure(
                    "case_drop",
                    str(row.label),
                    str(row.case),
                    drop,
                    limit,
                    f"case {row.case} {row.label} {metric} dropped {drop:.3f} ({before:.3f} -> "
                    f"{now:.3f}) > max case drop {limit:.3f}",
                )
            )
    return out


def _worse(metric: str) -> Any:
    if lower_is_better(metric):
        return lambda value, limit: value > limit
    return lambda value, limit: value < limit


def _op(metric: str) -> str:
    return ">" if lower_is_better(metric) else "<"


def _bound(metric: str) -> str:
    return "<=" if lower_is_better(metric) else ">="
