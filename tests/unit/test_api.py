"""The Python API end to end on files in tmp_path, with expected values from brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import brute_counts

import dicecli
from dicecli import engine
from dicecli.errors import GeometryError, NoCasesError, UsageError


@pytest.fixture
def three_cases(case_folders, rng):
    cases = {}
    for i in range(3):
        gt = rng.integers(0, 4, (16, 14, 5)).astype(np.uint8)
        pred = np.where(rng.random(gt.shape) < 0.8, gt, 0).astype(np.uint8)
        cases[f"c{i}"] = (pred, gt)
    pred_dir, gt_dir = case_folders(cases, spacing=(0.5, 0.5, 2.0))
    return cases, pred_dir, gt_dir


def test_score_cases_rows_match_brute_force(three_cases):
    cases, pred_dir, gt_dir = three_cases
    result = dicecli.score_cases(pred_dir, gt_dir, jobs=1)
    assert [r.name for r in result.regions] == ["1", "2", "3"]
    assert len(result.cases) == 9
    for row in result.cases.itertuples():
        pred, gt = cases[row.case]
        tp, fp, fn, tn = brute_counts(gt, pred, (int(row.label),))
        assert (row.tp, row.fp, row.fn, row.tn) == (tp, fp, fn, tn)
        assert row.dice == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert row.ref_volume_ml == pytest.approx((tp + fn) * 0.5 * 0.5 * 2.0 / 1000)
    summary = result.summary.set_index("label")
    dice1 = result.cases[result.cases.label == "1"]["dice"]
    assert summary.loc["1", "dice_mean"] == pytest.approx(dice1.mean())
    assert summary.loc["1", "dice_std"] == pytest.approx(np.std(dice1, ddof=1))
    tp = result.cases[result.cases.label == "1"][["tp", "fp", "fn"]].sum()
    assert summary.loc["1", "pooled_dice"] == pytest.approx(2 * tp.tp / (2 * tp.tp + tp.fp + tp.fn))


def test_parallel_run_equals_sequential(three_cases, monkeypatch):
    _, pred_dir, gt_dir = three_cases
    sequential = dicecli.score_cases(pred_dir, gt_dir, jobs=1)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    parallel = dicecli.score_cases(pred_dir, gt_dir, jobs=2)
    assert parallel.cases.equals(sequential.cases)


def test_named_labels_unions_and_ignore(three_cases):
    cases, pred_dir, gt_dir = three_cases
    result = dicecli.score_cases(pred_dir, gt_dir, labels="a=1,bc=2+3", ignore_label=3, jobs=1)
    row = result.cases[(result.cases.case == "c0") & (result.cases.label == "bc")].iloc[0]
    pred, gt = cases["c0"]
    assert (row.tp, row.fp, row.fn, row.tn) == brute_counts(gt, pred, (2, 3), ignore=3)


def test_bad_case_does_not_lose_the_others(three_cases):
    _, pred_dir, gt_dir = three_cases
    with open(f"{pred_dir}/c1.nii.gz", "wb") as f:
        f.write(b"\x1f\x8b garbage")
    result = dicecli.score_cases(pred_dir, gt_dir, jobs=1)
    assert [e.case for e in result.errors] == ["c1"]
    assert "c1.nii.gz" in result.errors[0].message
    assert sorted(result.cases.case.unique()) == ["c0", "c2"]


def test_missing_policies(case_folders, rng):
    gt = rng.integers(0, 2, (6, 6, 2)).astype(np.uint8)
    pred_dir, gt_dir = case_folders({"a": (gt, gt), "b": (None, gt)})
    errored = dicecli.score_cases(pred_dir, gt_dir, jobs=1)
    assert errored.errors[0].case == "b"
    assert "--missing" in errored.errors[0].message
    zero = dicecli.score_cases(pred_dir, gt_dir, missing="zero", jobs=1)
    b = zero.cases[zero.cases.case == "b"].iloc[0]
    assert (b.dice, b.tp, b.fp, b["empty"]) == (0.0, 0, 0, "prediction")
    skipped = dicecli.score_cases(pred_dir, gt_dir, missing="skip", jobs=1)
    assert skipped.skipped == ("b",)
    assert not skipped.errors


def test_empty_situations_and_policy_in_summary(case_folders):
    gt = np.zeros((4, 4, 2), np.uint8)
    gt_one = gt.copy()
    gt_one[0, 0, 0] = 1
    cases = {"both": (gt, gt), "ref": (gt_one, gt), "pred": (gt, gt_one), "ok": (gt_one, gt_one)}
    pred_dir, gt_dir = case_folders(cases)
    result = dicecli.score_cases(pred_dir, gt_dir, jobs=1)
    s = result.summary.iloc[0]
    assert (s.n, s.dice_n_valid, s.n_both_empty, s.n_ref_empty, s.n_pred_empty) == (4, 3, 1, 1, 1)
    assert math.isnan(result.cases.set_index("case").loc["both", "dice"])
    assert (
        dicecli.score_cases(pred_dir, gt_dir, empty="one", jobs=1).summary.iloc[0].dice_n_valid == 4
    )


def test_geometry_mismatch_is_a_case_error(tmp_path, rng):
    from conftest import write_nifti

    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    vol = rng.integers(0, 2, (5, 5, 3)).astype(np.uint8)
    write_nifti(str(tmp_path / "p" / "x.nii.gz"), vol, (1, 1, 2))
    write_nifti(str(tmp_path / "g" / "x.nii.gz"), vol, (1, 1, 3))
    result = dicecli.score_cases(str(tmp_path / "p"), str(tmp_path / "g"), jobs=1)
    assert result.errors[0].error == "GeometryError"
    with pytest.raises(GeometryError, match="spacing"):
        dicecli.score_pair(str(tmp_path / "p" / "x.nii.gz"), str(tmp_path / "g" / "x.nii.gz"))
    ok = dicecli.score_cases(str(tmp_path / "p"), str(tmp_path / "g"), geometry="warn", jobs=1)
    assert ok.cases.dice.iloc[0] == 1.0
    assert "spacing" in ok.warnings[0]


def test_no_cases_and_usage_errors(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    with pytest.raises(NoCasesError):
        dicecli.score_cases(str(tmp_path / "p"), str(tmp_path / "g"))
    with pytest.raises(UsageError, match="unknown option"):
        dicecli.score_cases(str(tmp_path / "p"), str(tmp_path / "g"), colour="red")
    with pytest.raises(UsageError, match="--soft"):
        dicecli.score_cases(str(tmp_path / "p"), str(tmp_path / "g"), soft=True, threshold=0.5)


def test_soft_dice_through_files(tmp_path):
    from conftest import write_nifti

    y_pred = np.array(
        [
            [0.38574776, 0.08795848, 0.83927506],
            [0.21592768, 0.44453627, 0.10463644],
            [0.8793516, 0.65118235, 0.5184219],
        ],
        np.float32,
    )
    y_true = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 1]], np.uint8)
    p = write_nifti(str(tmp_path / "p.nii.gz"), y_pred[..., None])
    g = write_nifti(str(tmp_path / "g.nii.gz"), y_true[..., None])
    result = dicecli.score_pair(p, g, soft=True, smooth=1.0)
    assert result.cases.dice.iloc[0] == pytest.approx(0.64307916, abs=1e-6)
    hard = dicecli.score_pair(p, g, threshold=0.5)
    assert hard.cases.tp.iloc[0] == 3  # 0.879, 0.651, 0.518 are above 0.5 where y_true is 1


def test_describe_mask(tmp_path):
    from conftest import write_nifti

    vol = np.zeros((4, 5, 2), np.uint8)
    vol[0, 0, 0] = 7
    d = dicecli.describe_mask(write_nifti(str(tmp_path / "a.nii.gz"), vol, (2.0, 2.0, 5.0)))
    assert d["shape"] == (4, 5, 2)
    assert d["labels"][1] == {
        "value": 7,
        "name": "",
        "voxels": 1,
        "volume_ml": pytest.approx(0.02),
        "note": "",
    }
    assert not d["image_like"]
    assert d["orientation"] == "RAS"


def test_typed_options_equal_keyword_options(three_cases):
    from dicecli.models import ScoreOptions

    cases, pred_dir, gt_dir = three_cases
    typed = dicecli.score_cases(
        pred_dir, gt_dir, options=ScoreOptions(labels="a=1,b=2+3", empty="one", jobs=1)
    )
    keywords = dicecli.score_cases(pred_dir, gt_dir, labels="a=1,b=2+3", empty="one", jobs=1)
    assert typed.options == keywords.options
    assert typed.cases.equals(keywords.cases)
    pred, gt = cases["c0"]
    row = typed.cases[(typed.cases.case == "c0") & (typed.cases.label == "b")].iloc[0]
    assert (row.tp, row.fp, row.fn, row.tn) == brute_counts(gt, pred, (2, 3))
    with pytest.raises(UsageError, match="not both"):
        dicecli.score_cases(pred_dir, gt_dir, options=ScoreOptions(), jobs=1)
    with pytest.raises(UsageError, match="--soft scores probabilities"):  # checked as a whole
        dicecli.score_cases(pred_dir, gt_dir, options=ScoreOptions(soft=True, threshold=0.5))
