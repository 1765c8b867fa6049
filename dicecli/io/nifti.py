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
    except (MaskReadError, UnsupportedFormatError):
        raise
    except (OSError, EOFError, ValueError, OverflowError, zlib.error) as e:
        raise MaskReadError(
            f"{path}: not a readable NIfTI file ({first_line(e)}); re-export it or check the "
            "download"
        ) from e


def _read_fast(path: str, options: ReadOptions) -> Mask | None:
    """NIfTI-1 with a qform or sform, parsed without nibabel; None for anything else."""
    gz = path.lower().endswith(".gz")
    with open(path, "rb") as f:
        raw = f.read() if gz else f.read(352)
    head = _gzip.peek(raw, 352) if gz else raw
    header = _nifti1.parse(head)
    if header is None:
        return None
    shape = _squeeze(header.shape, path)
    check_voxels(path, shape, options)
    _nifti1.check_affine(header.affine, len(shape))
    data = _data(path, raw, gz, header.data_end)
    array = _voxels(data, header.dtype, header.offset, shape, path)
    if header.slope is not None and (header.slope != 1 or header.inter != 0):
        array = array * header.slope + header.inter
    spacing, origin, direction = from_ras_affine(header.affine, len(shape))
    return Mask(array, spacing, origin, direction, path, "nifti")


def _read_nibabel(path: str, options: ReadOptions) -> Mask:
    """NIfTI-2, and NIfTI-1 the fast parser leaves to nibabel: the header through nibabel's
    classes (its log silenced: the error says it), every field checked before a voxel is read."""
    gz = path.lower().endswith(".gz")
    with open(path, "rb") as f:
        raw = f.read() if gz else f.read(544)
    header = _parse_header(_gzip.peek(raw, 544) if gz else raw, path)
    nifti2 = header.sizeof_hdr == 540
    intent = int(header["intent_code"])
    if 3000 <= intent < 3100:  # CIFTI-2 (a grayordinate matrix) and the like
        raise UnsupportedFormatError(
            f"{path}: a CIFTI-2 file (intent {intent}), not a voxel mask; dicecli scores NIfTI "
            "volumes (export the labels as a NIfTI volume)"
        )
    dim = [int(n) for n in header["dim"]]
    _nifti1.check_dims(dim[0], tuple(dim[1:]))
    shape = _squeeze(tuple(dim[1 : dim[0] + 1]), path)
    check_voxels(path, shape, options)
    single = bytes(header["magic"]).startswith((b"n+1", b"n+2"))
    offset = _nifti1.check_offset(float(header["vox_offset"]), (544 if nifti2 else 352) * single)
    slope, inter = _nifti1.check_scaling(float(header["scl_slope"]), float(header["scl_inter"]))
    try:
        dtype = header.get_data_dtype()
        affine = header.get_best_affine()
    except Exception as e:  # nibabel: an unknown data type, a quaternion that is no rotation
        raise MaskReadError(f"{path}: not a readable NIfTI header ({first_line(e)})") from e
    _nifti1.check_affine(affine, len(shape))
    data = _data(path, raw, gz, offset + math.prod(shape) * dtype.itemsize)
    array = _voxels(data, dtype, offset, shape, path)
    if slope is not None and (slope != 1 or inter != 0):
        array = array * slope + inter
    spacing, origin, direction = from_ras_affine(affine, len(shape))
    return Mask(array, spacing, origin, direction, path, "nifti")


def _data(path: str, raw: bytes, gz: bool, end: int) -> Any:
    """The file's bytes up to the end of the voxels: inflated (never beyond ``end``: a bomb
    costs nothing more), or the file memory-mapped; empty when it is shorter."""
    if gz:
        return _gzip.gunzip(raw, end)
    if os.path.getsize(path) >= end:
        return np.memmap(path, dtype=np.uint8, mode="r", shape=(end,))
    return b""


def _voxels(data: Any, dtype: Any, offset: int, shape: tuple[int, ...], path: str) -> Any:
    count = math.prod(shape)
    if len(data) < offset + count * dtype.itemsize:
        raise _truncated(path, shape, dtype, len(data) - offset)
    return np.frombuffer(data, dtype, count, offset).reshape(shape, order="F")


def _parse_header(head: bytes, path: str) -> Any:
    import nibabel as nib
    from nibabel.imageglobals import LoggingOutputSuppressor

    if len(head) < 348:
        raise MaskReadError(f"{path}: truncated NIfTI header ({len(head)} bytes); re-export it")
    # sizeof_hdr says the version (348: NIfTI-1, 540: NIfTI-2, in either byte order): parsing
    # with the other class first only makes nibabel log false warnings
    sizes = {int.from_bytes(head[:4], order) for order in ("little", "big")}
    versions = [c for c in (nib.Nifti1Header, nib.Nifti2Header) if c.sizeof_hdr in sizes]
    for cls in versions:
        if len(head) < cls.template_dtype.itemsize:
            raise MaskReadError(f"{path}: truncated NIfTI-2 header ({len(head)} bytes)")
        try:
            with LoggingOutputSuppressor():
                return cls.from_fileobj(io.BytesIO(head[: cls.template_dtype.itemsize]), check=True)
        except Exception as e:  # nibabel raises many kinds for a bad header
            raise MaskReadError(
                f"{path}: not a readable NIfTI header ({first_line(e)}); re-export it"
            ) from e
    raise MaskReadError(f"{path}: not a NIfTI file (no valid NIfTI-1 or NIfTI-2 header)")


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


def _truncated(path: str, shape: tuple[int, ...], dtype: Any, have: int) -> MaskReadError:
    return MaskReadError(
        f"{path}: truncated -- the header promises {math.prod(shape)} voxels of {dtype} but the "
        f"file holds {max(have, 0)} bytes of data; re-export it"
    )
