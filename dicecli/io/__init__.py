"""Readers: one module per format behind ``load_mask(path) -> Mask``.

Adding a format is one reader module plus one entry in ``READERS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from dicecli.errors import MaskReadError, UnsupportedFormatError
from dicecli.io._limits import ReadOptions
from dicecli.models import Mask

Reader = Callable[[str, ReadOptions], Mask]


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
    from dicecli.io.dicom import read_dicom

    return read_dicom(path, options)


#: Format suffix (lower case, longest first wins) -> reader.
READERS: Mapping[str, Reader] = {
    ".nii.gz": _nifti,
    ".nii": _nifti,
    ".nrrd": _itk,
    ".nhdr": _itk,
    ".mha": _itk,
    ".mhd": _itk,
    ".png": _raster,
    ".tif": _raster,
    ".tiff": _raster,
    ".bmp": _raster,
    ".gif": _raster,
    ".jpg": _raster,
    ".jpeg": _raster,
    ".dcm": _dicom,
    ".dicom": _dicom,
}


def format_suffix(path: str) -> str | None:
    """The known format suffix of a file name (``.nii.gz`` is one suffix), or None."""
    lower = os.path.basename(path).lower()
    matches = [s for s in READERS if lower.endswith(s) and len(lower) > len(s)]
    return max(matches, key=len) if matches else None


def case_id(path: str) -> str:
    """The file name without its format suffix: ``case.seg.nii.gz`` -> ``case.seg``."""
    name = os.path.basename(os.path.normpath(path))
    suffix = format_suffix(name)
    return name[: -len(suffix)] if suffix else name


def is_mask_path(path: str) -> bool:
    """Whether a path is something ``load_mask`` can try: a known suffix, a DICOM file or folder."""
    if os.path.isdir(path):
        return True
    if format_suffix(path):
        return True
    from dicecli.io.dicom import is_dicom_file

    return is_dicom_file(path)


def load_mask(path: str | os.PathLike[str], options: ReadOptions | None = None) -> Mask:
    """Read a mask file (PNG/TIFF/BMP/JPEG, NIfTI, NRRD/MHA, DICOM file or series folder).

    Raises a ``DiceCliError`` subclass naming the path for anything missing, empty, corrupt,
    truncated or of unknown format.
    """
    path = os.fspath(path)
    options = options or ReadOptions()
    if os.path.isdir(path):
        return _dicom(path, options)
    if not os.path.exists(path):
        raise MaskReadError(f"{path}: no such file; check the path")
    if os.path.getsize(path) == 0:
        raise MaskReadError(f"{path}: empty file (0 bytes); re-export it")
    suffix = format_suffix(path)
    if suffix is not None:
        return READERS[suffix](path, options)
    from dicecli.io.dicom import is_dicom_file

    if is_dicom_file(path):
        return _dicom(path, options)
    known = ", ".join(sorted(READERS))
    raise UnsupportedFormatError(f"{path}: unknown mask format; use one of {known} or DICOM")


__all__ = ["READERS", "ReadOptions", "case_id", "format_suffix", "is_mask_path", "load_mask"]
