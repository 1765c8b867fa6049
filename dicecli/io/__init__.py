"""Readers: one module per format behind ``load_mask(path) -> Mask``, found through one registry.

Adding a format is one reader module plus one ``register_reader(Reader(...))`` entry below: its
suffixes, how to recognise a file without one (``sniff``), and whether the files carry geometry.
Pairing, ``load_mask``, the error messages and ``dicecli score --help`` all read the registry.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

from dicecli.errors import MaskReadError, UnsupportedFormatError
from dicecli.io._limits import ReadOptions
from dicecli.models import Mask
from dicecli.models.registry import Registry

__all__ = [
    "ReadOptions",
    "Reader",
    "case_id",
    "format_suffix",
    "is_mask_path",
    "load_mask",
    "reader_for",
    "readers",
    "register_reader",
    "unregister_reader",
]


@dataclass(frozen=True, slots=True)
class Reader:
    """One input format.

    ``suffixes`` are lower case with their dot (``.nii.gz`` is one suffix; the longest match
    wins); ``sniff(path)`` recognises a file of this format without a known suffix (DICOM's
    magic bytes); ``has_geometry`` is False for formats without spacing or position (PNG), whose
    masks are then never compared by geometry and have no volumes; ``folders`` means a folder
    is one mask of this format (a DICOM series).
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[str, ReadOptions], Mask]
    sniff: Callable[[str], bool] | None = None
    has_geometry: bool = True
    folders: bool = False
    title: str = ""


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
    """The reader of a path: a folder reader for a folder, else by suffix, else by sniffing."""
    if os.path.isdir(path):
        return next((r for r in _READERS.entries() if r.folders), None)
    suffix = format_suffix(path)
    if suffix is not None:
        return next(r for r in _READERS.entries() if suffix in r.suffixes)
    return next((r for r in _READERS.entries() if r.sniff is not None and r.sniff(path)), None)


def is_mask_path(path: str) -> bool:
    """Whether a path is something ``load_mask`` can try: a known suffix, a DICOM file or folder."""
    return reader_for(path) is not None


def load_mask(path: str | os.PathLike[str], options: ReadOptions | None = None) -> Mask:
    """Read a mask file (PNG/TIFF/BMP/JPEG, NIfTI, NRRD/MHA, DICOM file or series folder).

    Raises a ``DiceCliError`` subclass naming the path for anything missing, empty, corrupt,
    truncated or of unknown format.
    """
    path = os.fspath(path)
    options = options or ReadOptions()
    if not os.path.isdir(path):
        if not os.path.exists(path):
            raise MaskReadError(f"{path}: no such file; check the path")
        if os.path.getsize(path) == 0:
            raise MaskReadError(f"{path}: empty file (0 bytes); re-export it")
    reader = reader_for(path)
    if reader is None:
        known = ", ".join(s for r in _READERS.entries() for s in r.suffixes)
        raise UnsupportedFormatError(f"{path}: unknown mask format; use one of {known} or DICOM")
    mask = reader.read(path, options)
    return mask if reader.has_geometry else dataclasses.replace(mask, has_geometry=False)


def _nifti(path: str, options: ReadOptions) -> Mask:
    from dicecli.io.nifti import read_nifti

    return read_nifti(path, options)


def _itk(path: str, options: ReadOptions) -> Mask:
    from dicecli.io.itk import read_itk

    return read_itk(path, options)


def _raster(path: str, options: ReadOptions) -> Mask:
    from dicecli.io.raster import read_raster

    return read_raster(path, options)


def _dicom(path: str, options: ReadOptions) -> Mask:
    """A series folder or file; a SEG or RTSTRUCT file goes to its own reader."""
    from dicecli.io import dicom

    if not os.path.isdir(path):
        kind = dicom.modality(path)
        if kind == "SEG":
            from dicecli.io.seg import read_seg

            return read_seg(path, options)
        if kind == "RTSTRUCT":
            from dicecli.io.rtstruct import read_rtstruct

            return read_rtstruct(path, options)
    return dicom.read_series(path, options)[0]


def _is_dicom(path: str) -> bool:
    from dicecli.io.dicom import is_dicom_file

    return is_dicom_file(path)


register_reader(Reader("nifti", (".nii.gz", ".nii"), _nifti, title="NIfTI-1/2"))
register_reader(Reader("itk", (".nrrd", ".nhdr", ".mha", ".mhd"), _itk, title="NRRD, MetaImage"))
register_reader(
    Reader(
        "raster",
        (".png", ".tif", ".tiff", ".bmp", ".gif", ".jpg", ".jpeg"),
        _raster,
        has_geometry=False,
        title="PNG, TIFF, BMP, GIF, JPEG",
    )
)
register_reader(
    Reader(
        "dicom",
        (".dcm", ".dicom"),
        _dicom,
        sniff=_is_dicom,
        folders=True,
        title="DICOM file or series folder, SEG, RTSTRUCT",
    )
)
