"""Regions scored against DICOM SEG segments and RTSTRUCT ROIs, each as its own binary mask.

A region matches segments by number (``--labels liver=1``) or by label, case-insensitively
(``--labels liver=Liver``); without ``--labels`` every segment of the reference is a region. On
the prediction side a label map is compared through the matched segment numbers, a SEG or
RTSTRUCT through its segments of the same numbers or labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.labels import parse_labels
from dicecli.models import Mask, Region, ScoreOptions


def segment_regions(gt: Mask, options: ScoreOptions) -> tuple[Region, ...]:
    """The ``--labels`` regions, else every segment of the reference but its background
    (segment 0 of a LABELMAP SEG) unless ``--include-background``."""
    if options.labels:
        return parse_labels(options.labels)
    return tuple(
        Region(s.label, (s.number,))
        for s in gt.segments
        if s.number != 0 or options.include_background
    )


def region_masks(
    gt: Mask, pred: Mask, pred_labels: Any, regions: Sequence[Region]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reference and prediction boolean masks of each region, keyed by ``Region.spec``."""
    out = {}
    for region in regions:
        numbers = _numbers(gt, region)
        ref = _union(gt, numbers, region.names)
        if pred.segments:
            p = _union(pred, region.values, region.names)
        else:
            p = np.isin(pred_labels, sorted(numbers))
        out[region.spec] = (ref, p)
    return out


def _numbers(mask: Mask, region: Region) -> set[int]:
    numbers = set(region.values)
    labels = {s.label.casefold(): s.number for s in mask.segments}
    for name in region.names:
        if name.casefold() not in labels:
            shown = ", ".join(f"{s.label} ({s.number})" for s in mask.segments) or "none"
            raise MaskReadError(f"{mask.path}: no segment named {name!r}; its segments are {shown}")
        numbers.add(labels[name.casefold()])
    return numbers


def _union(mask: Mask, numbers: Any, names: Sequence[str]) -> np.ndarray:
    """The union of the segments named; 0 without a segment 0 is the background: every voxel
    outside all segments (``--include-background``)."""
    wanted = {n.casefold() for n in names}
    out = np.zeros(mask.array.shape, dtype=bool)
    for segment in mask.segments:
        if segment.number in numbers or segment.label.casefold() in wanted:
            out |= segment.array
    if 0 in numbers and all(s.number != 0 for s in mask.segments):
        outside = np.ones(mask.array.shape, dtype=bool)
        for segment in mask.segments:
            outside &= ~segment.array
        out |= outside
    return out


def check_names(gt: Mask, regions: Sequence[Region]) -> None:
    """Name-matched regions need a SEG or RTSTRUCT reference."""
    if not gt.segments and any(r.names for r in regions):
        raise MaskReadError(
            f"{gt.path}: --labels names segments, but this reference is a label map without "
            "segment names; use label values (liver=1)"
        )
