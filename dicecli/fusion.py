"""Several raters' references of one case fused into one (``--consensus``), and the voxels they
disagree on (``--dissensus ignore``).

Fusion is per structure: a voxel belongs to a structure of the consensus when more than half of
the raters put it there (``majority``: what SimpleITK's ``LabelVoting`` of the structure's
binary masks gives, ties undecided and left out), every rater did (``all``), any rater did
(``any``), or STAPLE's posterior probability is at least 0.5 (``staple``: the EM of SimpleITK's
``STAPLEImageFilter`` on the structure's binary masks, confidence weight 1, iterated to its
convergence rule; run here on the raters' vote patterns, see ``staple``). SimpleITK is the
oracle of both in tests/unit/test_fusion.py.

Label maps that name nothing are fused value by value into a label map; a voxel that two fused
structures both claim (possible under ``any`` and ``staple`` only) goes to the one more raters
gave it (``staple``: the higher probability), ties to the lower value, and a note counts them.
Raters that name their structures (SEG, RTSTRUCT, 3D Slicer, folders of per-structure masks,
label tables) are fused name by name into segments, which may overlap; a structure a rater does
not name counts as that rater outlining nothing there.

With ``dissensus="ignore"`` the voxels where the raters do not all agree are left out of every
count: all of them for label maps (the raters' labels differ), per structure for named raters;
on the voxels they agree on the consensus is their common answer, whatever the method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dicecli.errors import MaskReadError
from dicecli.models import ConsensusMethod, Mask, Segment, structure_key

#: STAPLE's posterior at or above which a voxel is in the structure.
STAPLE_THRESHOLD = 0.5


@dataclass(frozen=True)
class Fused:
    """The consensus reference on the first rater's grid; ``keep``: None (every voxel counts),
    one boolean array (label maps) or one per segment number (named raters); notes to show."""

    mask: Mask
    keep: Any
    notes: tuple[str, ...]


def fuse(
    raters: Sequence[Mask],
    labels: Sequence[Any],
    method: ConsensusMethod | None,
    ignore_dissent: bool,
    ignore_label: int | None = None,
) -> Fused:
    """Fuse ``raters`` (on one grid; ``labels`` their label maps) under ``method`` (None: their
    agreement only, with ``ignore_dissent``)."""
    named = [m.named for m in raters]
    if any(named) and not all(named):
        a = raters[named.index(True)]
        b = raters[named.index(False)]
        raise MaskReadError(
            f"{b.path}: names no structures but {a.path} does; every rater of a case must name "
            "its structures, or none: give --ref-label-table naming the label map's values"
        )
    if all(named):
        return _fuse_named(raters, labels, method, ignore_dissent)
    return _fuse_label_maps(raters, labels, method, ignore_dissent, ignore_label)


def _description(raters: Sequence[Mask], method: ConsensusMethod | None) -> str:
    what = f"{method} consensus" if method else "agreement"
    return f"{what} of {len(raters)} raters ({', '.join(m.path for m in raters)})"


def _fuse_label_maps(
    raters: Sequence[Mask],
    labels: Sequence[Any],
    method: ConsensusMethod | None,
    ignore_dissent: bool,
    ignore_label: int | None,
) -> Fused:
    k = len(labels)
    dtype = np.result_type(*labels)
    maps = [np.asarray(a).astype(dtype, copy=False) for a in labels]
    # how many raters give each rater's label to the voxel: O(k^2) passes, whatever the labels
    agree = [_votes([b == a for b in maps]) for a in maps]
    notes: list[str] = []
    if method == "staple":
        out, conflicts = _staple_labels(maps, ignore_label)
    elif method == "any":
        out, conflicts = _any_labels(maps, agree)
    elif method == "majority":
        out, conflicts = np.zeros_like(maps[0]), 0
        for a, votes in zip(maps, agree, strict=True):
            # more than half; at most one label holds such a majority
            np.copyto(out, a, where=votes > k // 2)
    else:  # all, and the agreement of --dissensus ignore alone
        out, conflicts = np.zeros_like(maps[0]), 0
        np.copyto(out, maps[0], where=agree[0] == k)
    unanimous = agree[0] == k
    keep = None
    if ignore_dissent:
        keep = unanimous
        np.copyto(out, maps[0], where=unanimous)  # on agreed voxels: the raters' common label
    if ignore_label is not None:
        ignored = np.zeros_like(maps[0], dtype=bool)
        for a in maps:
            ignored |= a == ignore_label
        np.copyto(out, np.asarray(ignore_label, dtype), where=ignored)
    if conflicts:
        notes.append(
            f"{conflicts} voxel(s) of the {method} consensus belonged to two structures; each "
            "went to the one more raters gave it (ties: the lower label value)"
        )
    first = raters[0]
    mask = replace(
        first,
        array=out,
        path=_description(raters, method),
        format="consensus",
        segments=(),
        structures=(),
        warnings=(),
    )
    return Fused(mask, keep, tuple(notes))


def _votes(binaries: Sequence[Any]) -> Any:
    """How many of the boolean arrays hold each voxel (uint8, in their memory order)."""
    out = np.zeros_like(binaries[0], dtype=np.uint8)
    for b in binaries:
        out += b
    return out


def _any_labels(maps: list[Any], agree: list[Any]) -> tuple[Any, int]:
    """The union of each label: a voxel any rater labelled takes the label most raters gave it
    (ties: the lower value)."""
    out = np.zeros_like(maps[0])
    best = np.zeros_like(maps[0], dtype=np.uint8)
    for a, votes in zip(maps, agree, strict=True):
        better = (a != 0) & ((votes > best) | ((votes == best) & ((out == 0) | (a < out))))
        np.copyto(out, a, where=better)
        np.copyto(best, votes, where=better)
    distinct = np.zeros_like(maps[0], dtype=bool)
    for i, a in enumerate(maps):
        for b in maps[i + 1 :]:
            distinct |= (a != 0) & (b != 0) & (a != b)
    return out, int(distinct.sum())


def _values(a: Any) -> set[int]:
    """The values of an integer label map (a histogram for small non-negative ones)."""
    flat = a.ravel(order="K")
    if a.dtype.kind in "ub" and a.dtype.itemsize <= 2:
        return {int(v) for v in np.flatnonzero(np.bincount(flat))}
    return {int(v) for v in np.unique(flat)}


def _staple_labels(maps: list[Any], ignore_label: int | None) -> tuple[Any, int]:
    box = _box([a != 0 for a in maps])
    out = np.zeros_like(maps[0])
    if box is None:
        return out, 0
    crops = [a[box] for a in maps]
    outside = maps[0].size - crops[0].size  # no rater labels anything there
    values = sorted(set().union(*(_values(a) for a in crops)) - {0, ignore_label})
    inner = out[box]
    best = np.zeros_like(crops[0], dtype=np.float64)
    claimed = np.zeros_like(crops[0], dtype=np.uint8)
    for value in values:
        probability, elsewhere = _staple([a == value for a in crops], outside)
        if elsewhere >= STAPLE_THRESHOLD:  # pragma: no cover - needs a rater marking most voxels
            raise MaskReadError(
                f"STAPLE puts every unmarked voxel in structure {value}: its raters mark most "
                "of the image; use --consensus majority"
            )
        inside = probability >= STAPLE_THRESHOLD
        claimed += inside
        better = inside & (probability > best)
        np.copyto(inner, np.asarray(value, out.dtype), where=better)
        np.copyto(best, probability, where=better)
    return out, int((claimed > 1).sum())


def _box(binaries: Sequence[Any]) -> tuple[slice, ...] | None:
    """The smallest box holding every marked voxel of ``binaries``; None when none is."""
    union = np.asarray(binaries[0], dtype=bool)
    for other in binaries[1:]:
        union = union | other  # not logical_or.reduce: that stacks the arrays first
    if not union.any():
        return None
    box = []
    for axis in range(union.ndim):
        other = tuple(a for a in range(union.ndim) if a != axis)
        hit = np.flatnonzero(union.any(axis=other))
        box.append(slice(int(hit[0]), int(hit[-1]) + 1))
    return tuple(box)


#: ``STAPLEImageFilter``'s stopping rule: every rater's sensitivity and specificity moved by
#: less than 1e-7 (squared change at most 1e-14) in an iteration, after the first.
_STAPLE_TOLERANCE = 1.0e-14
_STAPLE_MAX_ITERATIONS = 1_000_000


def staple(binaries: Sequence[Any], confidence_weight: float = 1.0) -> Any:
    """STAPLE's posterior probability of each voxel (Warfield et al., IEEE TMI 2004): the EM
    of SimpleITK's ``STAPLEImageFilter`` -- the first estimate the raters' mean, the prior its
    mean over the image times ``confidence_weight``, then sensitivities, specificities and
    posteriors in turn until none moves by 1e-7 -- computed on the 2^k patterns of the k
    raters' votes, weighted by how many voxels show each, instead of voxel by voxel: every
    quantity of an iteration depends on a voxel only through its pattern, so the voxels outside
    every mark, where no rater votes, are counted, not visited. All zeros when no rater marks a
    voxel, all ones when every rater marks every voxel (nothing to estimate). Equal to
    SimpleITK's to rounding (tests/unit/test_fusion.py)."""
    masks = [np.asarray(b, dtype=bool) for b in binaries]
    box = _box(masks)
    if box is None:
        return np.zeros(masks[0].shape, np.float64)
    inner, outside = _staple([m[box] for m in masks], masks[0].size - masks[0][box].size,
                             confidence_weight)  # fmt: skip
    out = np.full(masks[0].shape, outside)
    out[box] = inner
    return out


