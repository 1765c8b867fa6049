"""The terminal report: per-case rows and the per-label summary as rich tables."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from dicecli.report._cells import (
    COMPARISON_HEADERS,
    SIZE_BIN_HEADERS,
    case_cells,
    case_headers,
    comparison_cells,
    lesion_cells,
    lesion_headers,
    size_bin_cells,
    summary_cells,
    summary_headers,
)

if TYPE_CHECKING:
    from dicecli.models import RunResult


def write_table(result: RunResult, stream: IO[str], summary_only: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=stream, width=None if stream.isatty() else 240, highlight=False)
    if result.cases.empty:  # empty tables say nothing: the errors (on stderr) say why
        if result.errors:
            console.print(f"No case scored ({_subtitle(result).removeprefix('0 cases scored, ')}).")
        else:
            console.print(f"Nothing to score: the {result.finished} case(s) hold background only.")
        return
    if not summary_only:
        cases = _table("Per case")
        headers = case_headers(result)
        for i, header in enumerate(headers):
            left = i < 2 or i == len(headers) - 1
            cases.add_column(escape(header), justify="left" if left else "right", no_wrap=not left)
        for row in case_cells(result):
            cases.add_row(*(escape(cell) for cell in row))
        console.print(cases)
    summary = _table(f"Summary ({_subtitle(result)})")
    for i, header in enumerate(summary_headers(result)):
        # numbers never wrap; on a narrow terminal the label column gives way first
        summary.add_column(
            escape(header),
            justify="left" if i == 0 else "right",
            no_wrap=True,
            min_width=min(16, max(len(r.name) for r in result.regions))
            if i == 0 and result.regions
            else None,
        )
    for row in summary_cells(result):
        summary.add_row(*(escape(cell) for cell in row))
    console.print(summary)
    lesions = lesion_cells(result)
    if lesions:
        table = _table("Lesions (summed over cases; F1, SQ, PQ, Dice, region Dice: case means)")
        for i, header in enumerate(lesion_headers(result)):
            table.add_column(header, justify="left" if i == 0 else "right", no_wrap=i > 0)
        for row in lesions:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)
    by_size = size_bin_cells(result)
    if by_size:
        table = _table("Lesions by size (summed over cases)")
        for i, header in enumerate(SIZE_BIN_HEADERS):
            table.add_column(header, justify="left" if i < 2 else "right", no_wrap=i > 0)
        for row in by_size:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)
    comparison = comparison_cells(result)
    if comparison:
        table = _table("Against the baseline (mean)")
        for i, header in enumerate(COMPARISON_HEADERS):
            table.add_column(header, justify="left" if i == 0 else "right")
        for row in comparison:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)


def _table(title: str) -> Any:
    """A compact table: a rule under the header, one space between columns."""
    from rich import box
    from rich.table import Table

    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )


def _subtitle(result: RunResult) -> str:
    n = result.cases["case"].nunique()
    text = f"{n} case{'s' if n != 1 else ''} scored"
    if result.errors:
        text += f", {len(result.errors)} failed"
    if result.skipped:
        text += f", {len(result.skipped)} skipped"
    return text
