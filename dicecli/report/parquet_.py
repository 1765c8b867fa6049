"""Parquet (``-o results.parquet``, extra ``dicecli[parquet]``: pyarrow): the per-case table with
typed columns -- counts as integers (floats with --soft), metrics as float64, the text columns as
strings -- one row group per 100 000 rows; equal to the CSV when read back with pandas."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from dicecli.models import RunResult

ROW_GROUP = 100_000


def write_parquet(result: RunResult, stream: IO[str]) -> None:
    """Into the binary file under ``stream`` (``write_atomic`` opens one per path)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = result.cases
    table = pa.Table.from_pandas(frame, preserve_index=False)
    stream.flush()
    target = getattr(stream, "buffer", stream)
    metadata = {b"dicecli": b'{"schema": "dicecli.cases", "version": 1}'}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    pq.write_table(table, target, row_group_size=ROW_GROUP, compression="zstd")
