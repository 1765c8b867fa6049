"""Which structure of the prediction is which structure of the reference, in one case.

A structure is what the expert outlined ("liver", "GTVp"), not a number. Two sides that name their
structures (DICOM SEG segment labels, RTSTRUCT ROI names, 3D Slicer segment names, per-structure
file names, a label table) are matched by name, case- and separator-insensitively, whatever their
numbers; two label maps that name nothing, by value. A named side against an unnamed label map is
matched by number only when the label map's values are exactly the numbers of the named side's
non-empty structures (or the label map is empty); anything else is an error that says which
table to give. A structure on one side only is a row that says which side lacks it. Nothing is
matched by a guess.

Everything here works on the masks' tables and the values present (from the counting pass): no
voxel is touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dicecli.errors import MaskReadError
from dicecli.models import Absent, Mask, Match, Region, ScoreOptions, structure_key

#: How many values or structures an error message lists before "...".
_SHOWN = 8


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a case: the mask, the non-zero values (label map) or segment numbers present
    in it, and what to call it in messages."""

    mask: Mask
    present: frozenset[int]
    role: str

    def table(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, values or segment numbers) of every structure this side names."""
        if self.mask.segments:
            return [(s.label, (s.number,)) for s in self.mask.segments]
        return [(s.name, s.values) for s in self.mask.structures]


def match_case(
    gt: Side, pred: Side, options: ScoreOptions, regions: Sequence[Region] | None
) -> tuple[Match, ...] | None:
    """The case's structures, resolved on each side; None when the case is scored by label
    value from its joint histogram (two label maps that name nothing, or ``--labels`` values)."""
    by_value = regions is not None and all(not r.names for r in regions)
    if regions is not None:
        for side in (gt, pred):
            _check_numbers(side, regions)
    if regions is not None and by_value:  # numbers the user gave: values or segment numbers
        if not (gt.mask.segments or pred.mask.segments):
            return None
        return tuple(Match(r.key, r.name, r.values, r.values) for r in regions)
    if options.soft:  # a probability map names nothing: the reference's table names the rows
        if regions is not None:
            matches = (_resolve(r, gt, pred, gt) for r in regions)
            return tuple(Match(m.key, m.name, m.ref, m.ref) for m in matches)
        if not gt.mask.named:
            return None
        return tuple(
            Match(structure_key(n), n, v, v) for n, v in _structures(gt, options) if v != (0,)
        )
    if regions is None and not (gt.mask.named or pred.mask.named):
        return None
    if regions is not None:
        for region in regions:
            _check_named_somewhere(region, gt, pred)
        fallback = _fallback(gt, pred, options) if any(r.names for r in regions) else None
        return tuple(_resolve(r, gt, pred, fallback) for r in regions)
    return _discovered(gt, pred, options, _fallback(gt, pred, options))


def _structures(side: Side, options: ScoreOptions) -> list[tuple[str, tuple[int, ...]]]:
    """The side's structures, background (value or segment 0) only with --include-background;
    the --ignore-label is never a structure."""
    return [
        (name, values)
        for name, values in side.table()
        if (values != (0,) or options.include_background) and values != (options.ignore_label,)
    ]


def _check_numbers(side: Side, regions: Sequence[Region]) -> None:
    """``--labels`` values mean nothing on a side numbered only by its files."""
    numbered = any(r.values and r.values != (0,) for r in regions)  # 0: the background
    if side.mask.named and not side.mask.numbered and numbered:
        example = side.table()[0][0] if side.table() else "liver"
        raise MaskReadError(
            f"{side.mask.path}: its structures are named ({side.mask.named_by}), not numbered; "
            f"write --labels with names, e.g. --labels {structure_key(example).replace(' ', '_')}"
            f"={example}"
        )


def _fallback(gt: Side, pred: Side, options: ScoreOptions) -> Side | None:
    """When one side is an unnamed label map and the other names its structures: the named side,
    whose numbers the label map's values must be exactly (or the label map is empty)."""
    named, unnamed = (gt, pred) if gt.mask.named else (pred, gt)
    if unnamed.mask.named or not named.mask.named:
        _check_covered(gt, options)
        _check_covered(pred, options)
        return None
    _check_covered(named, options)
    if not unnamed.present:
        return named
    numbers = {
        v[0]
        for _, v in _structures(named, options)
        if len(v) == 1 and v[0] in named.present and v[0] != 0
    }
    if named.mask.numbered and set(unnamed.present) == numbers:
        return named
    flag = "--ref-label-table" if unnamed.role == "reference" else "--pred-label-table"
    listed = ", ".join(
        f"{_values_text(v)} {n}" for n, v in _structures(named, options)[:_SHOWN] if v != (0,)
    )
    more = " ..." if len(named.table()) > _SHOWN else ""
    how = (
        f"numbered {_values_text(sorted(numbers))}"
        if named.mask.numbered
        else f"named by {named.mask.named_by}, not numbered"
    )
    raise MaskReadError(
        f"{unnamed.mask.path} is a label map that names nothing (values "
        f"{_values_text(sorted(unnamed.present))}), but {named.mask.path} names its structures "
        f"({listed}{more}; {how}): dicecli does not match them by a guess; pass {flag} FILE "
        "naming the label map's values (nnU-Net dataset.json, BIDS dseg.tsv, ITK-SNAP or "
        "FreeSurfer labels, a JSON object), or --label-table for both sides"
    )


