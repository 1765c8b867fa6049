"""Plain-text console output shared by the panel and ranking tables: a bold title over a
compact table, and a block of reading lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def print_table(
    console: Any,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    text_column: int = 0,
) -> None:
    """A blank line, the title in bold, and the table: a rule under the header, the
    ``text_column`` left-aligned and the others right-aligned."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    console.print()
    console.print(escape(title), style="bold")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, pad_edge=False)
    for k, header in enumerate(headers):
        table.add_column(escape(header), justify="left" if k == text_column else "right")
    for row in rows:
        table.add_row(*(escape(c) for c in row))
    console.print(table)


def print_lines(console: Any, lines: Sequence[str]) -> None:
    """A blank line and the lines, if there are any."""
    from rich.markup import escape

    if lines:
        console.print()
    for text in lines:
        console.print(escape(text))
