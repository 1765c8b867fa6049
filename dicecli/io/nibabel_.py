"""FreeSurfer MGH (``.mgz``, ``.mgh``) and MINC (``.mnc``, MINC-1 and MINC-2) through nibabel,
with NIfTI's geometry rules: the vox2ras affine gives spacing, origin and direction.

An MGH header's shape is checked against ``--max-voxels`` before its voxels are decompressed;
the file is read into memory and parsed from bytes (nibabel's file reader would hold it open).
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError, UnsupportedFormatError, first_line
from dicecli.io import _gzip
from dicecli.io._geometry import from_ras_affine
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.models import Mask

#: An MGH file: a 284-byte header (its fixed fields first), the voxels, optional tags.
_MGH_HEADER = 284


def read_nibabel(path: str, options: ReadOptions) -> Mask:
    mgh = path.lower().endswith((".mgz", ".mgh"))
    try:
        img = _mgh(path, options) if mgh else _minc(path, options)
        shape = _shape(tuple(int(n) for n in img.shape), path)
        array: Any = np.asanyarray(img.dataobj).reshape(shape)
        affine = img.affine
    except (MaskReadError, UnsupportedFormatError):
        raise
    except ImportError as e:  # MINC-2 is HDF5
        raise UnsupportedFormatError(
            f"{path}: reading MINC-2 needs h5py ({first_line(e)}): pip install h5py"
        ) from e
    except Exception as e:  # nibabel raises many kinds for a bad file
        kind = "MGH" if mgh else "MINC"
        raise MaskReadError(
            f"{path}: not a readable {kind} file ({first_line(e)}); re-export it"
        ) from e
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    spacing, origin, direction = from_ras_affine(affine, len(shape))
    return Mask(array, spacing, origin, direction, path, "mgh" if mgh else "minc")


def _shape(shape: tuple[int, ...], path: str) -> tuple[int, ...]:
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) not in (2, 3):
        raise MaskReadError(
            f"{path}: {len(shape)}-D image {shape}; dicecli scores one 2D or 3D mask per file"
        )
    return shape


def _mgh(path: str, options: ReadOptions) -> Any:
    import nibabel as nib
    from nibabel.freesurfer.mghformat import MGHHeader

    with open(path, "rb") as f:
        raw = f.read()
    compressed = path.lower().endswith(".mgz")
    head = _gzip.peek(raw, _MGH_HEADER) if compressed else raw[:_MGH_HEADER]
    if len(head) < _MGH_HEADER:
        raise MaskReadError(f"{path}: truncated MGH header ({len(head)} bytes); re-export it")
    header = MGHHeader.from_fileobj(io.BytesIO(head), check=False)
    shape = tuple(int(n) for n in header.get_data_shape())
    check_voxels(path, _shape(shape, path), options)
    end = _MGH_HEADER + math.prod(shape) * header.get_data_dtype().itemsize
    data = bytes(_gzip.gunzip(raw, end)) if compressed else raw
    if len(data) < end:
        raise MaskReadError(
            f"{path}: truncated -- the header promises {math.prod(shape)} voxels but the file "
            "holds fewer; re-export it"
        )
    return nib.MGHImage.from_bytes(data)


def _minc(path: str, options: ReadOptions) -> Any:
    import nibabel as nib

    img = nib.load(path)
    check_voxels(path, _shape(tuple(int(n) for n in img.shape), path), options)
    return img