def _check_covered(side: Side, options: ScoreOptions) -> None:
    """Every value present in a label map named by a table has a name."""
    mask = side.mask
    if mask.segments or not mask.structures:
        return
    named = {v for s in mask.structures for v in s.values}
    unnamed = sorted(side.present - named - {0})
    if unnamed:
        raise MaskReadError(
            f"{mask.path}: values {_values_text(unnamed)} have no name in {mask.named_by}; add "
            "them to the label table (or pass --labels to score only some structures)"
        )


def _discovered(
    gt: Side, pred: Side, options: ScoreOptions, fallback: Side | None
) -> tuple[Match, ...]:
    """Every structure of either side, reference first; background first with
    ``--include-background``."""
    if fallback is not None:  # by number: the unnamed side takes the named side's numbers
        entries = _disambiguated(_structures(fallback, options))
        matches = [Match(structure_key(n), n, v, v) for n, v in entries if v != (0,)]
        return tuple(_background(fallback, options) * options.include_background + matches)
    ref = _unique(_structures(gt, options), gt)
    pred_t = _unique(_structures(pred, options), pred)
    common = set(ref) & set(pred_t)
    ref_fg = {k for k, (_, v) in ref.items() if v != (0,)}
    pred_fg = {k for k, (_, v) in pred_t.items() if v != (0,)}
    if ref_fg and pred_fg and not (ref_fg & pred_fg):
        raise MaskReadError(
            f"{pred.mask.path} and {gt.mask.path} name no structure alike (prediction: "
            f"{_names_text(pred_t)}; reference: {_names_text(ref)}); rename them, or pass "
            "--labels NAME=RefName+PredName to pair differently named structures"
        )
    out = _background(gt, options) * options.include_background
    for key in [*ref, *(k for k in pred_t if k not in ref)]:
        r, p = ref.get(key), pred_t.get(key)
        if (r or p or ("", ()))[1] == (0,):
            continue
        absent: Absent = "" if key in common else ("prediction" if r else "reference")
        name = (r or p or ("", ()))[0]
        out.append(Match(key, name, r[1] if r else (), p[1] if p else (), absent))
    return tuple(out)


def _background(side: Side, options: ScoreOptions) -> list[Match]:
    """Label 0: outside every structure on both sides, named by the side's table if it names 0."""
    if options.ignore_label == 0:
        return []
    name = next((n for n, v in side.table() if v == (0,)), "0")
    return [Match("0", name, (0,), (0,))]


