"""OpenMetrics text (``-o metrics.prom``, ``--format openmetrics``) for GitLab's metrics reports
(``artifacts:reports:metrics``) and Prometheus: one gauge family per metric, its mean over the
scored cases per structure (the structure an OpenMetrics label), the pooled Dice, the cases
scored and failed, the gate; ending in ``# EOF``. Valid per ``prometheus_client``'s parser."""

from __future__ import annotations

import math
import re
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dicecli.models import RunResult

PREFIX = "dicecli"
_NAME = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(*parts: str) -> str:
    """``dicecli_dice_mean``: the parts joined by _, anything else than [a-zA-Z0-9_] as _."""
    return _NAME.sub("_", "_".join((PREFIX, *parts)))


def label_value(text: str) -> str:
    """An OpenMetrics label value: backslash, double quote and line feed escaped."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: Any) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iub"):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def write_openmetrics(result: RunResult, stream: IO[str]) -> None:
    from dicecli.metrics import registry

    summary = result.summary
    families: list[tuple[str, str, list[tuple[dict[str, str], Any]]]] = []
    for metric in registry.names():
        column = f"{metric}_mean"
        if column not in summary.columns:
            continue
        entry = registry.metric(metric)
        samples = [({"label": str(r["label"])}, r[column]) for r in summary.to_dict("records")]
        unit = f", {entry.unit}" if entry.unit else ""
        text = f"Mean {metric} per structure over the scored cases ({entry.title}{unit})"
        families.append((metric_name(metric, "mean"), text, samples))
    if "pooled_dice" in summary.columns:
        records = summary.to_dict("records")
        samples = [({"label": str(r["label"])}, r["pooled_dice"]) for r in records]
        families.append(
            (metric_name("pooled_dice"), "Dice of the counts summed over the cases", samples)
        )
    scored = int(result.cases["case"].nunique()) if not result.cases.empty else 0
    families.append(
        (
            metric_name("cases"),
            "Cases scored and cases that could not be scored",
            [({"status": "scored"}, scored), ({"status": "failed"}, len(result.errors))],
        )
    )
    if result.gate is not None:
        passed: list[tuple[dict[str, str], Any]] = [({}, int(result.gate.passed))]
        families.append((metric_name("gate_passed"), "1 when every gate rule passed", passed))
    for name, text, samples in families:
        stream.write(f"# TYPE {name} gauge\n# HELP {name} {text}\n")
        for labels, value in samples:
            inner = ",".join(f'{k}="{label_value(v)}"' for k, v in labels.items())
            sample = f"{name}{{{inner}}}" if inner else name
            stream.write(f"{sample} {number(value)}\n")
    stream.write("# EOF\n")
