"""NIfTI-1/2 (.nii, .nii.gz) through nibabel's header classes.

A ``.nii.gz`` is decompressed in one call (libdeflate) and the voxels are viewed in place with
``np.frombuffer`` -- no second copy, no dtype widening. A ``.nii`` is memory-mapped. Label maps keep
their integer dtype (never ``get_fdata()``).
"""

from __future__ import annotations

import io
import math
import os
import zlib
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError, UnsupportedFormatError, first_line
from dicecli.io import _gzip, _nifti1
from dicecli.io._geometry import from_ras_affine
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.models import Mask


def read_nifti(path: str, options: ReadOptions) -> Mask:
    try:
        mask = _read_fast(path, options)
        return mask if mask is not None else _read_nibabel(path, options)
    except MaskReadError:
        raise
    except (OSError, EOFError, ValueError, zlib.error) as e:
        raise MaskReadError(
            f"{path}: not a readable NIfTI file ({first_line(e)}); re-export it or check the "
            "download"
        ) from e


def _read_fast(path: str, options: ReadOptions) -> Mask | None:
    """NIfTI-1 with a qform or sform, parsed without nibabel; None for anything else."""
    with open(path, "rb") as f:
        raw = f.read() if path.endswith(".gz") else f.read(352)
    head = _gzip.peek(raw, 352) if path.endswith(".gz") else raw
    header = _nifti1.parse(head)
    if header is None:
        return None
    shape = _squeeze(header.shape, path)
    check_voxels(path, shape, options)
    if path.endswith(".gz"):
        data: Any = _gzip.gunzip(raw, header.data_end)
    elif os.path.getsize(path) >= header.data_end:
        data = np.memmap(path, dtype=np.uint8, mode="r")
    else:
        data = b""
    if len(data) < header.data_end:
        raise _truncated(path, shape, header.dtype, len(data) - header.vox_offset)
    count = math.prod(shape)
    array = np.frombuffer(data, header.dtype, count, header.vox_offset).reshape(shape, order="F")
    if header.slope is not None and (header.slope != 1 or header.inter != 0):
        array = array * header.slope + header.inter
    spacing, origin, direction = from_ras_affine(header.affine, len(shape))
    return Mask(array, spacing, origin, direction, path, "nifti")


def _read_nibabel(path: str, options: ReadOptions) -> Mask:
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    try:
        if path.endswith(".gz"):
            with open(path, "rb") as f:
                raw = f.read()
            header = _parse_header(_gzip.peek(raw, 544), path)
            shape = _shape(header, path)
            check_voxels(path, shape, options)
            array = _voxels(header, _gzip.gunzip(raw, _data_end(header, shape)), shape, path)
        else:
            img = nib.load(path, mmap="r")
            if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):  # CIFTI-2 and the like
                kind = type(img).__name__.removesuffix("Image").replace("Cifti2", "CIFTI-2")
                raise UnsupportedFormatError(
                    f"{path}: a {kind} file, not a voxel mask; dicecli scores NIfTI volumes "
                    "(export the labels as a NIfTI volume)"
                )
            header = img.header
            shape = _shape(header, path)
            check_voxels(path, shape, options)
            array = np.asanyarray(img.dataobj).reshape(shape, order="F")
    except ImageFileError as e:
        raise MaskReadError(
            f"{path}: not a readable NIfTI file ({first_line(e)}); re-export it"
        ) from e
    spacing, origin, direction = from_ras_affine(header.get_best_affine(), len(shape))
    return Mask(array, spacing, origin, direction, path, "nifti")


def _parse_header(head: bytes, path: str) -> Any:
    import nibabel as nib

    if len(head) < 348:
        raise MaskReadError(f"{path}: truncated NIfTI header ({len(head)} bytes); re-export it")
    # sizeof_hdr says the version (348: NIfTI-1, 540: NIfTI-2, in either byte order): parsing
    # with the other class first only makes nibabel log false warnings
    sizes = {int.from_bytes(head[:4], order) for order in ("little", "big")}
    versions = [c for c in (nib.Nifti1Header, nib.Nifti2Header) if c.sizeof_hdr in sizes]
    for cls in versions:
        try:
            return cls.from_fileobj(io.BytesIO(head[: cls.template_dtype.itemsize]), check=True)
        except Exception as e:  # nibabel raises many kinds for a bad header
            raise MaskReadError(
                f"{path}: not a readable NIfTI header ({first_line(e)}); re-export it"
            ) from e
    raise MaskReadError(f"{path}: not a NIfTI file (no valid NIfTI-1 or NIfTI-2 header)")


def _shape(header: Any, path: str) -> tuple[int, ...]:
    return _squeeze(tuple(int(n) for n in header.get_data_shape()), path)


def _squeeze(shape: tuple[int, ...], path: str) -> tuple[int, ...]:
    """Drop trailing singleton axes beyond the third; refuse real 4-D+ data."""
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) > 3:
        raise MaskReadError(
            f"{path}: {len(shape)}-D image {shape}; dicecli scores one 2D or 3D mask per file "
            "(split multi-channel or time series into one file per mask)"
        )
    return shape


def _data_end(header: Any, shape: tuple[int, ...]) -> int:
    """Bytes up to the end of the voxel data, as the header promises."""
    count = int(np.prod(shape, dtype=np.int64))
    return int(header["vox_offset"]) + count * int(header.get_data_dtype().itemsize)


def _voxels(header: Any, data: bytes | bytearray, shape: tuple[int, ...], path: str) -> Any:
    dtype = header.get_data_dtype()
    offset = int(header["vox_offset"])
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) < _data_end(header, shape):
        raise _truncated(path, shape, dtype, len(data) - offset)
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape, order="F")
    slope, inter = header.get_slope_inter()
    if slope is not None and (slope != 1 or (inter or 0) != 0):
        array = array * slope + (inter or 0)
    return array


def _truncated(path: str, shape: tuple[int, ...], dtype: Any, have: int) -> MaskReadError:
    return MaskReadError(
        f"{path}: truncated -- the header promises {math.prod(shape)} voxels of {dtype} but the "
        f"file holds {max(have, 0)} bytes of data; re-export it"
    )
