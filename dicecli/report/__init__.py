"""Writers: one module per output format, found through one registry.

Adding a format is one writer module plus one ``register_writer(Writer(...))`` entry below: its
name (``--format``), its file extensions (``-o``) and the functions that write a score result
and, optionally, a comparison. The CLI's choices and help read the registry.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Literal

from dicecli.errors import UsageError
from dicecli.models.registry import Registry

if TYPE_CHECKING:
    from dicecli.models import CompareResult, RunResult
    from dicecli.models.rank import RankResult
    from dicecli.models.raters import PanelResult

__all__ = [
    "Kind",
    "Writer",
    "case_paths",
    "check_writable",
    "compare_writer",
    "format_for_path",
    "register_writer",
    "stdout_writers",
    "unregister_writer",
    "write_atomic",
    "write_file",
    "writer",
    "writer_of",
    "writers",
]


#: What a writer writes: a score result, a comparison, a ranking or a panel of raters.
Kind = Literal["score", "compare", "rank", "panel"]


@dataclass(frozen=True, slots=True)
class Writer:
    """One output format: ``write`` a score result (``dicecli score``/``report``) and, when
    given, a comparison (``write_compare``, ``dicecli compare``), a ranking (``write_rank``,
    ``dicecli rank``) and a panel of raters (``write_panel``, ``dicecli score PRED GT1 GT2``,
    ``dicecli agreement``)."""

    name: str
    extensions: tuple[str, ...]
    write: Callable[..., None]
    write_compare: Callable[[CompareResult, IO[str]], None] | None = None
    title: str = ""
    write_rank: Callable[[RankResult, IO[str]], None] | None = None
    write_panel: Callable[[PanelResult, IO[str]], None] | None = None
    #: bytes, not text: written only to files (``-o``), into the binary stream under the text
    binary: bool = False
    #: the modules it needs and the extra that installs them: ``(("pyarrow",), "parquet")``
    requires: tuple[tuple[str, ...], str] | None = None
    #: one file per case (``write(result, stream, case=...)``): ``-o x.sr.dcm`` of a run of
    #: several cases writes ``x.CASE.sr.dcm`` for each (``case_paths``)
    per_case: bool = False

    def check_available(self, path: str) -> None:
        """A ``UsageError`` naming ``path`` and the install command when a module is missing."""
        import importlib.util

        if self.requires is None:
            return
        modules, extra = self.requires
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            raise UsageError(
                f"-o {path}: the {self.name} output needs {', '.join(missing)}: "
                f'pip install "dicecli[{extra}]"'
            )

    def writes(self, kind: Kind) -> Callable[[Any, IO[str]], None] | None:
        """The function that writes a result of ``kind``, or None."""
        return {
            "score": self.write,
            "compare": self.write_compare,
            "rank": self.write_rank,
            "panel": self.write_panel,
        }[kind]


_WRITERS: Registry[Writer] = Registry("writer", lambda writer: writer.extensions)


def register_writer(new: Writer) -> Writer:
    """Add (or replace, by name) a writer; its extensions must not belong to another writer."""
    return _WRITERS.register(new)


def unregister_writer(name: str) -> None:
    _WRITERS.unregister(name)


def writers(kind: Kind = "score") -> tuple[Writer, ...]:
    """Every registered writer that writes results of ``kind``."""
    return tuple(w for w in _WRITERS.entries() if w.writes(kind) is not None)


def writer(name: str) -> Writer:
    return _WRITERS.get(name)


def writer_of(name: str, kind: Kind) -> Callable[[Any, IO[str]], None]:
    """The function that writes a result of ``kind`` in format ``name``."""
    write = _WRITERS.get(name).writes(kind)
    if write is None:
        what = {
            "score": "score results",
            "compare": "comparisons",
            "rank": "rankings",
            "panel": "results of several raters",
        }[kind]
        raise UsageError(f"{name} does not write {what}; use {extensions(kind)}")
    return write


def compare_writer(name: str) -> Callable[[CompareResult, IO[str]], None]:
    """The function that writes a comparison in format ``name``."""
    return writer_of(name, "compare")


def extensions(kind: Kind = "score") -> str:
    """The ``-o`` extensions as text for help and errors: ``.csv .json .md ...``."""
    return " ".join(e for w in writers(kind) for e in w.extensions)


def format_for_path(path: str, explicit: str | None = None, kind: Kind = "score") -> str:
    """The writer for ``-o PATH``: from the extension (the longest that matches: ``.sr.dcm``
    before ``.dcm``), unless given; its modules checked (an extra not installed is a usage
    error naming the install command)."""
    if explicit:
        return explicit
    name = os.path.basename(path).lower()
    found = sorted(
        ((len(e), w) for w in writers(kind) for e in w.extensions if name.endswith(e)),
        key=lambda t: -t[0],
    )
    if not found:
        ext = os.path.splitext(path)[1].lower()
        raise UsageError(
            f"-o {path}: unknown output extension {ext or '(none)'}; use {extensions(kind)}"
        )
    chosen = found[0][1]
    chosen.check_available(path)
    return chosen.name


def stdout_writers(kind: Kind = "score") -> tuple[Writer, ...]:
    """The writers ``--format`` offers: text ones (a binary format goes to a file, -o)."""
    return tuple(w for w in writers(kind) if not w.binary)


def write_file(result: RunResult, path: str, fmt: str) -> None:
    """Write ``result`` in format ``fmt`` to ``path``, atomically."""
    write_atomic(path, lambda stream: _WRITERS.get(fmt).write(result, stream))


def check_writable(path: str, what: str = "-o") -> None:
    """Before any work is done: ``path``'s folder takes a new file (the temporary file
    ``write_atomic`` writes first); a read-only file system, a missing permission or a folder
    where the file should be is a ``UsageError`` naming the path."""
    if os.path.isdir(path):
        raise UsageError(f"{what} {path}: is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".dicecli-", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(
            f"{what} {path}: cannot write there ({e.strerror or e}); choose another path"
        ) from e


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


def _lazy(module: str, function: str) -> Callable[..., None]:
    """The writer ``module.function``, imported when first used (``--help`` stays light)."""

    def write(result: Any, stream: IO[str], **keywords: Any) -> None:
        getattr(importlib.import_module(module), function)(result, stream, **keywords)

    return write


def case_paths(path: str, cases: list[str]) -> list[tuple[str, str]]:
    """(case, path) of a per-case writer's files: ``path`` itself for one case, else the case
    id before the path's (longest) extension: ``out/report.sr.dcm`` -> ``out/report.c01.sr.dcm``."""
    if len(cases) == 1:
        return [(cases[0], path)]
    folder, name = os.path.split(path)
    lower = name.lower()
    suffix = max((e for w in _WRITERS.entries() for e in w.extensions if lower.endswith(e)),
                 key=len, default=os.path.splitext(name)[1])  # fmt: skip
    stem = name[: len(name) - len(suffix)]
    from dicecli.io.write import safe_name

    return [(c, os.path.join(folder, f"{stem}.{safe_name(c)}{suffix}")) for c in cases]


