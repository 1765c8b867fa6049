"""JSON: a versioned report with options, per-case rows, the summary and the errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import IO, TYPE_CHECKING, Any, TypedDict

from dicecli._version import __version__
from dicecli.exact import SUMMATION

if TYPE_CHECKING:
    import pandas as pd

    from dicecli.models import RunResult

#: Bumped on any incompatible change to the layout below (and noted in the CHANGELOG).
SCHEMA_VERSION = 1


class JsonReport(TypedDict):
    schema_version: int
    #: false when the run was interrupted (a signal) before every case was scored
    complete: bool
    dicecli_version: str
    created: str
    backend: str
    options: dict[str, Any]
    labels: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    warnings: list[str]
    #: what the run found by itself (label tables beside the data)
    notes: list[str]
    skipped: list[str]
    unmatched_predictions: list[str]
    settings: dict[str, dict[str, Any]]
    gate: dict[str, Any] | None
    #: one entry per lesion with --lesions, else null
    lesions: list[dict[str, Any]] | None
    #: per label and lesion size bin with --lesion-size-bins, else null
    lesion_bins: list[dict[str, Any]] | None


def build_report(result: RunResult) -> JsonReport:
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": result.complete,
        "dicecli_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "backend": result.backend,
        "options": dataclasses.asdict(result.options),
        "labels": [{"name": r.name, "values": list(r.values)} for r in result.regions],
        "cases": _records(result.cases),
        "summary": _records(result.summary),
        "errors": [dataclasses.asdict(e) for e in result.errors],
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "skipped": list(result.skipped),
        "unmatched_predictions": list(result.unmatched_predictions),
        # how every aggregate was summed (dicecli.exact): the same bits on every machine
        "settings": {**result.settings, "summation": {"value": SUMMATION, "source": "dicecli"}},
        "gate": _gate(result),
        "lesions": _records(result.lesions) if result.lesions is not None else None,
        "lesion_bins": _records(result.lesion_bins) if result.lesion_bins is not None else None,
    }


def write_json(result: RunResult, stream: IO[str]) -> None:
    # default=str: option values such as paths are written as text
    json.dump(build_report(result), stream, indent=2, allow_nan=False, default=str)
    stream.write("\n")


def _gate(result: RunResult) -> dict[str, Any] | None:
    gate = result.gate
    if gate is None:
        return None
    return {
        "passed": gate.passed,
        "metric": gate.settings.metric,
        "gate_empty": gate.settings.gate_empty,
        "rules": list(gate.rules),
        "failures": [{**dataclasses.asdict(f), "value": _plain(f.value)} for f in gate.failures],
        "empty_skipped": dict(gate.empty_skipped),
        "baseline": [
            {
                "label": c.label,
                "baseline": _plain(c.baseline),
                "current": _plain(c.current),
                "delta": _plain(c.delta),
            }
            for c in gate.comparison
        ],
        "only_in_baseline": list(gate.only_in_baseline),
        "only_in_current": list(gate.only_in_current),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values; NaN becomes null (JSON has no NaN)."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
