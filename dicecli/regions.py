"""Which regions are scored (``scored_regions``, the one place that decides), and the regions of
DICOM SEG segments and RTSTRUCT ROIs, each scored as its own binary mask.

A region matches segments by number (``--labels liver=1``) or by label, case-insensitively
(``--labels liver=Liver``); without ``--labels`` every segment of the reference is a region. On
the prediction side a label map is compared through the matched segment numbers, a SEG or
RTSTRUCT through its segments of the same numbers or labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.labels import discover_labels, with_background
from dicecli.models import Mask, ParsedOptions, Region, ScoreOptions, Segment


def scored_regions(
    options: ScoreOptions,
    parsed: ParsedOptions,
    *,
    present: Iterable[int] = (),
    segments: Sequence[Segment] = (),
    names: Mapping[int, str] | None = None,
) -> tuple[Region, ...]:
    """The regions a run or a case scores: the ``--labels`` regions (label 0 in front with
    ``--include-background``); else every segment of a SEG/RTSTRUCT reference (its background
    segment 0 only with ``--include-background``); else one region per label value ``present``
    (named by ``names``, the segment labels of the run), never the ``--ignore-label``."""
    if parsed.regions is not None:
        if options.include_background:
            return with_background(parsed.regions, options.ignore_label)
        return parsed.regions
    if segments:
        return tuple(
            Region(s.label, (s.number,))
            for s in segments
            if s.number != 0 or options.include_background
        )
    regions = discover_labels(present, options.include_background, options.ignore_label)
    if names:
        regions = tuple(replace(r, name=names.get(r.values[0], r.name)) for r in regions)
    return regions


def segment_masks(
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
