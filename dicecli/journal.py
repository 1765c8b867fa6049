"""A journal of finished cases, so that an interrupted run resumes where it stopped.

``--journal PATH`` appends one JSON line per finished case -- its outcome (the small numbers a
worker returns: counts, surface and lesion statistics, or the case's error), the size and mtime
of its input files -- after a first line holding the options that change numbers. Each line is
flushed as the case finishes. ``--resume`` reuses the cases whose inputs are unchanged, and
refuses a journal written with other number-changing options, naming the difference.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from dicecli.errors import UsageError
from dicecli.models import CasePair, ScoreOptions

#: 2: per-structure counts and matches in the outcomes; the label tables among the inputs
VERSION = 2

#: Options that never change a case's numbers: not compared on --resume.
_NOT_NUMBERS = {
    "jobs",
    "device",
    "max_voxels",
    "ci_resamples",
    "pattern",
    "missing",
    "write_consensus",
}


def fingerprint(options: ScoreOptions) -> dict[str, Any]:
    """The options that change a case's numbers, as JSON values (and the state of the label
    table files they name: a table edited between runs changes the names)."""
    values = {
        f.name: getattr(options, f.name)
        for f in dataclasses.fields(options)
        if f.name not in _NOT_NUMBERS
    }
    tables = (options.label_table, options.ref_label_table, options.pred_label_table)
    values["label_table_files"] = [input_state(t) for t in tables if t]
    return values


def input_state(path: str | None) -> list[int] | None:
    """Size and mtime (ns) of a file; for a folder (a DICOM series), the file count, total size
    and newest mtime of its files."""
    if path is None or not os.path.exists(path):
        return None
    if os.path.isdir(path):
        stats = [e.stat() for e in os.scandir(path) if e.is_file()]
        return [
            len(stats),
            sum(s.st_size for s in stats),
            max((s.st_mtime_ns for s in stats), default=0),
        ]
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


class Journal:
    """Open with ``resume`` to reuse the cases already journalled; else start a new journal.

    The journal is owned by one run at a time: an exclusive OS lock (``flock``) is taken before
    anything is read or truncated, held until ``close`` and released by the OS if the run dies;
    a second run is refused with the owner's pid, host and start time (an ``owner`` line the
    owner appends when it opens the journal).
    """

    def __init__(self, path: str, options: ScoreOptions, resume: bool) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        wanted = fingerprint(options)
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
            # "a+": never truncated before the lock is ours; reads see the whole file
            self.stream: IO[str] = open(path, "a+", encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as e:
            raise UsageError(
                f"--journal {path}: cannot open it ({e.strerror}); choose another path"
            ) from e
        try:
            _lock(self.stream, path)
            if resume and os.path.getsize(path) > 0:
                self._read(wanted)
            else:
                self.stream.seek(0)
                self.stream.truncate()
                self._write({"journal": VERSION, "options": wanted})
            self._write({"owner": _owner()})
        except BaseException:
            self.stream.close()
            raise

    def _read(self, wanted: dict[str, Any]) -> None:
        self.stream.seek(0)
        lines = [line for line in self.stream.read().splitlines() if line.strip("\0 \t")]
        try:
            head = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            head = {}
        if not isinstance(head, dict) or head.get("journal") != VERSION:
            found = head.get("journal") if isinstance(head, dict) else None
            what = (
                f"written by another dicecli (journal version {found}, this one reads {VERSION})"
                if isinstance(found, int)
                else "not a dicecli journal"
            )
            raise UsageError(f"{self.path}: {what}; start a new journal (drop --resume)")
        before = head.get("options", {})
        changed = sorted(k for k in set(before) | set(wanted) if before.get(k) != wanted.get(k))
        if changed:
            diff = "; ".join(f"{k}: {before.get(k)!r} then, {wanted.get(k)!r} now" for k in changed)
            raise UsageError(
                f"{self.path} was written with other options ({diff}); rerun with those "
                "options, or start a new journal (drop --resume)"
            )
        for line in lines[1:]:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short when the run was killed: that case is rescored
            if isinstance(entry, dict) and isinstance(entry.get("case"), str):
                self.entries[entry["case"]] = entry  # owner lines and damaged ones are passed

    def done(self, pair: CasePair) -> Any:
        """The journalled outcome of ``pair`` when its inputs are unchanged, else None."""
        entry = self.entries.get(pair.case)
        if entry is None:
            return None
        if entry["inputs"] != _inputs(pair):
            return None
        return decode(entry["outcome"])

    def record(self, pair: CasePair, outcome: Any) -> None:
        self._write(
            {
                "case": pair.case,
                "inputs": _inputs(pair),
                "outcome": encode(outcome),
            }
        )

    def _write(self, entry: dict[str, Any]) -> None:
        self.stream.write(json.dumps(entry) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()  # closing the file releases the lock


def _owner() -> dict[str, Any]:
    import datetime as dt
    import socket
    import sys

    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
    }


def _lock(stream: IO[str], path: str) -> None:
    """Take the journal's exclusive lock or refuse, naming the run that holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks; one run at a time
        return
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _last_owner(path)
        who = (
            f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
            if holder
            else "another process"
        )
        raise UsageError(
            f"--journal {path} is in use by another dicecli run ({who}); wait for it to end, or "
            "give this run a journal of its own"
        ) from None
    except OSError as e:  # a file system without locks: say so rather than risk two writers
        raise UsageError(
            f"--journal {path}: cannot lock it ({e.strerror}); put the journal on a local disk"
        ) from e


def _last_owner(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("owner"), dict):
            return dict(entry["owner"])
    return {}


def _inputs(pair: CasePair) -> list[list[int] | None]:
    """What a case's numbers rest on: its two inputs and the label tables found beside them
    (and, for a consensus case, every rater's reference and table)."""
    paths = (pair.pred, pair.gt, pair.pred_table, pair.gt_table, *pair.raters, *pair.rater_tables)
    return [input_state(p) for p in paths]


def _types() -> dict[str, type]:
    from dicecli.metrics.calibration import CalibrationStats
    from dicecli.metrics.lesions import Lesion, LesionResult
    from dicecli.metrics.surface import SurfaceStats
    from dicecli.metrics.topology import TopologyStats
    from dicecli.models import CaseFailure, CaseTally, Counts, JointHistogram, Match, SoftTally

    kinds = (
        CaseTally,
        CaseFailure,
        JointHistogram,
        SoftTally,
        SurfaceStats,
        TopologyStats,
        CalibrationStats,
        LesionResult,
        Lesion,
        Counts,
        Match,
    )
    return {t.__name__: t for t in kinds}


def encode(value: Any) -> Any:
    """A worker's outcome as JSON values (dataclasses, arrays, tuples and mappings tagged)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__map__" in value:
        return {decode(k): decode(v) for k, v in value["__map__"]}
    if "__type__" in value:
        kind = _types()[value["__type__"]]
        return kind(**{k: decode(v) for k, v in value.items() if k != "__type__"})
    return {k: decode(v) for k, v in value.items()}