def _unique(
    entries: Iterable[tuple[str, tuple[int, ...]]], side: Side
) -> dict[str, tuple[str, tuple[int, ...]]]:
    """key -> (name, values); two structures of one side with one name are an error."""
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, values in entries:
        key = structure_key(name)
        if key in out:
            raise MaskReadError(
                f"{side.mask.path}: two structures are named {out[key][0]!r} (numbers "
                f"{_values_text(out[key][1])} and {_values_text(values)}); rename one, or pass "
                "--labels with numbers"
            )
        out[key] = (name, values)
    return out


def _disambiguated(
    entries: list[tuple[str, tuple[int, ...]]],
) -> list[tuple[str, tuple[int, ...]]]:
    """Names shared by several structures get their numbers: ``Lesion (1)``, ``Lesion (2)``."""
    keys = [structure_key(n) for n, _ in entries]
    return [
        (f"{n} ({_values_text(v)})" if keys.count(structure_key(n)) > 1 else n, v)
        for n, v in entries
    ]


def _resolve(region: Region, gt: Side, pred: Side, fallback: Side | None) -> Match:
    """A ``--labels`` region on each side: its values, plus the structures it names."""
    keys = [structure_key(n) for n in region.names]
    sides: list[tuple[int, ...]] = []
    found: list[bool] = []
    for side in (gt, pred):
        source = side if side.mask.named else fallback
        table = {structure_key(n): v for n, v in source.table()} if source is not None else {}
        hits = [table[k] for k in keys if k in table]
        values = {*region.values, *(v for hit in hits for v in hit)}
        if keys and source is None and not hits:
            raise MaskReadError(
                f"{side.mask.path}: --labels names structures ({', '.join(region.names)}) but "
                "this label map names none; pass --label-table (or --ref-label-table / "
                "--pred-label-table) naming its values, or use values (liver=1)"
            )
        sides.append(tuple(sorted(values)))
        found.append(bool(hits) or not keys)
    absent: Absent = ""
    if not found[0] and not region.values:
        absent = "reference"
    elif not found[1] and not region.values:
        absent = "prediction"
    return Match(region.key, region.name, sides[0], sides[1], absent)


def _check_named_somewhere(region: Region, gt: Side, pred: Side) -> None:
    """A ``--labels`` name that no side of the case names is a typo, not a missing structure."""
    keys = {structure_key(n) for n in region.names}
    if not keys:
        return
    named = [s for s in (gt, pred) if s.mask.named]
    if any(keys & set(_unique_loose(s)) for s in named):
        return
    wanted = " or ".join(map(repr, region.names))
    if not named:
        raise MaskReadError(
            f"--labels names the structure {wanted}, but {gt.mask.path} and {pred.mask.path} are "
            "label maps that name nothing; pass --label-table naming their values, or use "
            "values (liver=1)"
        )
    where = " or ".join(f"{s.mask.path} ({_names_text(_unique_loose(s))})" for s in named)
    raise MaskReadError(f"no structure named {wanted} in {where}; check the spelling in --labels")


def _unique_loose(side: Side) -> dict[str, tuple[str, tuple[int, ...]]]:
    return {structure_key(n): (n, v) for n, v in side.table()}


def _names_text(table: dict[str, tuple[str, tuple[int, ...]]]) -> str:
    names = [n for n, _ in table.values()]
    if not names:
        return "no names"
    return ", ".join(names[:_SHOWN]) + (
        f" ... ({len(names)} in all)" if len(names) > _SHOWN else ""
    )


def _values_text(values: Iterable[int]) -> str:
    """``1-3, 5, 52`` (runs shortened), at most a few items."""
    ordered = sorted(set(values))
    runs: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        runs.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    if not runs:
        return "none"
    return ", ".join(runs[:_SHOWN]) + (" ..." if len(runs) > _SHOWN else "")
