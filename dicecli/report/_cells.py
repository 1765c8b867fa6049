"""The text cells that the terminal table and the Markdown report share."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dicecli.api import RunResult

CASE_HEADERS = (
    "case",
    "label",
    "dice",
    "iou",
    "precision",
    "recall",
    "specificity",
    "pred mL",
    "ref mL",
    "empty",
)
SUMMARY_HEADERS = (
    "label",
    "n",
    "valid",
    "dice mean ± std",
    "median [q1, q3]",
    "min – max",
    "pooled dice",
    "iou mean",
    "empty both/ref/pred",
)


def num(value: Any, digits: int = 4) -> str:
    """A metric as text; NaN (undefined, e.g. both masks empty) shows as ``nan``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.{digits}f}"


def case_cells(result: RunResult) -> list[list[str]]:
    rows = []
    for r in result.cases.itertuples(index=False):
        rows.append(
            [
                str(r.case),
                str(r.label),
                num(r.dice),
                num(r.iou),
                num(r.precision),
                num(r.recall),
                num(r.specificity),
                _ml(float(r.pred_volume_ml)),  # type: ignore[arg-type]
                _ml(float(r.ref_volume_ml)),  # type: ignore[arg-type]
                str(r.empty),
            ]
        )
    return rows


def summary_cells(result: RunResult) -> list[list[str]]:
    rows = []
    for s in result.summary.to_dict(orient="records"):
        rows.append(
            [
                str(s["label"]),
                str(s["n"]),
                str(s["dice_n_valid"]),
                f"{num(s['dice_mean'])} ± {num(s['dice_std'])}",
                f"{num(s['dice_median'])} [{num(s['dice_q1'])}, {num(s['dice_q3'])}]",
                f"{num(s['dice_min'])} – {num(s['dice_max'])}",
                num(s["pooled_dice"]),
                num(s["iou_mean"]),
                f"{s['n_both_empty']}/{s['n_ref_empty']}/{s['n_pred_empty']}",
            ]
        )
    return rows


def error_lines(result: RunResult) -> list[str]:
    return [f"{e.case}: {e.message.splitlines()[0]}" for e in result.errors]


def _ml(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


COMPARISON_HEADERS = ("label", "baseline", "current", "delta")


def comparison_cells(result: RunResult) -> list[list[str]]:
    """Per label: baseline mean, current mean and their difference (``--baseline``)."""
    gate = result.gate
    if gate is None:
        return []
    return [[c.label, num(c.baseline), num(c.current), f"{c.delta:+.4f}"] for c in gate.comparison]


def gate_lines(result: RunResult) -> list[str]:
    """The verdict and each failed rule, for Markdown and step summaries."""
    gate = result.gate
    if gate is None or not gate.rules:
        return []
    if gate.passed:
        return [f"**Gate passed**: {'; '.join(gate.rules)}"]
    return [f"**Gate failed** ({len(gate.failures)} rule(s)):"] + [
        f"- {f.message}" for f in gate.failures
    ]