def _staple(
    masks: Sequence[Any], outside: int, confidence_weight: float = 1.0
) -> tuple[Any, float]:
    """The posterior of each voxel of ``masks`` (boolean, one shape), and of the ``outside``
    more voxels no rater marks."""
    k = len(masks)
    shape = masks[0].shape
    if not any(m.any() for m in masks):
        return np.zeros(shape, np.float64), 0.0
    if not outside and all(m.all() for m in masks):
        return np.ones(shape, np.float64), 1.0
    if k > 20:
        raise ValueError("STAPLE of more than 20 raters is not supported")
    pattern = np.zeros_like(masks[0], dtype=np.uint32)
    for i, m in enumerate(masks):
        pattern |= m.astype(np.uint32) << np.uint32(i)
    everywhere = np.bincount(pattern.ravel(order="K"), minlength=1 << k)
    everywhere[0] += outside  # nobody votes there
    present = np.flatnonzero(everywhere)  # the vote patterns some voxel shows
    counts = everywhere[present].astype(np.float64)
    votes = ((present[:, None] >> np.arange(k)) & 1).astype(bool)  # patterns x raters
    total = counts.sum()
    w = votes.sum(axis=1) / k  # the first estimate: the raters' mean
    prior = float((counts * w).sum() / total) * confidence_weight
    last_p = last_q = None
    for iteration in range(_STAPLE_MAX_ITERATIONS):
        cw, cnw = counts * w, counts * (1.0 - w)
        p = (cw[:, None] * votes).sum(axis=0) / cw.sum()
        q = (cnw[:, None] * ~votes).sum(axis=0) / cnw.sum()
        alpha = np.where(votes, p, 1.0 - p).prod(axis=1)
        beta = np.where(votes, 1.0 - q, q).prod(axis=1)
        w = prior * alpha / (prior * alpha + (1.0 - prior) * beta)
        if (
            iteration
            and last_p is not None
            and last_q is not None
            and np.all((p - last_p) ** 2 <= _STAPLE_TOLERANCE)
            and np.all((q - last_q) ** 2 <= _STAPLE_TOLERANCE)
        ):
            break
        last_p, last_q = p, q
    table = np.zeros(1 << k, np.float64)
    table[present] = w
    return table[pattern], float(table[0])


