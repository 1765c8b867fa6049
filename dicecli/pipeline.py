"""One case's masks as every consumer reads them: loaded, checked, aligned onto the reference's
grid and turned into label maps. The engine counts them (``engine.py``); the HTML report's
overlays draw them (``report/overlay.py``), so a picture always shows what was scored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.models import CasePair, Mask, ParsedOptions, Region, ScoreOptions


@dataclass(frozen=True)
class CaseMasks:
    """``gt`` and ``pred`` on one grid; ``ref`` and ``labels`` their label maps on the host
    (``labels`` is None with ``--soft``: the prediction is a probability map)."""

    gt: Mask
    pred: Mask
    ref: Any
    labels: Any
    notes: tuple[str, ...]


def load_case(pair: CasePair, options: ScoreOptions, parsed: ParsedOptions) -> CaseMasks:
    """Read both masks (a missing prediction is an empty mask on the reference's grid), check
    what the options need, put the prediction on the reference's grid and make label maps."""
    from dicecli.geometry import align, check_geometry
    from dicecli.io import load_mask
    from dicecli.regions import check_names
    from dicecli.values import label_map

    gt = load_mask(pair.gt, parsed.read)
    if pair.pred is None:
        pred = Mask(
            np.zeros(gt.array.shape, np.uint8),
            gt.spacing,
            gt.origin,
            gt.direction,
            "(missing: scored as empty)",
            gt.format,
            has_geometry=gt.has_geometry,
        )
    else:
        pred = load_mask(pair.pred, parsed.read)
    notes = [*gt.warnings, *pred.warnings]
    if options.soft and gt.segments:
        raise MaskReadError(
            f"{gt.path}: --soft scores probability maps against label maps; a DICOM SEG or "
            "RTSTRUCT reference has overlapping segments -- export it as a label map first"
        )
    if parsed.regions is not None and not gt.segments:
        check_names(gt, parsed.regions)
    pred, gt, moved = align(pred, gt, options.geometry, options.geometry_tolerance)
    notes += moved + check_geometry(pred, gt, options.geometry, options.geometry_tolerance)
    ref = label_map(gt, options.threshold)
    labels = None
    if not options.soft:
        labels = pred.array if pred.segments else label_map(pred, options.threshold, True)
    return CaseMasks(gt, pred, ref, labels, tuple(notes))


def region_masks(
    case: CaseMasks, regions: Sequence[Region], ignore: int | None = None
) -> Iterator[tuple[str, tuple[Any, Any]]]:
    """(spec, (reference, prediction)) boolean arrays of each region, one region at a time:
    segments of a SEG/RTSTRUCT reference by their own masks, label maps by value; in a label map
    reference, voxels equal to ``ignore`` are left out of both (segments have no such value)."""
    from dicecli.metrics.surface import member
    from dicecli.values import label_map

    if case.gt.segments:
        from dicecli.regions import segment_masks

        yield from segment_masks(case.gt, case.pred, case.labels, regions).items()
        return
    labels = case.labels
    if labels is None:  # --soft: what a reader sees is the probability above one half
        labels = label_map(case.pred, 0.5, True)
    keep = None if ignore is None else np.asarray(case.ref) != ignore
    for region in regions:
        r, p = member(case.ref, region.values), member(labels, region.values)
        if keep is not None:
            r, p = r & keep, p & keep
        yield region.spec, (r, p)
