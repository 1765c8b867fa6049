"""``describe_mask``: what ``dicecli info`` prints about one mask."""

from __future__ import annotations

import os
from typing import Any


def describe_mask(
    path: str | os.PathLike[str],
    max_voxels: int = 4_000_000_000,
    reference_image: str | None = None,
) -> dict[str, Any]:
    """Shape, dtype, spacing, orientation and every label with its voxel count and volume (mL);
    for a DICOM SEG or RTSTRUCT, every segment, and where its grid came from (``grid``)."""
    import math

    import numpy as np

    from dicecli.geometry import orientation_code
    from dicecli.io import ReadOptions, load_mask

    mask = load_mask(path, ReadOptions(max_voxels=max_voxels, reference_image=reference_image))
    voxel_ml = math.prod(mask.spacing) / 1000 if mask.ndim == 3 and mask.has_geometry else None
    if mask.segments:
        labels = [
            {
                "value": s.number,
                "name": s.label,
                "voxels": int(np.count_nonzero(s.array)),
                "volume_ml": int(np.count_nonzero(s.array)) * voxel_ml if voxel_ml else None,
            }
            for s in mask.segments
        ]
    else:
        values, counts = np.unique(mask.array, return_counts=True)
        labels = [
            {
                "value": v.item(),
                "name": "",
                "voxels": int(c),
                "volume_ml": c * voxel_ml if voxel_ml else None,
            }
            for v, c in zip(values, counts, strict=True)
        ]
    return {
        "path": mask.path,
        "format": mask.format,
        "shape": tuple(int(n) for n in mask.array.shape),
        "dtype": str(mask.array.dtype),
        "spacing": mask.spacing,
        "origin": mask.origin,
        "orientation": orientation_code(mask),
        "labels": labels,
        "segments": bool(mask.segments),
        "grid": mask.grid,
        "warnings": list(mask.warnings),
    }
