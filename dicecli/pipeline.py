"""One case's masks as every consumer reads them: loaded, named, checked, aligned onto the
reference's grid and turned into label maps; which structure is which (``case_matches``); and
each scored structure's two boolean masks (``region_masks``). The engine counts them
(``engine.py``); the HTML report's overlays draw them (``report/overlay.py``), so a picture
always shows what was scored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.models import (
    CasePair,
    JointHistogram,
    Mask,
    Match,
    ParsedOptions,
    Region,
    ScoreOptions,
    Tally,
)


@dataclass(frozen=True)
class CaseMasks:
    """``gt`` and ``pred`` on one grid; ``ref`` and ``labels`` their label maps on the host
    (``labels`` is None with ``--soft``: the prediction is a probability map). ``keep``: the
    voxels that count under ``--dissensus ignore`` (one boolean array for a label map reference,
    one per segment number for a segmented one), else None."""

    gt: Mask
    pred: Mask
    ref: Any
    labels: Any
    notes: tuple[str, ...]
    keep: Any = None


def load_case(pair: CasePair, options: ScoreOptions, parsed: ParsedOptions) -> CaseMasks:
    """Read both masks (a missing prediction is an empty mask on the reference's grid), name
    label maps by their tables, check what the options need, put the prediction on the
    reference's grid and make label maps (``--binarize``: every non-zero voxel is 1)."""
    from dicecli.geometry import align, check_geometry
    from dicecli.io import load_mask
    from dicecli.values import label_map

    keep = None
    if pair.raters:
        gt, keep, fused_notes = consensus_reference(pair, options, parsed)
    else:
        gt = named(load_mask(pair.gt, parsed.read), options.ref_label_table, pair.gt_table, options)
        fused_notes = ()
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
        pred = named(pred, options.pred_label_table, pair.pred_table, options)
    notes = [*fused_notes, *gt.warnings, *pred.warnings]
    if options.soft and gt.segments:
        raise MaskReadError(
            f"{gt.path}: --soft scores probability maps against label maps; this reference has "
            "overlapping segments -- export it as a label map first"
        )
    pred, aligned, moved = align(pred, gt, options.geometry, options.geometry_tolerance)
    if keep is not None and aligned.array.shape != gt.array.shape:
        raise MaskReadError(
            f"{pred.path}: not on the raters' grid ({gt.path}); --dissensus ignore needs the "
            "prediction on the same grid as the raters"
        )
    gt = aligned
    notes += moved + check_geometry(pred, gt, options.geometry, options.geometry_tolerance)
    ref = label_map(gt, options.threshold)
    labels = None
    if not options.soft:
        labels = pred.array if pred.segments else label_map(pred, options.threshold, True)
    if options.binarize:  # one structure: every non-zero voxel, whatever the names
        ref, labels = _foreground(ref), _foreground(labels)
        gt, pred = _unnamed(gt), _unnamed(pred)
    return CaseMasks(gt, pred, ref, labels, tuple(notes), keep)


def consensus_reference(
    pair: CasePair, options: ScoreOptions, parsed: ParsedOptions
) -> tuple[Mask, Any, tuple[str, ...]]:
    """The raters of a consensus case read, named, put on the first one's grid and fused
    (``fusion.fuse``); written to ``--write-consensus`` when asked. Returns the reference, the
    voxels that count (``--dissensus ignore``) and the notes to show."""
    from dicecli.fusion import fuse
    from dicecli.geometry import align, check_geometry
    from dicecli.io import load_mask
    from dicecli.values import label_map

    tables = pair.rater_tables or (None,) * len(pair.raters)
    raters = [
        named(load_mask(path, parsed.read), options.ref_label_table, table, options)
        for path, table in zip(pair.raters, tables, strict=True)
        if path is not None
    ]
    notes = [w for m in raters for w in m.warnings]
    first = raters[0]
    on_grid = [first]
    for other in raters[1:]:
        other, grid, moved = align(other, first, options.geometry, options.geometry_tolerance)
        if grid.array.shape != first.array.shape:
            raise MaskReadError(
                f"{other.path} and {first.path}: the raters cover different parts of the image; "
                "read both on the image series (--reference-image) or export them whole"
            )
        notes += moved + check_geometry(other, first, options.geometry, options.geometry_tolerance)
        on_grid.append(other)
    if options.binarize:
        on_grid = [
            replace(_unnamed(m), array=_foreground(label_map(m, options.threshold)))
            for m in on_grid
        ]
    labels = [label_map(m, options.threshold) for m in on_grid]
    fused = fuse(
        on_grid, labels, options.consensus, options.dissensus == "ignore", options.ignore_label
    )
    if options.write_consensus:
        from dicecli.io.write import write_consensus

        path = write_consensus(options.write_consensus, pair.panel_case or pair.case, fused.mask)
        fused_mask = replace(fused.mask, path=path)
    else:
        fused_mask = fused.mask
    return fused_mask, fused.keep, (*notes, *fused.notes)


def named(mask: Mask, side_table: str | None, found: str | None, options: ScoreOptions) -> Mask:
    """A label map named by its label table: the side's own (``--ref-label-table``,
    ``--pred-label-table``), else ``--label-table``, else the one found beside the data. A mask
    that names its own structures (SEG, RTSTRUCT, Slicer, a structure folder) keeps its names."""
    from dicecli.io.label_table import read_table

    table = side_table or options.label_table or found
    if mask.named or table is None:
        return mask
    return replace(mask, structures=read_table(table), named_by=table)


def _foreground(labels: Any) -> Any:
    return None if labels is None else (np.asarray(labels) != 0).view(np.uint8)


def _unnamed(mask: Mask) -> Mask:
    return replace(mask, segments=(), structures=(), named_by="")


def check_threshold(case: CaseMasks, tally: Tally, options: ScoreOptions) -> None:
    """``--threshold`` makes the prediction binary; against a reference of several integer
    labels (an instance map) that scores every label but 1 as missed -- say so instead."""
    if options.threshold is None or options.binarize or options.labels or options.soft:
        return
    if case.gt.segments or case.gt.structures:
        return
    extra = sorted(int(v) for v in tally.ref_values if v not in (0, 1, options.ignore_label))
    if extra:
        shown = ", ".join(map(str, extra[:5])) + (" ..." if len(extra) > 5 else "")
        raise MaskReadError(
            f"{case.gt.path}: --threshold makes the prediction binary (value > "
            f"{options.threshold:g} is 1), but this reference holds the labels {shown} as well; "
            "pass --binarize to take every non-zero voxel of both as foreground, or --labels"
        )


def case_matches(
    case: CaseMasks, tally: Tally, options: ScoreOptions, parsed: ParsedOptions
) -> tuple[Match, ...] | None:
    """Which structure is which in this case (``structures.match_case``), from the masks'
    tables and the values the counting pass found; None: scored by label value."""
    from dicecli.structures import Side, match_case

    ignore = {0, options.ignore_label}
    ref_present = frozenset(int(v) for v in tally.ref_values) - ignore
    pred_values = tally.pred_values if isinstance(tally, JointHistogram) else ()
    pred_present = frozenset(int(v) for v in pred_values) - {0}
    if case.gt.segments or case.pred.segments:  # overlapping segments hide in the label map
        ref_present = _present_segments(case.gt, ref_present)
        pred_present = _present_segments(case.pred, pred_present)
    return match_case(
        Side(case.gt, ref_present, "reference"),
        Side(case.pred, pred_present, "prediction"),
        options,
        _regions(options, parsed),
    )


def _present_segments(mask: Mask, present: frozenset[int]) -> frozenset[int]:
    """The numbers of a segmented mask's non-empty segments (its label map shows the lowest
    number where segments overlap); a label map's values as they are."""
    if not mask.segments:
        return present
    return frozenset(s.number for s in mask.segments if s.number != 0 and s.array.any())


def _regions(options: ScoreOptions, parsed: ParsedOptions) -> tuple[Region, ...] | None:
    from dicecli.labels import with_background

    if parsed.regions is None:
        return None
    if options.include_background:
        return with_background(parsed.regions, options.ignore_label)
    return parsed.regions


def as_matches(regions: Sequence[Region]) -> tuple[Match, ...]:
    """Regions scored by label value: the same values on both sides."""
    return tuple(Match(r.key, r.name, r.values, r.values) for r in regions)


def region_masks(
    case: CaseMasks, matches: Sequence[Match], ignore: int | None = None
) -> Iterator[tuple[str, tuple[Any, Any]]]:
    """(key, (reference, prediction)) boolean arrays of each structure, one at a time: a
    segmented side by its segments' own masks, a label map by value; in a label map reference,
    voxels equal to ``ignore`` are left out of both (segments have no such value)."""
    from dicecli.values import label_map

    labels = case.labels
    if labels is None:  # --soft: what a reader sees is the probability above one half
        labels = label_map(case.pred, 0.5, True)
    keep = None
    if ignore is not None and not case.gt.segments:
        keep = np.asarray(case.ref) != ignore
    for match in matches:
        r = side_mask(case.gt, case.ref, match.ref)
        p = side_mask(case.pred, labels, match.pred)
        if keep is not None:
            r, p = r & keep, p & keep
        yield match.key, (r, p)


def side_mask(mask: Mask, labels: Any, numbers: Sequence[int]) -> Any:
    """One side's boolean mask of a structure: the union of its segments of these numbers (0
    without a segment 0: every voxel outside all segments), or its label map's values."""
    from dicecli.metrics.surface import member

    if not mask.segments:
        return member(np.asarray(labels), tuple(numbers))
    wanted = set(numbers)
    out = np.zeros(mask.array.shape, dtype=bool)
    for segment in mask.segments:
        if segment.number in wanted:
            out |= segment.array
    if 0 in wanted and all(s.number != 0 for s in mask.segments):
        outside = np.ones(mask.array.shape, dtype=bool)
        for segment in mask.segments:
            outside &= ~segment.array
        out |= outside
    return out
