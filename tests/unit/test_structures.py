"""structures.match_case: which structure is which, from the tables alone. Every combination of a
named and an unnamed side either matches by name, by numbers that are exactly the named side's,
or raises -- never a guess."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dicecli.errors import MaskReadError
from dicecli.models import Mask, Match, Region, ScoreOptions, Segment, Structure, structure_key
from dicecli.structures import Side, match_case

SHAPE = (4, 4, 2)


def label_map(path="lm.nii.gz", structures=(), numbered=True) -> Mask:
    eye = tuple(float(i == j) for i in range(3) for j in range(3))
    return Mask(
        np.zeros(SHAPE, np.uint8),
        (1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0),
        eye,
        path,
        "nifti",
        structures=tuple(Structure(n, v) for n, v in structures),
        numbered=numbered,
        named_by="a table" if structures else "",
    )


def seg(names, path="seg.dcm") -> Mask:
    base = label_map(path)
    segments = tuple(Segment(i, n, np.ones(SHAPE, bool)) for i, n in enumerate(names, start=1))
    return Mask(
        base.array, base.spacing, base.origin, base.direction, path, "dicom-seg", segments=segments
    )


def side(mask, present, role="reference") -> Side:
    return Side(mask, frozenset(present), role)


OPTIONS = ScoreOptions()


def test_two_label_maps_that_name_nothing_are_scored_by_value():
    assert (
        match_case(side(label_map(), {1}), side(label_map(), {2}, "prediction"), OPTIONS, None)
        is None
    )


def test_named_sides_match_by_name_whatever_the_numbers():
    gt = side(seg(["Liver", "Kidney_Left"]), {1, 2})
    pred = side(
        label_map(structures=[("kidney left", (7,)), ("liver", (3,))]), {3, 7}, "prediction"
    )
    matches = match_case(gt, pred, OPTIONS, None)
    assert matches == (
        Match("liver", "Liver", (1,), (3,)),
        Match("kidney left", "Kidney_Left", (2,), (7,)),
    )


def test_a_structure_on_one_side_only_is_a_row_that_says_so():
    gt = side(seg(["Liver", "Spleen"]), {1, 2})
    pred = side(label_map(structures=[("liver", (1,)), ("brain", (4,))]), {1}, "prediction")
    matches = {m.key: m for m in match_case(gt, pred, OPTIONS, None)}
    assert matches["spleen"] == Match("spleen", "Spleen", (2,), (), "prediction")
    assert matches["brain"] == Match("brain", "brain", (), (4,), "reference")


def test_no_name_in_common_is_an_error_not_rows_of_zeros():
    gt = side(seg(["Liver"]), {1})
    pred = side(label_map(structures=[("hepar", (1,))]), {1}, "prediction")
    with pytest.raises(MaskReadError, match="name no structure alike"):
        match_case(gt, pred, OPTIONS, None)
    paired = match_case(gt, pred, OPTIONS, (Region("liver", (), ("Liver", "hepar")),))
    assert paired == (Match("liver+hepar", "liver", (1,), (1,)),)


def test_numbers_exactly_the_named_sides_match_by_number_else_an_error():
    gt = side(seg(["Liver", "Spleen", "Aorta"]), {1, 2, 3})
    same = side(label_map("p.nii.gz"), {1, 2, 3}, "prediction")
    assert [m.pred for m in match_case(gt, same, OPTIONS, None)] == [(1,), (2,), (3,)]
    for present in ({1, 5, 52}, {1, 2}, {1, 2, 3, 4}):
        other = side(label_map("p.nii.gz"), present, "prediction")
        with pytest.raises(MaskReadError, match=r"p\.nii\.gz is a label map that names nothing"):
            match_case(gt, other, OPTIONS, None)
    empty = side(label_map("p.nii.gz"), set(), "prediction")  # nothing to guess
    assert [m.pred for m in match_case(gt, empty, OPTIONS, None)] == [(1,), (2,), (3,)]


def test_a_folder_of_per_structure_files_is_never_matched_by_number():
    folder = label_map("s01/", [("liver", (1,)), ("spleen", (2,))], numbered=False)
    with pytest.raises(MaskReadError, match="named by a table, not numbered"):
        match_case(side(folder, {1, 2}), side(label_map(), {1, 2}, "prediction"), OPTIONS, None)
    with pytest.raises(MaskReadError, match="not numbered; write --labels with names"):
        match_case(side(folder, {1, 2}), side(label_map(), {1}), OPTIONS, (Region("1", (1,)),))


def test_duplicate_names_on_one_side_are_an_error_when_matched_by_name():
    gt = side(seg(["Lesion", "lesion"]), {1, 2})
    pred = side(label_map(structures=[("lesion", (1,))]), {1}, "prediction")
    with pytest.raises(MaskReadError, match="two structures are named"):
        match_case(gt, pred, OPTIONS, None)
    # by number (an unnamed label map of exactly those numbers) they keep their numbers
    unnamed = side(label_map(), {1, 2}, "prediction")
    assert [m.name for m in match_case(gt, unnamed, OPTIONS, None)] == ["Lesion (1)", "lesion (2)"]


def test_background_only_with_include_background():
    table = [("background", (0,)), ("liver", (1,))]
    gt = side(label_map(structures=table), {1})
    pred = side(label_map(structures=table), {1}, "prediction")
    assert [m.key for m in match_case(gt, pred, OPTIONS, None)] == ["liver"]
    with_bg = ScoreOptions(include_background=True)
    assert match_case(gt, pred, with_bg, None)[0] == Match("0", "background", (0,), (0,))


def test_a_value_the_table_does_not_name_is_an_error():
    gt = side(label_map(structures=[("liver", (1,))]), {1, 9})
    with pytest.raises(MaskReadError, match="values 9 have no name"):
        match_case(
            gt, side(label_map(structures=[("liver", (1,))]), {1}, "prediction"), OPTIONS, None
        )


def test_a_labels_name_found_nowhere_is_a_typo():
    gt = side(seg(["Liver"]), {1})
    pred = side(label_map(structures=[("liver", (1,))]), {1}, "prediction")
    with pytest.raises(MaskReadError, match="no structure named 'Livr'"):
        match_case(gt, pred, OPTIONS, (Region("liver", (), ("Livr",)),))


NAMED = {
    "seg": lambda: seg(["a", "b", "c"]),
    "table": lambda: label_map("t.nii.gz", [("a", (1,)), ("b", (2,)), ("c", (3,))]),
    "folder": lambda: label_map("f/", [("a", (1,)), ("b", (2,)), ("c", (3,))], numbered=False),
}


@pytest.mark.parametrize(
    ("kind", "present", "named_is_ref"),
    [
        pytest.param(k, p, r, id=f"{k}-{'-'.join(map(str, sorted(p)))}-{'ref' if r else 'pred'}")
        for k, p, r in itertools.product(
            NAMED, [frozenset({1, 2, 3}), frozenset({3, 2}), frozenset({1, 5, 52})], [True, False]
        )
    ],
)
def test_no_named_against_unnamed_pair_is_matched_by_a_guess(kind, present, named_is_ref):
    named = side(NAMED[kind](), {1, 2, 3}, "reference" if named_is_ref else "prediction")
    unnamed = side(label_map("u.nii.gz"), present, "prediction" if named_is_ref else "reference")
    gt, pred = (named, unnamed) if named_is_ref else (unnamed, named)
    allowed = kind != "folder" and present == {1, 2, 3}
    if not allowed:
        with pytest.raises(MaskReadError):
            match_case(gt, pred, OPTIONS, None)
        return
    matches = match_case(gt, pred, OPTIONS, None)
    assert [(m.key, m.ref, m.pred) for m in matches] == [
        (structure_key(n), (v,), (v,)) for n, v in (("a", 1), ("b", 2), ("c", 3))
    ]
