"""A folder of per-structure masks, one binary file per structure (TotalSegmentator's default
output, most RT and 3D Slicer exports): one named mask.

The structures are the folder's mask files of its most common format (``statistics.json`` and a
``preview_total.png`` beside NIfTI files are not structures), named by their file names without
the format suffix, in natural order (``rib_left_2`` before ``rib_left_10``). Every non-zero voxel
of a file is its structure. The files must share one grid. Structures that never overlap are
packed into one label map (value i for the i-th file); where some overlap, each is kept as its
own boolean segment. The values only number the files: such a folder is matched by name, never
by number.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dicecli.errors import GeometryError, MaskReadError
from dicecli.io._limits import ReadOptions
from dicecli.models import Mask, Segment, Structure

__all__ = ["is_structure_folder", "read_structure_folder", "structure_files"]

#: Files decompressed at once (libdeflate releases the GIL); each holds one volume in memory.
READ_THREADS = min(4, os.cpu_count() or 1)

#: Bytes of mask tested at once for any non-zero voxel before the voxels themselves are found.
_BLOCK = 4096


def structure_files(folder: str) -> tuple[list[str], list[str]]:
    """The folder's structure files (natural order) and the other entries (not structures)."""
    from dicecli.io.registry import format_suffix, reader_for

    found: list[tuple[str, str]] = []
    others: list[str] = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("."):
            continue
        path = os.path.join(folder, name)
        reader = None if os.path.isdir(path) else reader_for(path)
        if reader is None or reader.name == "dicom" or format_suffix(path) is None:
            others.append(path)
            continue
        found.append((reader.name, path))
    if not found:
        return [], others
    common = Counter(r for r, _ in found).most_common(1)[0][0]
    files = [p for r, p in found if r == common]
    others += [p for r, p in found if r != common]
    return sorted(files, key=_natural), sorted(others)


def is_structure_folder(path: str) -> bool:
    """A folder holding mask files (and no DICOM image slices: that is a series)."""
    return os.path.isdir(path) and bool(structure_files(path)[0])


def _natural(path: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", path)]


def read_structure_folder(
    path: str, options: ReadOptions, load_mask: Callable[[str, ReadOptions], Mask]
) -> Mask:
    """The folder's structures as one mask; ``load_mask`` reads each file (``dicecli.io``)."""
    from dicecli.io.registry import case_id

    files, _ = structure_files(path)
    if not files:
        raise MaskReadError(
            f"{path}: folder holds no mask files; point at a folder of per-structure masks "
            "(liver.nii.gz, spleen.nii.gz...) or a DICOM series"
        )
    first: Mask | None = None
    flats: list[np.ndarray] = []  # per layer, flat in Fortran order (the readers' layout)
    placed: list[tuple[str, int]] = []  # (name, layer) of structure i + 1
    notes: list[str] = []
    dtype = np.uint8 if len(files) < 256 else np.uint16

    def read(file: str) -> tuple[Mask, np.ndarray, list[str]]:
        mask = load_mask(file, options)
        said: list[str] = []
        return mask, _foreground(mask, said), said

    # decompression releases the GIL: a few files in flight at once, in order
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        for number, (mask, index, said) in enumerate(pool.map(read, files), start=1):
            notes += said
            if first is None:
                first = mask
            else:
                _same_grid(mask, first)
            layer = next((i for i, f in enumerate(flats) if not f[index].any()), len(flats))
            if layer == len(flats):
                flats.append(np.zeros(math.prod(first.array.shape), dtype))
            flats[layer][index] = number
            placed.append((case_id(mask.path), layer))
    assert first is not None
    shape = first.array.shape
    layers = [flat.reshape(shape, order="F") for flat in flats]
    common: dict[str, Any] = {
        "spacing": first.spacing,
        "origin": first.origin,
        "direction": first.direction,
        "path": path,
        "format": "structure-folder",
        "warnings": tuple(notes),
        "has_geometry": first.has_geometry,
        "numbered": False,
        "named_by": "file names",
        "meta": first.meta,
    }
    if len(layers) == 1:
        structures = tuple(Structure(name, (i,)) for i, (name, _) in enumerate(placed, start=1))
        return Mask(layers[0], structures=structures, **common)
    segments = tuple(
        Segment(i, name, layers[layer] == i) for i, (name, layer) in enumerate(placed, start=1)
    )
    return Mask(layers[0], segments=segments, **common)


def _same_grid(mask: Mask, first: Mask) -> None:
    if mask.array.shape != first.array.shape:
        raise GeometryError(
            f"{mask.path} has shape {tuple(mask.array.shape)} but {first.path} has "
            f"{tuple(first.array.shape)}; the structures of a folder must share one grid"
        )
    scale = max(first.spacing, default=1.0)
    same = (
        np.allclose(mask.spacing, first.spacing, rtol=1e-3, atol=0)
        and np.allclose(mask.origin, first.origin, rtol=0, atol=1e-3 * scale)
        and np.allclose(mask.direction, first.direction, rtol=0, atol=1e-3)
    )
    if not same:
        raise GeometryError(
            f"{mask.path} and {first.path} lie on different grids (spacing, origin or "
            "direction); the structures of a folder must share one grid"
        )


def _foreground(mask: Mask, notes: list[str]) -> np.ndarray:
    """Flat (Fortran-order) indices of the non-zero voxels of one structure's file."""
    if mask.segments:
        if len(mask.segments) > 1:
            raise MaskReadError(
                f"{mask.path}: holds {len(mask.segments)} structures; a structure folder holds "
                "one mask per structure"
            )
        array: Any = mask.segments[0].array
    else:
        array = mask.array
    if array.dtype.kind == "f":
        whole = np.isfinite(array).all() and np.array_equal(array, np.trunc(array))
        if not whole:
            raise MaskReadError(
                f"{mask.path}: holds non-integer values; a structure folder holds one binary "
                "mask per structure (threshold probability maps first)"
            )
    elif array.dtype.kind not in "biu":
        raise MaskReadError(f"{mask.path}: voxels of type {array.dtype} cannot hold a mask")
    flat = np.asarray(array).ravel(order="F")
    index = _nonzero(flat)
    values = np.unique(flat[index])
    if values.size > 1:
        shown = ", ".join(f"{v:g}" for v in values[:5].tolist())
        notes.append(
            f"{mask.path}: holds {values.size} non-zero values ({shown}...); every non-zero "
            "voxel counts as the structure"
        )
    return index


def _nonzero(flat: np.ndarray) -> np.ndarray:
    """``np.flatnonzero`` for mostly-empty masks (4 times faster on a TotalSegmentator file):
    blocks of 4 KiB are tested first, as 8-byte words (a max reduction), and only the blocks that
    hold something are searched voxel by voxel."""
    if flat.dtype.kind == "b":
        flat = flat.view(np.uint8)
    per_block = _BLOCK // flat.itemsize
    if _BLOCK % flat.itemsize or not flat.flags.c_contiguous or flat.size < per_block:
        return np.flatnonzero(flat)
    full = flat.size // per_block * per_block
    words = flat[:full].view(np.uint64).reshape(-1, _BLOCK // 8)
    blocks = np.flatnonzero(words.max(axis=1))
    inside = (blocks[:, None] * per_block + np.arange(per_block)).ravel()
    hits = inside[flat[inside] != 0]
    tail = full + np.flatnonzero(flat[full:])
    return np.concatenate([hits, tail]) if tail.size else np.asarray(hits)