def _structures_of(mask: Mask, labels: Any) -> dict[str, tuple[str, tuple[int, ...], Any]]:
    """key -> (name, numbers, boolean array) of every structure a named rater outlines."""
    from dicecli.metrics.surface import member

    out: dict[str, tuple[str, tuple[int, ...], Any]] = {}
    table: list[tuple[str, tuple[int, ...], Any]]
    if mask.segments:
        table = [(s.label, (s.number,), s.array) for s in mask.segments]
    else:
        a = np.asarray(labels)
        table = [
            (s.name, tuple(s.values), member(a, tuple(s.values)))
            for s in mask.structures
            if s.values != (0,)
        ]
    for name, numbers, array in table:
        key = structure_key(name)
        if key in out:
            prior = out[key]
            out[key] = (prior[0], prior[1] + numbers, prior[2] | array)
        else:
            out[key] = (name, numbers, np.asarray(array, dtype=bool))
    return out


def _fuse_named(
    raters: Sequence[Mask],
    labels: Sequence[Any],
    method: ConsensusMethod | None,
    ignore_dissent: bool,
) -> Fused:
    k = len(raters)
    tables = [_structures_of(m, a) for m, a in zip(raters, labels, strict=True)]
    keys = list(dict.fromkeys(key for t in tables for key in t))
    shape = raters[0].array.shape
    empty = np.zeros(shape, bool)
    notes: list[str] = []
    fused: list[tuple[str, tuple[int, ...], Any, Any]] = []
    for key in keys:
        have = [t[key] for t in tables if key in t]
        lacking = [m.path for m, t in zip(raters, tables, strict=True) if key not in t]
        if lacking:
            notes.append(
                f"{have[0][0]}: not named by {', '.join(lacking)}; counted as outlining nothing "
                "there"
            )
        binaries = [t[key][2] if key in t else empty for t in tables]
        votes = _votes(binaries)
        if method == "staple":
            inside = staple(binaries) >= STAPLE_THRESHOLD
        elif method == "any":
            inside = votes >= 1
        elif method == "majority":
            inside = votes > k // 2  # more than half: 2 * votes > k
        else:
            inside = votes == k
        keep = None
        if ignore_dissent:
            keep = (votes == 0) | (votes == k)
            inside = np.where(keep, votes == k, inside)
        numbers = {h[1] for h in have}
        fused.append((have[0][0], next(iter(numbers)) if len(numbers) == 1 else (), inside, keep))
    numbers_used = [n for _, n, _, _ in fused]
    numbered = all(len(n) == 1 for n in numbers_used) and len(set(numbers_used)) == len(fused)
    segments = [
        Segment(n[0] if numbered else i + 1, name, inside)
        for i, (name, n, inside, _) in enumerate(fused)
    ]
    keep_by_number = (
        {s.number: keep for s, (_, _, _, keep) in zip(segments, fused, strict=True)}
        if ignore_dissent
        else None
    )
    from dicecli.io._segments import segments_mask

    first = raters[0]
    mask = segments_mask(
        _description(raters, method), first, segments, dict(first.meta), "consensus"
    )
    mask = replace(
        mask,
        has_geometry=first.has_geometry,
        numbered=numbered and all(m.numbered for m in raters),
        named_by=f"the raters' names ({first.named_by or first.format})",
    )
    return Fused(mask, keep_by_number, tuple(notes))
