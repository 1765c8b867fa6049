"""Label tables: the names of a label map's values, from the files pipelines already keep.

- nnU-Net ``dataset.json``: ``"labels": {"liver": 1, "whole_tumor": [1, 2, 3]}`` (name -> value,
  a list of values for a region), and the older ``{"0": "background", "1": "liver"}``;
- a plain JSON object, value -> name (``{"1": "liver"}``) or name -> value;
- BIDS ``*_dseg.tsv`` and other TSV/CSV tables with an ``index`` (or ``value``, ``LabelValue``)
  and a ``name`` column;
- ITK-SNAP label descriptions (``IDX R G B A VIS MSH "LABEL"``);
- FreeSurfer's ``FreeSurferColorLUT.txt`` and 3D Slicer colour tables (``index name R G B A``).

``find_table`` finds a table beside the data: ``X_dseg.tsv`` next to ``X_dseg.nii.gz``, else a
``dataset.json`` holding ``labels`` in the file's folder or its parent.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
from functools import lru_cache
from typing import Any

from dicecli.errors import UsageError
from dicecli.models import Structure, structure_key

__all__ = ["find_table", "is_label_table", "read_table"]

_VALUE_COLUMNS = ("index", "value", "labelvalue", "label_value", "label", "id")
_NAME_COLUMNS = ("name", "label_name", "labelname", "structure", "description")
_INT = re.compile(r"^[+-]?\d+$")


def read_table(path: str) -> tuple[Structure, ...]:
    """The structures a label table names, in order of their values; ``UsageError`` (exit 2)
    naming the file for anything unreadable, a value named twice or a name given twice."""
    try:
        stat = os.stat(path)
    except OSError as e:
        raise UsageError(f"{path}: cannot read the label table ({e.strerror})") from e
    return _read_cached(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _read_cached(path: str, size: int, mtime: int) -> tuple[Structure, ...]:
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read the label table ({e})") from e
    lower = path.lower()
    if lower.endswith(".json"):
        entries = _json(text, path)
    elif lower.endswith((".tsv", ".csv")):
        entries = _delimited(text, path, "\t" if lower.endswith(".tsv") else ",")
    else:
        entries = _lut(text, path)
    return _checked(entries, path)


def _json(text: str, path: str) -> list[tuple[str, tuple[int, ...]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from e
    if isinstance(data, dict) and isinstance(data.get("labels"), dict):
        data = data["labels"]
    if not isinstance(data, dict) or not data:
        raise UsageError(
            f'{path}: a JSON label table is an object of value -> name ({{"1": "liver"}}) or '
            'name -> value ({"liver": 1}), or nnU-Net\'s dataset.json with "labels"'
        )
    if all(_INT.match(str(k)) for k in data) and all(isinstance(v, str) for v in data.values()):
        return [(str(v), (int(k),)) for k, v in data.items()]
    out = []
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(_is_int(v) for v in values):
            raise UsageError(
                f"{path}: label {name!r} has value {value!r}; give a whole number or a list of "
                "them (a region)"
            )
        out.append((str(name), tuple(int(v) for v in values)))
    return out


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and bool(_INT.match(value))
    )


def _delimited(text: str, path: str, delimiter: str) -> list[tuple[str, tuple[int, ...]]]:
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise UsageError(f"{path}: the label table is empty")
    header = [c.strip().casefold() for c in rows[0]]
    value_col = next((header.index(c) for c in _VALUE_COLUMNS if c in header), None)
    name_col = next((header.index(c) for c in _NAME_COLUMNS if c in header), None)
    if value_col is None or name_col is None or value_col == name_col:
        raise UsageError(
            f"{path}: a label table needs an 'index' and a 'name' column (BIDS dseg.tsv); found "
            + ", ".join(rows[0])
        )
    out: list[tuple[str, tuple[int, ...]]] = []
    for line, row in enumerate(rows[1:], start=2):
        cell = row[value_col].strip() if value_col < len(row) else ""
        name = row[name_col].strip() if name_col < len(row) else ""
        if not _INT.match(cell) or not name:
            raise UsageError(f"{path}:{line}: needs a whole-number index and a name")
        out.append((name, (int(cell),)))
    return out


def _lut(text: str, path: str) -> list[tuple[str, tuple[int, ...]]]:
    """ITK-SNAP (quoted label last) and FreeSurfer/Slicer (index name R G B A) lines."""
    out: list[tuple[str, tuple[int, ...]]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            tokens = shlex.split(stripped, posix=True)
        except ValueError as e:
            raise UsageError(f"{path}:{line}: cannot read this line ({e})") from e
        if len(tokens) < 2 or not _INT.match(tokens[0]):
            raise UsageError(
                f"{path}:{line}: not a label line; expected 'INDEX NAME R G B A' (FreeSurfer, "
                "Slicer) or 'INDEX R G B A VIS MSH \"NAME\"' (ITK-SNAP)"
            )
        name = tokens[-1] if '"' in stripped else tokens[1]
        out.append((name, (int(tokens[0]),)))
    if not out:
        raise UsageError(f"{path}: the label table names no label")
    return out


def _checked(entries: list[tuple[str, tuple[int, ...]]], path: str) -> tuple[Structure, ...]:
    seen_names: dict[str, str] = {}
    seen_values: dict[int, str] = {}
    for name, values in entries:
        key = structure_key(name)
        if not key:
            raise UsageError(f"{path}: a label has an empty name")
        if key in seen_names:
            raise UsageError(
                f"{path}: two labels are named {seen_names[key]!r} and {name!r} (names are "
                "compared case- and separator-insensitively); rename one"
            )
        seen_names[key] = name
        if len(values) == 1:
            if values[0] in seen_values:
                raise UsageError(
                    f"{path}: value {values[0]} is named twice ({seen_values[values[0]]!r} and "
                    f"{name!r}); keep one"
                )
            seen_values[values[0]] = name
    ordered = sorted(entries, key=lambda e: (len(e[1]) > 1, min(e[1])))
    return tuple(Structure(name, values) for name, values in ordered)


def find_table(path: str) -> str | None:
    """A label table beside a mask file: ``X_dseg.tsv`` for ``X_dseg.nii.gz`` (BIDS), else a
    ``dataset.json`` with ``labels`` (nnU-Net) in the file's folder or its parent, else for a
    FreeSurfer ``.mgz``/``.mgh`` the colour table of the installation (``$FREESURFER_HOME``)."""
    folder = os.path.dirname(path) or os.curdir
    name = os.path.basename(path)
    match = re.match(r"^(.*_dseg)\.", name)
    if match:
        tsv = os.path.normpath(os.path.join(folder, match[1] + ".tsv"))
        if os.path.isfile(tsv):
            return tsv
    for where in (folder, os.path.normpath(os.path.join(folder, os.pardir))):
        candidate = os.path.normpath(os.path.join(where, "dataset.json"))
        try:
            mtime = os.stat(candidate).st_mtime_ns
        except OSError:
            continue
        if _has_labels(candidate, mtime):
            return candidate
    home = os.environ.get("FREESURFER_HOME")
    if home and name.lower().endswith((".mgz", ".mgh")):
        lut = os.path.join(home, "FreeSurferColorLUT.txt")
        if os.path.isfile(lut):
            return lut
    return None


@lru_cache(maxsize=64)
def _has_labels(path: str, mtime: int) -> bool:
    """Whether a ``dataset.json`` is a label table (nnU-Net's have ``labels``), not another
    file of that name."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("labels"), dict)


def is_label_table(path: str) -> bool:
    """A file that names the masks beside it (``dataset.json``, ``*_dseg.tsv``), not a mask."""
    name = os.path.basename(path).lower()
    return name == "dataset.json" or name.endswith("_dseg.tsv")
