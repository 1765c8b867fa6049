"""CSV: long format, one row per (case, label), columns in ``aggregate.case_columns`` order."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from dicecli.models import RunResult


def write_csv(result: RunResult, stream: IO[str]) -> None:
    # floats are written as Python's shortest round-trip repr; NaN is an empty cell
    result.cases.to_csv(stream, index=False, lineterminator="\n")
