"""3D Slicer segmentations (``.seg.nrrd``): segment names, label values and layers from the NRRD
header keys ``Segment<i>_Name``, ``Segment<i>_LabelValue`` and ``Segment<i>_Layer``.

One layer is a named label map. Slicer adds a layer (a 4-D ``list`` axis, read as a
multi-component image) whenever segments overlap; then each segment is its own boolean mask
(value ``LabelValue`` on its layer). Files of Slicer before 4.11 hold one component per segment
without ``_LabelValue``: component i is segment i (any non-zero voxel). Slicer crops a
segmentation to the extent of its segments; such a grid is embedded in the reference's grid when
it lies on it exactly (``geometry.embed``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.io._sitk import sitk_array, sitk_geometry
from dicecli.models import SLICER_GRID, Mask, Segment, Structure

_KEY = re.compile(r"^Segment(\d+)_(\w+)$")


def slicer_mask(image: Any, meta: dict[str, str], path: str) -> Mask:
    fields: dict[int, dict[str, str]] = {}
    for key, value in meta.items():
        match = _KEY.match(key)
        if match:
            fields.setdefault(int(match[1]), {})[match[2]] = value.strip()
    array = sitk_array(image)
    layers = int(image.GetNumberOfComponentsPerPixel())
    segments = [_segment(i, fields[i], layers, path) for i in sorted(fields)]
    spacing, origin, direction = sitk_geometry(image)
    common: dict[str, Any] = {
        "spacing": spacing,
        "origin": origin,
        "direction": direction,
        "path": path,
        "format": "slicer-seg",
        "grid": SLICER_GRID,
        "named_by": "its header (3D Slicer segment names)",
    }
    if layers == 1:
        if segments and segments[0][1] < 0:  # one old-style segment: any non-zero voxel
            array = (array != 0).view(np.uint8)
            segments = [(segments[0][0], 1, 0)]
        values = [value for _, value, _ in segments]
        if len(set(values)) < len(values):
            raise MaskReadError(f"{path}: two segments of one layer share a label value")
        return Mask(array, structures=tuple(Structure(n, (v,)) for n, v, _ in segments), **common)
    numbers = [value for _, value, _ in segments]
    unique = len(set(numbers)) == len(numbers)
    parts = tuple(
        Segment(value if unique else i, name, _select(array[..., layer], value))
        for i, (name, value, layer) in enumerate(segments, start=1)
    )
    display = np.zeros(array.shape[:-1], np.uint16 if len(parts) > 255 else np.uint8, order="F")
    for part in sorted(parts, key=lambda s: -s.number):
        display[part.array] = part.number
    # label values repeat across layers: the numbers then only count the segments
    return Mask(display, segments=parts, numbered=unique, **common)


def _segment(i: int, keys: dict[str, str], layers: int, path: str) -> tuple[str, int, int]:
    """(name, label value, layer) of header segment i; -1 as value: any non-zero voxel."""
    name = keys.get("Name") or keys.get("ID") or f"Segment_{i + 1}"
    try:
        if "LabelValue" not in keys:  # Slicer < 4.11: one component per segment
            if layers == 1 and i > 0:
                raise MaskReadError(
                    f"{path}: segment {name!r} has no label value; re-save it in 3D Slicer"
                )
            return name, -1, i if layers > 1 else 0
        layer = int(keys.get("Layer", "0"))
        value = int(keys["LabelValue"])
    except ValueError as e:
        raise MaskReadError(f"{path}: segment {name!r} has a malformed header key ({e})") from e
    if not 0 <= layer < layers:
        raise MaskReadError(
            f"{path}: segment {name!r} is on layer {layer} but the file holds {layers}"
        )
    return name, value, layer


def _select(layer: Any, value: int) -> Any:
    return np.asarray(layer != 0 if value < 0 else layer == value)
