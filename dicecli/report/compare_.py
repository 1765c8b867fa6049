"""Writers of ``dicecli compare``: one function per format, each ``write(result, stream)``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import IO, TYPE_CHECKING, Any

from dicecli._version import __version__
from dicecli.metrics.registry import metric
from dicecli.report._cells import records
from dicecli.report.json_ import SCHEMA_VERSION, _plain, _records
from dicecli.report.markdown import _table as _markdown_table

if TYPE_CHECKING:
    from dicecli.models import CompareResult

HEADERS = (
    "label",
    "metric",
    "B vs A",
    "n",
    "mean A",
    "mean B",
    "diff",
    "95% CI",
    "median diff",
    "W/T/L",
    "p",
    "p Holm",
)


def cells(result: CompareResult) -> list[list[str]]:
    """The comparison rows as text (terminal table and Markdown)."""
    rows = []
    for r in records(result.comparisons):
        digits = metric(r.metric).digits
        rows.append(
            [
                str(r.label),
                str(r.metric),
                f"{r.b} vs {r.a}",
                str(r.n) + (f" (-{r.n_left_out})" if r.n_left_out else ""),
                _num(r.mean_a, digits),
                _num(r.mean_b, digits),
                _num(r.mean_diff, digits, sign=True),
                "–" if r.n < 2 else f"[{_num(r.ci_low, digits)}, {_num(r.ci_high, digits)}]",
                _num(r.median_diff, digits, sign=True),
                f"{r.wins}/{r.ties}/{r.losses}",
                _p(r.wilcoxon_p),
                _p(r.p_holm),
            ]
        )
    return rows


def _num(value: float, digits: int, sign: bool = False) -> str:
    if value is None or math.isnan(value):
        return "nan"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.3g}" if value >= 1e-4 else f"{value:.1e}"


def sets_lines(result: CompareResult) -> list[str]:
    lines = []
    for name, path in zip(result.names, result.paths, strict=True):
        run = result.runs[name]
        n = run.cases["case"].nunique()
        failed = f", {len(run.errors)} failed" if run.errors else ""
        lines.append(f"{name}: {path} ({n} case{'s' if n != 1 else ''} scored{failed})")
    return lines


def write_table(result: CompareResult, stream: IO[str]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from dicecli.report.table import _table

    console = Console(file=stream, width=None if stream.isatty() else 240, highlight=False)
    console.print(f"Reference: {escape(result.reference)}")
    for line in sets_lines(result):
        console.print("  " + escape(line))
    console.print()
    table = _table("Paired comparison (diff = B − A; W/T/L: cases where B is better/equal/worse)")
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if i < 3 else "right", no_wrap=i >= 3)
    for row in cells(result):
        table.add_row(*(escape(c) for c in row))
    console.print(table)


def write_csv(result: CompareResult, stream: IO[str]) -> None:
    from dicecli.report.csv_ import write_frame

    write_frame(result.comparisons, stream)


def build_json(result: CompareResult) -> dict[str, Any]:
    first = result.runs[result.names[0]]
    gate = result.gate
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "compare",
        "dicecli_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "reference": result.reference,
        "options": dataclasses.asdict(first.options),
        "sets": [
            {
                "name": name,
                "path": path,
                "cases": _records(result.runs[name].cases),
                "summary": _records(result.runs[name].summary),
                "errors": [dataclasses.asdict(e) for e in result.runs[name].errors],
            }
            for name, path in zip(result.names, result.paths, strict=True)
        ],
        "comparisons": _records(result.comparisons),
        "gate": None
        if gate is None
        else {
            "passed": gate.passed,
            "metric": gate.metric,
            "alpha": gate.alpha,
            "rules": [dataclasses.asdict(r) for r in gate.rules],
            "failures": list(gate.failures),
            "checks": [dataclasses.asdict(c) for c in gate.checks],
        },
    }


def write_json(result: CompareResult, stream: IO[str]) -> None:
    json.dump(build_json(result), stream, indent=2, allow_nan=False, default=_plain)
    stream.write("\n")


def write_markdown(result: CompareResult, stream: IO[str]) -> None:
    stream.write(f"## dicecli compare\n\nReference `{result.reference}`\n\n")
    for line in sets_lines(result):
        stream.write(f"- {line}\n")
    stream.write("\n")
    _markdown_table(stream, HEADERS, cells(result))
    gate = result.gate
    if gate is not None:
        verdict = "passed" if gate.passed else "**failed**"
        stream.write(f"\nGate ({gate.metric}, alpha {gate.alpha:g}): {verdict}\n")
        for failure in gate.failures:
            stream.write(f"- {failure}\n")


def write_junit(result: CompareResult, stream: IO[str]) -> None:
    """One test case per checked label and pair; a failed rule is a failure, a case that could
    not be scored an error."""
    from xml.sax.saxutils import quoteattr

    checks = result.gate.checks if result.gate else ()
    errors = result.errors
    failures = sum(1 for c in checks if c.failure)
    stream.write('<?xml version="1.0" encoding="utf-8"?>\n')
    stream.write(
        f'<testsuites><testsuite name="dicecli compare" tests="{len(checks) + len(errors)}" '
        f'failures="{failures}" errors="{len(errors)}">\n'
    )
    for check in checks:
        stream.write(f"<testcase classname={quoteattr(check.pair)} name={quoteattr(check.label)}>")
        if check.failure:
            stream.write(f'<failure message={quoteattr(check.failure)} type="gate"/>')
        stream.write("</testcase>\n")
    for set_name, e in errors:
        first = e.message.splitlines()[0]
        stream.write(f"<testcase classname={quoteattr(set_name)} name={quoteattr(e.case)}>")
        stream.write(f"<error message={quoteattr(first)} type={quoteattr(e.error)}/></testcase>\n")
    stream.write("</testsuite></testsuites>\n")
