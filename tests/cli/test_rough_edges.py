"""Behaviours that surprised users: NaN inputs, a single case, nothing scored, progress totals."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import write_nifti

from dicecli.cli import cli


def score(runner, *args):
    return runner.invoke(cli, ["score", *map(str, args), "--no-progress"])


@pytest.fixture
def probability_cases(tmp_path):
    """Three cases of float predictions; case1 holds 3 NaN voxels and one infinite one."""
    rng = np.random.default_rng(7)
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    for i in range(3):
        gt = (rng.random((6, 5, 4)) < 0.4).astype(np.uint8)
        prob = np.clip(gt * 0.8 + rng.random(gt.shape) * 0.3, 0, 1).astype(np.float32)
        if i == 1:
            prob[0, 0, :3] = np.nan
            prob[1, 1, 1] = np.inf
        write_nifti(str(tmp_path / "pred" / f"case{i}.nii.gz"), prob)
        write_nifti(str(tmp_path / "gt" / f"case{i}.nii.gz"), gt)
    return tmp_path / "pred", tmp_path / "gt"


def test_nan_under_threshold_is_that_cases_error_and_the_others_are_kept(runner, probability_cases):
    pred, gt = probability_cases
    result = score(runner, pred, gt, "--threshold", "0.5", "--format", "csv")
    assert result.exit_code == 3
    bad = os.path.join(str(pred), "case1.nii.gz")
    first = result.stderr.splitlines()[0]
    assert first == (
        f"error: {bad}: 3 NaN and 1 infinite voxel value(s) of 120; a mask must hold finite "
        "values (NaN is not background) -- fix the export"
    )
    scored = {line.split(",")[0] for line in result.stdout.splitlines()[1:]}
    assert scored == {"case0", "case2"}


def test_nan_under_soft_says_how_many(runner, probability_cases):
    pred, gt = probability_cases
    result = score(runner, pred, gt, "--soft")
    assert result.exit_code == 3
    assert "3 NaN and 1 infinite voxel value(s)" in result.stderr
    assert "from nan to nan" not in result.stderr


def test_single_case_shows_a_dash_for_the_spread(runner, case_folders):
    gt = np.zeros((4, 4, 2), np.uint8)
    gt[:2] = 1
    pred = gt.copy()
    pred[0, 0, 0] = 0
    pred_dir, gt_dir = case_folders({"only": (pred, gt)})
    result = score(runner, pred_dir, gt_dir, "--summary-only")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith("1 "))
    dice = 2 * 15 / (15 + 16)
    assert f"{dice:.4f} ± –" in row
    assert "nan" not in row


def test_no_case_scored_prints_the_errors_not_empty_tables(runner, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    (tmp_path / "p" / "a.nii.gz").write_bytes(b"not gzip")
    write_nifti(str(tmp_path / "g" / "a.nii.gz"), np.ones((2, 2, 2), np.uint8))
    result = score(runner, tmp_path / "p", tmp_path / "g")
    assert result.exit_code == 3
    assert result.stdout == "No case scored (1 failed).\n"
    assert "Per case" not in result.stdout
    assert "Summary" not in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / 'p' / 'a.nii.gz'}: not a readable NIfTI")
    assert lines[-1] == "error: no case could be scored (1 failed)"


@pytest.mark.parametrize(("missing", "total"), [("skip", 1), ("error", 1), ("zero", 2)])
def test_progress_total_counts_only_the_cases_scored(case_folders, missing, total):
    from dicecli.api import score_cases

    gt = np.ones((2, 2, 2), np.uint8)
    pred_dir, gt_dir = case_folders({"a": (gt, gt), "b": (None, gt)})
    seen = []
    score_cases(pred_dir, gt_dir, missing=missing, jobs=1, on_pairing=lambda p, n: seen.append(n))
    assert seen == [total]
