"""The text cells that the terminal table and the Markdown report share."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from dicecli.models import RunResult

from dicecli.metrics import registry

_SUMMARY_HEADERS = (
    "label",
    "n",
    "valid",
    "dice mean ± sd",
    "95% CI",
    "median [IQR]",
    "min – max",
    "pooled",
)


#: The ``empty`` cell of a structure that one side does not name at all.
ABSENT = {
    "prediction": "not in prediction",
    "reference": "not in reference",
    "both": "named by neither",
}


def num(value: Any, digits: int = 4) -> str:
    """A metric as text; NaN (undefined, e.g. both masks empty) shows as ``nan``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.{digits}f}"


def surface_columns(result: RunResult) -> list[str]:
    """The surface and calibration metrics this run computed (``--metrics``)."""
    opt_in = (*registry.names("surface"), *registry.names("calibration"))
    return [m for m in opt_in if m in result.cases.columns]


def _header(name: str) -> str:
    """A metric's column header: its name, and its unit when it has one (``hd95 mm``)."""
    unit = registry.metric(name).unit
    return f"{name} {unit}" if unit else name


def _lesions(result: RunResult) -> bool:
    return "lesion_tp" in result.cases.columns


def overlap_columns(result: RunResult) -> list[str]:
    """The overlap metrics the tables show: those shown by default, and those ``--metrics``
    names (``all``: every one)."""
    named = {n.strip() for n in str(result.options.metrics).split(",")}
    return [
        m.name for m in registry.metrics("overlap") if m.shown or m.name in named or "all" in named
    ]


def case_headers(result: RunResult) -> tuple[str, ...]:
    overlap = [_header(m) for m in overlap_columns(result)]
    surface = [_header(m) for m in surface_columns(result)]
    lesions = ("lesions TP/FP/FN", "lesion F1") if _lesions(result) else ()
    return ("case", "label", *overlap, *surface, *lesions, "pred mL", "ref mL", "empty")


def case_cells(result: RunResult) -> list[list[str]]:
    shown = [registry.metric(m) for m in (*overlap_columns(result), *surface_columns(result))]
    lesions = _lesions(result)
    rows = []
    for r in result.cases.to_dict(orient="records"):
        rows.append(
            [
                str(r["case"]),
                str(r["label"]),
                *(num(r[m.name], m.digits) for m in shown),
                *(
                    (f"{r['lesion_tp']}/{r['lesion_fp']}/{r['lesion_fn']}", num(r["lesion_f1"]))
                    if lesions
                    else ()
                ),
                _ml(float(r["pred_volume_ml"])),
                _ml(float(r["ref_volume_ml"])),
                ABSENT.get(str(r.get("absent") or ""), str(r["empty"])),
            ]
        )
    return rows


#: what a spread (sd, confidence interval) shows when fewer than two values were valid
NO_SPREAD = "–"


def summary_headers(result: RunResult) -> tuple[str, ...]:
    surface = [f"{m} median" for m in surface_columns(result)]
    return (*_SUMMARY_HEADERS, *surface, "empty b/r/p")


def summary_cells(result: RunResult) -> list[list[str]]:
    surface = surface_columns(result)
    rows = []
    for s in result.summary.to_dict(orient="records"):
        single = int(s["dice_n_valid"]) < 2  # no spread: one value has no sd and no interval
        rows.append(
            [
                str(s["label"]),
                str(s["n"]),
                str(s["dice_n_valid"]),
                f"{num(s['dice_mean'])} ± {NO_SPREAD if single else num(s['dice_std'])}",
                NO_SPREAD if single else f"[{num(s['dice_ci_low'])}, {num(s['dice_ci_high'])}]",
                f"{num(s['dice_median'])} [{num(s['dice_q1'])}, {num(s['dice_q3'])}]",
                f"{num(s['dice_min'])} – {num(s['dice_max'])}",
                num(s["pooled_dice"]),
                *(num(s[f"{m}_median"], registry.metric(m).digits) for m in surface),
                f"{s['n_both_empty']}/{s['n_ref_empty']}/{s['n_pred_empty']}",
            ]
        )
    return rows


LESION_HEADERS = (
    *("label", "ref", "pred", "TP", "FP", "FN", "F1 pooled"),
    *("F1", "SQ", "PQ", "Dice", "region Dice"),
)


def lesion_cells(result: RunResult) -> list[list[str]]:
    """Per label (``--lesions``): lesions found, detection summed over cases, and the means of
    the per-case lesion-wise scores; lesion HD95 (mm) when computed."""
    if "lesion_tp_total" not in result.summary.columns:
        return []
    hd95 = "lesion_hd95_mean" in result.summary.columns
    rows = []
    for s in result.summary.to_dict(orient="records"):
        part = result.cases[result.cases["label"] == s["label"]]
        rows.append(
            [
                str(s["label"]),
                str(int(part["lesions_ref"].sum())),
                str(int(part["lesions_pred"].sum())),
                str(s["lesion_tp_total"]),
                str(s["lesion_fp_total"]),
                str(s["lesion_fn_total"]),
                num(s["lesion_f1_pooled"]),
                *(num(s[f"lesion_{m}_mean"]) for m in ("f1", "sq", "pq", "dice", "region_dice")),
                *([num(s["lesion_hd95_mean"], 2)] if hd95 else []),
            ]
        )
    return rows


SIZE_BIN_HEADERS = ("label", "size", "ref", "TP", "FN", "FP", "recall", "precision", "F1")


def size_bin_cells(result: RunResult) -> list[list[str]]:
    """Per label and lesion size bin (``--lesion-size-bins``), summed over the cases."""
    if result.lesion_bins is None:
        return []
    return [
        [
            str(b["label"]),
            f"{b['bin']} {'mm³' if b['unit'] == 'mm3' else 'vox'}",
            *(str(b[c]) for c in ("lesions_ref", "lesion_tp", "lesion_fn", "lesion_fp")),
            *(num(b[c]) for c in ("recall", "precision", "f1")),
        ]
        for b in result.lesion_bins.to_dict(orient="records")
    ]


def lesion_headers(result: RunResult) -> tuple[str, ...]:
    hd95 = "lesion_hd95_mean" in result.summary.columns
    return (*LESION_HEADERS, *(("HD95 mm",) if hd95 else ()))


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


def records(frame: pd.DataFrame) -> list[Any]:
    """A table's rows as records with attributes (``row.mean_diff``)."""
    return [
        SimpleNamespace(**{str(k): v for k, v in row.items()})
        for row in frame.to_dict(orient="records")
    ]
