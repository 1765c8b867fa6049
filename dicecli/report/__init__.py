"""Writers: one module per output format, each ``write(result, stream)``.

Adding a format is one module plus one entry in ``WRITERS`` (and ``EXTENSIONS`` for ``-o``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from dicecli.errors import UsageError

if TYPE_CHECKING:
    from dicecli.models import RunResult

Writer = Callable[["RunResult", IO[str]], None]


def _table(result: RunResult, stream: IO[str]) -> None:
    from dicecli.report.table import write_table

    write_table(result, stream)


def _csv(result: RunResult, stream: IO[str]) -> None:
    from dicecli.report.csv_ import write_csv

    write_csv(result, stream)


def _json(result: RunResult, stream: IO[str]) -> None:
    from dicecli.report.json_ import write_json

    write_json(result, stream)


def _markdown(result: RunResult, stream: IO[str]) -> None:
    from dicecli.report.markdown import write_markdown

    write_markdown(result, stream)


def _junit(result: RunResult, stream: IO[str]) -> None:
    from dicecli.report.junit import write_junit

    write_junit(result, stream)


def _html(result: RunResult, stream: IO[str]) -> None:
    from dicecli.report.html import write_html

    write_html(result, stream)


WRITERS: dict[str, Writer] = {
    "table": _table,
    "csv": _csv,
    "json": _json,
    "markdown": _markdown,
    "junit": _junit,
    "html": _html,
}

EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "table",
    ".xml": "junit",
    ".html": "html",
    ".htm": "html",
}


def format_for_path(path: str, explicit: str | None = None) -> str:
    """The writer for ``-o PATH``: from the extension, unless given."""
    if explicit:
        return explicit
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise UsageError(f"-o {path}: unknown output extension {ext or '(none)'}; use {known}")
    return EXTENSIONS[ext]


def write_file(result: RunResult, path: str, fmt: str) -> None:
    """Write ``result`` in format ``fmt`` to ``path``, atomically."""
    write_atomic(path, lambda stream: WRITERS[fmt](result, stream))


def write_atomic(path: str, write: Callable[[IO[str]], None]) -> None:
    """Write through ``write``: a temporary file beside the target, then a rename over it, so the
    target is the old file or the complete new one, never a mix."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".dicecli-", suffix=".tmp", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            write(stream)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