_COMPARE = "dicecli.report.compare_"
_RANK = "dicecli.report.rank_"
_PANEL = "dicecli.report.panel_"

for _writer in (
    Writer(
        "table",
        (".txt",),
        _lazy("dicecli.report.table", "write_table"),
        _lazy(_COMPARE, "write_table"),
        "terminal tables",
        _lazy(_RANK, "write_table"),
        _lazy(_PANEL, "write_table"),
    ),
    Writer(
        "csv",
        (".csv",),
        _lazy("dicecli.report.csv_", "write_csv"),
        _lazy(_COMPARE, "write_csv"),
        "one row per case and label",
        _lazy(_RANK, "write_csv"),
        _lazy(_PANEL, "write_csv"),
    ),
    Writer(
        "json",
        (".json",),
        _lazy("dicecli.report.json_", "write_json"),
        _lazy(_COMPARE, "write_json"),
        "everything, with the options",
        _lazy(_RANK, "write_json"),
        _lazy(_PANEL, "write_json"),
    ),
    Writer(
        "markdown",
        (".md", ".markdown"),
        _lazy("dicecli.report.markdown", "write_markdown"),
        _lazy(_COMPARE, "write_markdown"),
        "for pull requests and step summaries",
        _lazy(_RANK, "write_markdown"),
        _lazy(_PANEL, "write_markdown"),
    ),
    Writer(
        "junit",
        (".xml",),
        _lazy("dicecli.report.junit", "write_junit"),
        _lazy(_COMPARE, "write_junit"),
        "JUnit XML for CI test reports",
        write_panel=_lazy(_PANEL, "write_junit"),
    ),
    Writer(
        "openmetrics",
        (".prom",),
        _lazy("dicecli.report.openmetrics", "write_openmetrics"),
        title="OpenMetrics gauges for GitLab metrics reports and Prometheus",
    ),
    Writer(
        "parquet",
        (".parquet",),
        _lazy("dicecli.report.parquet_", "write_parquet"),
        title='the per-case table, typed (pip install "dicecli[parquet]")',
        binary=True,
        requires=(("pyarrow",), "parquet"),
    ),
    Writer(
        "sr",
        (".sr.dcm",),
        _lazy("dicecli.report.sr", "write_sr"),
        title="DICOM SR (TID 1500) per case, on the SEG or RTSTRUCT it describes",
        binary=True,
        per_case=True,
    ),
    Writer(
        "html",
        (".html", ".htm"),
        _lazy("dicecli.report.html", "write_html"),
        _lazy("dicecli.report.compare_html", "write_compare_html"),
        "a self-contained study report",
        _lazy("dicecli.report.rank_html", "write_rank_html"),
        _lazy("dicecli.report.panel_html", "write_panel_html"),
    ),
):
    register_writer(_writer)
