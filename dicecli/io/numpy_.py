"""NumPy arrays (``.npy``, ``.npz`` holding one array): voxels without geometry, like PNG.

Read with ``allow_pickle=False`` (an array of Python objects is refused, never unpickled);
``.npy`` is memory-mapped, and its header's shape is checked against ``--max-voxels`` first.
"""

from __future__ import annotations

import zipfile
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.io._geometry import identity
from dicecli.io._limits import ReadOptions, check_voxels
from dicecli.models import Mask


def read_numpy(path: str, options: ReadOptions) -> Mask:
    try:
        array = _npz(path, options) if path.lower().endswith(".npz") else _npy(path, options)
    except MaskReadError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise MaskReadError(f"{path}: not a readable NumPy file ({e}); re-save it") from e
    if array.dtype.hasobject or array.dtype.kind not in "biuf":
        raise MaskReadError(f"{path}: an array of {array.dtype}, not a mask of numbers")
    while array.ndim > 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise MaskReadError(
            f"{path}: a {array.ndim}-D array {array.shape}; dicecli scores one 2D or 3D mask "
            "per file"
        )
    spacing, origin, direction = identity(array.ndim)
    return Mask(array, spacing, origin, direction, path, "numpy")


def _npy(path: str, options: ReadOptions) -> Any:
    with open(path, "rb") as f:
        shape, dtype = _header(f)
    check_voxels(path, tuple(shape), options)
    if dtype.hasobject:
        raise MaskReadError(f"{path}: an array of Python objects, not a mask of numbers")
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _npz(path: str, options: ReadOptions) -> Any:
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        if len(names) != 1:
            raise MaskReadError(
                f"{path}: holds {len(names)} arrays ({', '.join(names[:5])}); save one mask "
                "per .npz file"
            )
        with archive.zip.open(names[0] + ".npy") as f:
            shape, _ = _header(f)
        check_voxels(path, tuple(shape), options)
        return archive[names[0]]


def _header(f: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and dtype from a ``.npy`` header, before any voxel is read."""
    version = np.lib.format.read_magic(f)
    read = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read(f)
    return tuple(int(n) for n in shape), dtype
