"""The outputs of a panel of raters (``dicecli score PRED GT1 GT2 ...``, ``dicecli agreement``):
terminal tables, CSV (every row, ``reference`` and ``prediction`` first), JSON (everything,
versioned), Markdown and JUnit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import IO, TYPE_CHECKING, Any

from dicecli._version import __version__
from dicecli.models.raters import consensus_name

if TYPE_CHECKING:
    from dicecli.models.raters import PanelResult

#: Bumped on any incompatible change to the JSON layout below.
SCHEMA_VERSION = 1


def describe(result: PanelResult) -> str:
    n = result.summary["n_cases"].max() if "n_cases" in result.summary.columns else None
    raters = f"{len(result.raters)} raters ({', '.join(result.raters)})"
    pairs = len(result.band)
    if result.model is None:
        return f"Agreement of {raters}: {pairs} rater pair(s)"
    cases = f", {int(n)} case(s)" if n is not None and not _nan(n) else ""
    consensus = f"; consensus: {consensus_name(result.consensus)}" if result.consensus else ""
    if result.options.dissensus == "ignore":
        consensus += " (the voxels the raters disagree on left out)"
    return (
        f"{result.model} against {raters}{cases}; inter-rater band over {pairs} rater pair(s), "
        f"the earlier rater as reference{consensus}"
    )


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value: Any, digits: int = 4) -> str:
    return "–" if _nan(value) else f"{value:.{digits}f}"


def summary_cells(result: PanelResult) -> tuple[list[str], list[list[str]]]:
    """The summary as text cells: per structure the model's mean against each rater and over
    them, the consensus, the band and where the model falls; or, without a model, each rater
    pair's mean."""
    m = result.metric
    rows = result.summary.to_dict(orient="records")
    pairs = [f"{b} vs {a}" for a, b in result.band]
    if result.model is None:
        headers = ["label", *pairs, f"band {m} median [min, max]", "Fleiss κ"]
    else:
        headers = ["label", "n", *(f"{m} vs {r}" for r in result.raters), "mean over raters"]
        if result.consensus:
            headers.append(f"vs {consensus_name(result.consensus)}")
        headers += [f"band {m} median [min, max]", "model", "Fleiss κ"]
    body = []
    for r in rows:
        band = f"{_num(r['band_median'])} [{_num(r['band_min'])}, {_num(r['band_max'])}]"
        kappa = _num(r.get("fleiss_kappa"), 3)
        if result.model is None:
            body.append([str(r["label"]), *(_num(r.get(p)) for p in pairs), band, kappa])
            continue
        line = [str(r["label"]), str(int(r.get("n_cases", 0) or 0))]
        line += [_num(r.get(f"vs {name}")) for name in result.raters]
        line.append(_num(r.get("model_mean")))
        if result.consensus:
            line.append(_num(r.get("consensus_mean")))
        line += [band, str(r.get("position") or "–"), kappa]
        body.append(line)
    return headers, body


def band_cells(result: PanelResult) -> tuple[list[str], list[list[str]]]:
    """Each rater pair's mean per structure (the band's members)."""
    pairs = [f"{b} vs {a}" for a, b in result.band]
    headers = ["label", *pairs]
    body = [
        [str(r["label"]), *(_num(r.get(p)) for p in pairs)]
        for r in result.summary.to_dict(orient="records")
    ]
    return headers, body


def reading(result: PanelResult) -> list[str]:
    """One sentence per structure: where the model falls against the band."""
    if result.model is None:
        return []
    out = []
    for r in result.summary.to_dict(orient="records"):
        where = r.get("position")
        if not where:
            continue
        from dicecli.metrics.registry import lower_is_better

        better = "below" if lower_is_better(result.metric) else "above"
        verdict = (
            "" if where == "within" else
            ": better than every rater pair" if where == better else
            ": worse than every rater pair"
        )  # fmt: skip
        out.append(
            f"{r['label']}: the model's mean {result.metric} {_num(r['model_mean'])} is {where} "
            f"the inter-rater band ({_num(r['band_min'])} to {_num(r['band_max'])}, median "
            f"{_num(r['band_median'])}){verdict}"
        )
    return out


