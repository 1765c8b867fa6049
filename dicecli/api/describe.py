"""``describe_mask``: what ``dicecli info`` prints about one mask."""

from __future__ import annotations

import os
from typing import Any

#: More distinct values than this (or fractional values) and a volume looks like an image.
IMAGE_VALUES = 255
#: How many values ``info`` lists of a volume that looks like an image.
IMAGE_SHOWN = 20


def describe_mask(
    path: str | os.PathLike[str],
    max_voxels: int = 4_000_000_000,
    reference_image: str | None = None,
    label_table: str | None = None,
) -> dict[str, Any]:
    """Shape, dtype, spacing, orientation and every label or structure with its voxel count and
    volume (mL); for a DICOM SEG or RTSTRUCT, every segment and where its grid came from
    (``grid``); for a volume of many distinct values (an image, not a mask), how many
    (``distinct``) and the first few. ``label_table`` names a label map's values."""
    import math

    import numpy as np

    from dicecli.geometry import orientation_code
    from dicecli.io import ReadOptions, load_mask
    from dicecli.io.label_table import find_table, read_table

    path = os.fspath(path)
    mask = load_mask(path, ReadOptions(max_voxels=max_voxels, reference_image=reference_image))
    table = label_table or (None if os.path.isdir(path) or mask.named else find_table(path))
    if table and not mask.named:
        from dataclasses import replace

        mask = replace(mask, structures=read_table(table), named_by=table)
    voxel_ml = math.prod(mask.spacing) / 1000 if mask.ndim == 3 and mask.has_geometry else None

    def entry(value: Any, name: str, voxels: int, note: str = "") -> dict[str, Any]:
        volume = voxels * voxel_ml if voxel_ml else None
        return {"value": value, "name": name, "voxels": voxels, "volume_ml": volume, "note": note}

    distinct, fractional = 0, False
    if mask.segments:
        labels = [entry(s.number, s.label, int(np.count_nonzero(s.array))) for s in mask.segments]
    else:
        values, counts = np.unique(mask.array, return_counts=True)
        distinct = int(values.size)
        fractional = values.dtype.kind == "f" and not np.array_equal(values, np.trunc(values))
        found = {v.item(): int(c) for v, c in zip(values, counts, strict=True)}
        if mask.structures:
            named = {v for s in mask.structures for v in s.values}
            labels = [
                entry("+".join(map(str, s.values)), s.name, sum(found.get(v, 0) for v in s.values))
                for s in mask.structures
            ]
            outside = [(v, c) for v, c in found.items() if v not in named]
            labels = [entry(v, "", c, "background") for v, c in outside if v == 0] + labels
            labels += [entry(v, "", c, "not in the label table") for v, c in outside if v != 0]
        else:
            labels = [entry(v, "", c) for v, c in found.items()]
    image_like = distinct > IMAGE_VALUES or fractional
    return {
        "path": mask.path,
        "format": mask.format,
        "shape": tuple(int(n) for n in mask.array.shape),
        "dtype": str(mask.array.dtype),
        "spacing": mask.spacing,
        "origin": mask.origin,
        "orientation": orientation_code(mask),
        "labels": labels[:IMAGE_SHOWN] if image_like else labels,
        "segments": bool(mask.segments),
        "structures": bool(mask.structures),
        "named_by": mask.named_by,
        "image_like": image_like,
        "distinct": distinct,
        "grid": mask.grid,
        "not_structures": _not_structures(path),
        "warnings": list(mask.warnings),
    }


def _not_structures(path: str) -> list[str]:
    """The entries of a per-structure folder that are not structures."""
    from dicecli.io import reader_for

    reader = reader_for(path) if os.path.isdir(path) else None
    if reader is None or reader.name != "structures":
        return []
    from dicecli.io.folder import structure_files

    return [os.path.basename(p) for p in structure_files(path)[1]]
