"""CSV: long format, one row per (case, label), columns in ``aggregate.case_columns`` order."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from dicecli.models import RunResult

#: Rows written at a time (a cohort's table is never held twice as text).
_CHUNK = 20_000


def write_csv(result: RunResult, stream: IO[str]) -> None:
    write_frame(result.cases, stream)


def write_frame(frame: pd.DataFrame, stream: IO[str]) -> None:
    """A table as CSV with "\\n" line ends, floats in Python's shortest round-trip repr, NaN
    an empty cell -- and every field that holds a line break quoted. pandas (like the csv
    module) quotes only fields holding the line terminator, so a carriage return in a file
    name would split its row for every CSV reader: rows end in "\\r\\n" while written (which
    quotes fields holding either), then the row ends outside quotes become "\\n"."""
    for start in range(0, max(len(frame), 1), _CHUNK):
        part = frame.iloc[start : start + _CHUNK]
        text = part.to_csv(index=False, header=start == 0, lineterminator="\r\n")
        pieces = text.split('"')  # the even pieces lie outside quoted fields
        pieces[::2] = [p.replace("\r\n", "\n") for p in pieces[::2]]
        stream.write('"'.join(pieces))
