"""Markdown: the summary and per-case tables, plus the errors, for CI step summaries and notes."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from dicecli.report._cells import (
    COMPARISON_HEADERS,
    SIZE_BIN_HEADERS,
    case_cells,
    case_headers,
    comparison_cells,
    error_lines,
    gate_lines,
    lesion_cells,
    lesion_headers,
    size_bin_cells,
    summary_cells,
    summary_headers,
)

if TYPE_CHECKING:
    from dicecli.models import RunResult


def write_markdown(result: RunResult, stream: IO[str], cases: bool = True) -> None:
    """Summary, gate verdict, baseline comparison and errors; the per-case table if ``cases``."""
    stream.write("## dicecli summary\n\n")
    _table(stream, summary_headers(result), summary_cells(result))
    lesions = lesion_cells(result)
    if lesions:
        stream.write("\n### Lesions\n\n")
        _table(stream, lesion_headers(result), lesions)
    by_size = size_bin_cells(result)
    if by_size:
        stream.write("\n### Lesions by size\n\n")
        _table(stream, SIZE_BIN_HEADERS, by_size)
    verdict = gate_lines(result)
    if verdict:
        stream.write("\n" + "\n".join(_escape(line) for line in verdict) + "\n")
    comparison = comparison_cells(result)
    if comparison:
        stream.write("\n### Against the baseline\n\n")
        _table(stream, COMPARISON_HEADERS, comparison)
    errors = error_lines(result)
    if errors:
        stream.write(f"\n### Errors ({len(errors)})\n\n")
        stream.writelines(f"- {_escape(line)}\n" for line in errors)
    if cases:
        stream.write("\n### Per case\n\n")
        _table(stream, case_headers(result), case_cells(result))


def _table(stream: IO[str], headers: tuple[str, ...], rows: list[list[str]]) -> None:
    stream.write("| " + " | ".join(headers) + " |\n")
    stream.write("|" + "|".join("---" if i < 2 else "---:" for i in range(len(headers))) + "|\n")
    for row in rows:
        stream.write("| " + " | ".join(_escape(cell) for cell in row) + " |\n")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
