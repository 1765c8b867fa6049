"""Pairing cases by id: folders, files, manifests, DICOM series folders, and the edge cases."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from conftest import write_dicom_series

from dicecli.errors import PairingError, UsageError
from dicecli.pairing import pair_cases, pairs_from_manifest


def touch(folder, *names):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(b"x")
    return str(folder)


def test_folders_pair_by_case_id_with_unmatched_on_both_sides(tmp_path):
    pred = touch(tmp_path / "pred", "a.nii.gz", "b.nii.gz", "extra.nii.gz")
    gt = touch(tmp_path / "gt", "a.nii.gz", "b.nii.gz", "c.nii.gz")
    pairing = pair_cases(pred, gt)
    assert [(p.case, p.pred is not None) for p in pairing.pairs] == [
        ("a", True),
        ("b", True),
        ("c", False),
    ]
    assert [p.case for p in pairing.missing] == ["c"]
    assert pairing.unmatched_predictions == (os.path.join(pred, "extra.nii.gz"),)


def test_formats_may_differ_between_sides_and_nested_suffix_is_kept(tmp_path):
    pred = touch(tmp_path / "pred", "case.seg.nii.gz", "sub-01_dseg.nii.gz")
    gt = touch(tmp_path / "gt", "case.seg.nii.gz", "sub-01.nii.gz")
    pairs = {p.case: p for p in pair_cases(pred, gt).pairs}
    assert set(pairs) == {"case.seg", "sub-01"}  # an unknown inner suffix stays in the id
    assert pairs["sub-01"].pred.endswith("sub-01_dseg.nii.gz")  # BIDS _dseg is one suffix


def test_slicer_seg_nrrd_pairs_with_its_nifti(tmp_path):
    pred = touch(tmp_path / "pred", "case.nii.gz")
    gt = touch(tmp_path / "gt", "case.seg.nrrd")
    (pair,) = pair_cases(pred, gt).pairs
    assert pair.case == "case"


def test_duplicate_case_ids_are_that_cases_conflict(tmp_path):
    pred = touch(tmp_path / "pred", "a.nii.gz", "a.png", "b.png")
    gt = touch(tmp_path / "gt", "a.nii.gz", "b.png")
    pairing = pair_cases(pred, gt)
    assert [p.case for p in pairing.pairs] == ["b"]
    assert list(pairing.conflicts) == ["a"]
    message = pairing.conflicts["a"]
    assert re.search(r"a\.nii\.gz, .*a\.png: several files share the case id 'a'", message)


def test_unknown_and_hidden_files_are_ignored_and_listed(tmp_path):
    pred = touch(tmp_path / "pred", "a.png", "README.txt", ".DS_Store")
    gt = touch(tmp_path / "gt", "a.png")
    pairing = pair_cases(pred, gt)
    assert [p.case for p in pairing.pairs] == ["a"]
    assert pairing.ignored == (os.path.join(pred, "README.txt"),)


def test_pattern_extracts_case_ids(tmp_path):
    pred = touch(tmp_path / "pred", "case_001_pred.nii.gz", "case_002_pred.nii.gz")
    gt = touch(tmp_path / "gt", "case_001_gt.nii.gz", "case_002_gt.nii.gz")
    pairing = pair_cases(pred, gt, pattern=r"case_(?P<case>\d+)_")
    assert [(p.case, os.path.basename(p.pred)) for p in pairing.pairs] == [
        ("001", "case_001_pred.nii.gz"),
        ("002", "case_002_pred.nii.gz"),
    ]


def test_pattern_that_makes_ids_collide_is_ambiguous(tmp_path):
    pred = touch(tmp_path / "pred", "x_1.png", "y_1.png")
    gt = touch(tmp_path / "gt", "z_1.png")
    pairing = pair_cases(pred, gt, pattern=r"_(?P<case>\d)")
    assert pairing.pairs == ()
    assert "share the case id '1'" in pairing.conflicts["1"]


@pytest.mark.parametrize("pattern", ["(unclosed", r"\d+"])
def test_bad_patterns_are_usage_errors(tmp_path, pattern):
    pred = touch(tmp_path / "pred", "a.png")
    with pytest.raises(UsageError, match="--pattern"):
        pair_cases(pred, pred, pattern=pattern)


def test_two_files_are_one_case(tmp_path):
    touch(tmp_path, "p.nii.gz", "g.nii.gz")
    (pair,) = pair_cases(str(tmp_path / "p.nii.gz"), str(tmp_path / "g.nii.gz")).pairs
    assert pair.case == "g"


def test_file_against_a_structure_folder_is_one_case(tmp_path):
    folder = touch(tmp_path / "gt" / "case7", "liver.nii.gz", "spleen.nii.gz", "notes.json")
    touch(tmp_path, "case7.nii.gz")
    (pair,) = pair_cases(str(tmp_path / "case7.nii.gz"), folder).pairs
    assert (pair.case, pair.gt) == ("case7", folder)
    with pytest.raises(PairingError, match="not one of each"):
        pair_cases(str(tmp_path / "case7.nii.gz"), folder, layout="cases")


def test_file_against_a_folder_of_case_folders_is_an_error(tmp_path):
    touch(tmp_path / "gt" / "case7", "liver.nii.gz")
    touch(tmp_path, "case7.nii.gz")
    with pytest.raises(PairingError, match="not one of each"):
        pair_cases(str(tmp_path / "case7.nii.gz"), str(tmp_path / "gt"))


def test_missing_path(tmp_path):
    with pytest.raises(PairingError, match="does not exist"):
        pair_cases(str(tmp_path / "nope"), str(tmp_path))


def test_dicom_series_folders(tmp_path):
    vol = np.zeros((4, 4, 2), np.uint8)
    for side in ("pred", "gt"):
        for case in ("s1", "s2"):
            write_dicom_series(str(tmp_path / side / case), vol)
    pairing = pair_cases(str(tmp_path / "pred"), str(tmp_path / "gt"))
    assert [p.case for p in pairing.pairs] == ["s1", "s2"]
    (single,) = pair_cases(str(tmp_path / "pred" / "s1"), str(tmp_path / "gt" / "s2")).pairs
    assert single.case == "s2"


def test_manifest_resolves_relative_paths(tmp_path):
    (tmp_path / "pairs.csv").write_text("case,pred,gt\nA,p/a.png,g/a.png\nB,,g/b.png\n")
    pairing = pairs_from_manifest(str(tmp_path / "pairs.csv"))
    assert pairing.pairs[0].pred == os.path.join(str(tmp_path), "p/a.png")
    assert [p.case for p in pairing.missing] == ["B"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("id,pred,gt\nA,a,b\n", "columns case,pred,gt", id="bad-columns"),
        pytest.param("case,pred,gt\nA,a,b\nA,c,d\n", "listed twice", id="duplicate"),
        pytest.param("case,pred,gt\nA,a,\n", "needs a case id and a gt", id="no-gt"),
    ],
)
def test_bad_manifests(tmp_path, text, message):
    (tmp_path / "pairs.csv").write_text(text)
    with pytest.raises(PairingError, match=message):
        pairs_from_manifest(str(tmp_path / "pairs.csv"))
