"""Readers: one module per format behind ``load_mask(path) -> Mask``, found through one registry.

Adding a format is one reader module plus one ``register_reader(Reader(...))`` entry below: its
suffixes, how to recognise a file without one (``sniff``), and whether the files carry geometry.
Pairing, ``load_mask``, the error messages and ``dicecli score --help`` all read the registry.
"""

from __future__ import annotations

import dataclasses
import os

from dicecli.errors import MaskReadError, UnsupportedFormatError
from dicecli.io._limits import ReadOptions
from dicecli.io.registry import (
    Reader,
    case_id,
    format_suffix,
    is_mask_path,
    reader_for,
    readers,
    register_reader,
    unregister_reader,
)
from dicecli.models import Mask

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


def load_mask(path: str | os.PathLike[str], options: ReadOptions | None = None) -> Mask:
    """Read a mask file (PNG/TIFF/BMP/JPEG, NIfTI, NRRD/MHA, 3D Slicer, MGH, MINC, NumPy, DICOM
    file or series folder, SEG, RTSTRUCT) or a folder of per-structure masks.

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
        known = ", ".join(s for r in readers() for s in r.suffixes)
        raise UnsupportedFormatError(f"{path}: unknown mask format; use one of {known} or DICOM")
    mask = reader.read(path, options)
    if mask.array.size == 0:  # a mask of no voxel scores nothing: no gate could fail on it
        shape = "x".join(map(str, mask.array.shape))
        raise MaskReadError(f"{path}: holds no voxels (shape {shape}); re-export it")
    if not reader.has_geometry:
        return dataclasses.replace(mask, has_geometry=False)
    _check_geometry(path, mask)
    return mask


def _check_geometry(path: str, mask: Mask) -> None:
    """Every reader's grid, whatever its header said: finite positive spacing, a finite origin,
    finite independent axis directions (a NaN orientation is no grid to compare or resample)."""
    import math

    import numpy as np

    problem = ""
    if not all(math.isfinite(v) and v > 0 for v in mask.spacing):
        problem = f"spacing {', '.join(f'{v:g}' for v in mask.spacing)}"
    elif not all(math.isfinite(v) for v in mask.origin):
        problem = f"origin {', '.join(f'{v:g}' for v in mask.origin)}"
    else:
        n = math.isqrt(len(mask.direction))
        matrix = np.asarray(mask.direction, dtype=float)
        if n * n != len(mask.direction) or not np.isfinite(matrix).all():
            problem = "axis directions that are not finite numbers"
        elif abs(np.linalg.det(matrix.reshape(n, n))) < 1e-6:
            problem = "axis directions that are parallel or zero"
    if problem:
        raise MaskReadError(
            f"{path}: its geometry is unusable ({problem}); fix the header or re-export it"
        )


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


def _has_dicom(folder: str) -> bool:
    """Whether a folder directly holds a DICOM file (``.dcm``, or the magic bytes in a file
    without another known format suffix)."""
    from dicecli.io.dicom import is_dicom_file

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    for entry in entries:
        try:
            if entry.name.startswith(".") or not entry.is_file():
                continue
        except OSError:  # a symbolic link loop: not a file of a series
            continue
        suffix = format_suffix(entry.name)
        if suffix in (".dcm", ".dicom") or (suffix is None and is_dicom_file(entry.path)):
            return True
    return False


def _nibabel(path: str, options: ReadOptions) -> Mask:
    from dicecli.io.nibabel_ import read_nibabel

    return read_nibabel(path, options)


def _numpy(path: str, options: ReadOptions) -> Mask:
    from dicecli.io.numpy_ import read_numpy

    return read_numpy(path, options)


def _structures(path: str, options: ReadOptions) -> Mask:
    from dicecli.io.folder import read_structure_folder

    return read_structure_folder(path, options, load_mask)


def _is_structure_folder(path: str) -> bool:
    from dicecli.io.folder import is_structure_folder

    return is_structure_folder(path)


register_reader(
    Reader("nifti", (".nii.gz", ".nii", "_dseg.nii.gz", "_dseg.nii"), _nifti, title="NIfTI-1/2")
)
register_reader(
    Reader(
        "itk",
        (".nrrd", ".nhdr", ".seg.nrrd", ".seg.nhdr", ".mha", ".mhd", ".gipl", ".gipl.gz", ".hdr"),
        _itk,
        title="NRRD, 3D Slicer .seg.nrrd, MetaImage, GIPL, Analyze",
    )
)
register_reader(Reader("nibabel", (".mgz", ".mgh", ".mnc"), _nibabel, title="FreeSurfer MGH, MINC"))
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
        claims_folder=_has_dicom,
    )
)
register_reader(
    Reader("numpy", (".npy", ".npz"), _numpy, has_geometry=False, title="NumPy .npy/.npz")
)
register_reader(
    Reader(
        "structures",
        (),
        _structures,
        folders=True,
        title="a folder of per-structure masks",
        claims_folder=_is_structure_folder,
    )
)