def write_table(result: PanelResult, stream: IO[str], summary_only: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape

    from dicecli.report._console import print_lines, print_table

    console = Console(file=stream, width=None if stream.isatty() else 220, highlight=False)
    console.print(escape(describe(result)))
    tables = [("Summary", summary_cells(result))]
    if result.model is not None and not summary_only and result.band:
        tables.append((f"Inter-rater band: each pair's mean {result.metric}", band_cells(result)))
    for title, (headers, body) in tables:
        print_table(console, title, headers, body)
    print_lines(console, reading(result))
    if result.gate is not None:
        console.print()
        for text in gate_lines(result):
            console.print(escape(text))


def gate_lines(result: PanelResult) -> list[str]:
    gate = result.gate
    if gate is None:
        return []
    failures = [*gate.failures, *(f.message for f in (gate.score.failures if gate.score else ()))]
    if not failures:
        return [
            "gate passed: " + "; ".join([*gate.rules, *(gate.score.rules if gate.score else ())])
        ]
    return [f"gate failed: {text}" for text in failures]


def write_csv(result: PanelResult, stream: IO[str]) -> None:
    from dicecli.report.csv_ import write_frame

    write_frame(result.cases, stream)


def build_json(result: PanelResult) -> dict[str, Any]:
    from dicecli.report.json_ import _records

    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "panel" if result.model is not None else "agreement",
        "complete": result.complete,
        "dicecli_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "backend": result.backend,
        "options": dataclasses.asdict(result.options),
        "model": {"name": result.model, "path": result.prediction} if result.model else None,
        "raters": [
            {"name": n, "path": p} for n, p in zip(result.raters, result.references, strict=False)
        ],
        "consensus": consensus_name(result.consensus) if result.consensus else None,
        "metric": result.metric,
        "summary": _records(result.summary),
        "per_case": _records(result.per_case),
        "agreement": _records(result.agreement),
        "cases": _records(result.cases),
        "errors": [dataclasses.asdict(e) for e in result.errors],
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "settings": result.settings,
        "gate": _gate(result),
    }


def _gate(result: PanelResult) -> dict[str, Any] | None:
    from dicecli.report.json_ import _plain

    gate = result.gate
    if gate is None:
        return None
    score = gate.score
    return {
        "passed": gate.passed,
        "metric": result.metric,
        "below_raters": gate.below_raters,
        "rules": [*gate.rules, *(score.rules if score else ())],
        "failures": [
            *gate.failures,
            *(f.message for f in (score.failures if score else ())),
        ],
        "score_failures": [
            {**dataclasses.asdict(f), "value": _plain(f.value)}
            for f in (score.failures if score else ())
        ],
    }


def write_json(result: PanelResult, stream: IO[str]) -> None:
    json.dump(build_json(result), stream, indent=2, allow_nan=False, default=str)
    stream.write("\n")


def write_markdown(result: PanelResult, stream: IO[str]) -> None:
    stream.write(f"## Several raters\n\n{describe(result)}\n\n")
    headers, body = summary_cells(result)
    stream.write(f"| {' | '.join(headers)} |\n|")
    stream.write("".join(" --- |" if k == 0 else " ---: |" for k in range(len(headers))))
    stream.write("\n")
    for line in body:
        stream.write("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |\n")
    stream.write("\n")
    for text in [*reading(result), *gate_lines(result)]:
        stream.write(f"- {text}\n")
    if result.errors:
        stream.write(f"\n{len(result.errors)} comparison(s) could not be scored:\n\n")
        for e in result.errors:
            stream.write(f"- {e.message.splitlines()[0]}\n")


def write_junit(result: PanelResult, stream: IO[str]) -> None:
    """One test per structure for ``--fail-below-raters``, one per failed score rule, and one
    per comparison that could not be scored."""
    from xml.sax.saxutils import escape, quoteattr

    cases: list[tuple[str, str | None]] = []
    gate = result.gate
    if result.model is not None and (gate is None or not gate.below_raters):
        for r in result.summary.to_dict(orient="records"):  # said, not gated
            where = r.get("position") or "not placed against"
            cases.append((f"{r['label']}: the model is {where} the inter-rater band", None))
    if gate is not None and gate.below_raters:
        failed = {text.split(" mean ")[0]: text for text in gate.failures}
        for r in result.summary.to_dict(orient="records"):
            cases.append((f"{r['label']} within the raters", failed.get(str(r["label"]))))
    if gate is not None and gate.score is not None:
        for rule in gate.score.rules:
            cases.append((rule, None))
        for f in gate.score.failures:
            cases.append((f.message, f.message))
    for e in result.errors:
        cases.append((f"case {e.case}", e.message.splitlines()[0]))
    failures = sum(1 for _, f in cases if f)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(
        f'<testsuites><testsuite name="dicecli raters" tests="{len(cases)}" '
        f'failures="{failures}">\n'
    )
    for name, failure in cases:
        stream.write(f'  <testcase classname="dicecli" name={quoteattr(name)}>')
        if failure:
            stream.write(f"<failure message={quoteattr(failure)}>{escape(failure)}</failure>")
        stream.write("</testcase>\n")
    stream.write("</testsuite></testsuites>\n")
