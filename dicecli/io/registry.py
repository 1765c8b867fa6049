"""The reader registry: which reader reads a path, by suffix, magic bytes or folder contents.

Plain lookups over the registered ``Reader`` entries; ``dicecli.io`` registers the built-in
readers and dispatches ``load_mask``. Readers that need to know other formats (a folder of
per-structure masks) import this module, never the package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from dicecli.io._limits import ReadOptions
from dicecli.models import Mask
from dicecli.models.registry import Registry


@dataclass(frozen=True, slots=True)
class Reader:
    """One input format.

    ``suffixes`` are lower case with their dot (``.nii.gz`` is one suffix; the longest match
    wins); ``sniff(path)`` recognises a file of this format without a known suffix (DICOM's
    magic bytes); ``has_geometry`` is False for formats without spacing or position (PNG), whose
    masks are then never compared by geometry and have no volumes; ``folders`` means a folder
    is one mask of this format (a DICOM series), when ``claims_folder(path)`` says it is one.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[str, ReadOptions], Mask]
    sniff: Callable[[str], bool] | None = None
    has_geometry: bool = True
    folders: bool = False
    title: str = ""
    claims_folder: Callable[[str], bool] | None = None


_READERS: Registry[Reader] = Registry("reader", lambda reader: reader.suffixes)


def register_reader(reader: Reader) -> Reader:
    """Add (or replace, by name) a reader; its suffixes must not belong to another reader."""
    return _READERS.register(reader)


def unregister_reader(name: str) -> None:
    _READERS.unregister(name)


def readers() -> tuple[Reader, ...]:
    """Every registered reader, in registration order."""
    return _READERS.entries()


def format_suffix(path: str) -> str | None:
    """The known format suffix of a file name (``.nii.gz`` is one suffix), or None."""
    lower = os.path.basename(path).lower()
    matches = [
        s
        for r in _READERS.entries()
        for s in r.suffixes
        if lower.endswith(s) and len(lower) > len(s)
    ]
    return max(matches, key=len) if matches else None


def case_id(path: str) -> str:
    """The file name without its format suffix: ``case.seg.nii.gz`` -> ``case.seg``."""
    name = os.path.basename(os.path.normpath(path))
    suffix = format_suffix(name)
    return name[: -len(suffix)] if suffix else name


def reader_for(path: str) -> Reader | None:
    """The reader of a path: for a folder the first folder reader that claims it (else the first
    folder reader, for its error), else by suffix, else by sniffing."""
    if os.path.isdir(path):
        folder_readers = [r for r in _READERS.entries() if r.folders]
        claiming = (r for r in folder_readers if r.claims_folder is None or r.claims_folder(path))
        return next(claiming, folder_readers[0] if folder_readers else None)
    suffix = format_suffix(path)
    if suffix is not None:
        return next(r for r in _READERS.entries() if suffix in r.suffixes)
    return next((r for r in _READERS.entries() if r.sniff is not None and r.sniff(path)), None)


def is_mask_path(path: str) -> bool:
    """Whether a path is something ``load_mask`` can try: a known suffix, a DICOM file or folder."""
    return reader_for(path) is not None
