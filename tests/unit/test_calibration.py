"""Calibration metrics of probability maps against scikit-learn (Brier, log loss, ROC AUC,
average precision) and a bin-by-bin brute force written here (ECE, ACE, MCE)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from conftest import write_nifti

from dicecli.cli import cli
from dicecli.metrics.calibration import calibration_metrics, calibration_stats

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def maps(seed: int, n: int = 5000, ties: bool = False, zero_positives: bool = False):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.15
    p = np.where(rng.random(n) < 0.6, 0.0, rng.random(n))
    p = np.where(y, np.clip(p + 0.35, 0, 1), p)
    if ties:
        p = np.round(p, 1)  # many values exactly on the bin edges
    if zero_positives:
        p[y & (rng.random(n) < 0.2)] = 0.0
    p[:3] = 1.0  # the last bin is closed at 1
    return y, p


def brute_bins(y, p, bins):
    """ECE, ACE, MCE with explicit bin edges [k/N, (k+1)/N) and the last bin [.., 1]."""
    gaps, weights = [], []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        inside = (p >= low) & ((p < high) if k < bins - 1 else (p <= high))
        if inside.any():
            gaps.append(abs(y[inside].mean() - p[inside].mean()))
            weights.append(inside.sum() / p.size)
    return float(np.dot(gaps, weights)), float(np.mean(gaps)), float(np.max(gaps))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("seed", "ties", "zero_positives", "bins"),
    [(0, False, False, 20), (1, True, False, 10), (2, False, True, 15), (3, True, True, 1)],
)
def test_calibration_equals_scikit_learn_and_brute_force(seed, ties, zero_positives, bins, dtype):
    y, p = maps(seed, ties=ties, zero_positives=zero_positives)
    stored = p.astype(dtype)
    if dtype is np.float32:
        stored[y.argmin()] = -0.0  # a negative zero is a zero (float32 maps sort by their bits)
    p = stored.astype(np.float64)  # what the peers see: the stored values, exactly
    got = calibration_metrics(calibration_stats(y, stored, bins))
    assert got["brier"] == pytest.approx(sklearn_metrics.brier_score_loss(y, p), abs=1e-14)
    assert got["nll"] == pytest.approx(sklearn_metrics.log_loss(y, p), abs=1e-12)
    assert got["auroc"] == pytest.approx(sklearn_metrics.roc_auc_score(y, p), abs=1e-14)
    assert got["ap"] == pytest.approx(sklearn_metrics.average_precision_score(y, p), abs=1e-14)
    ece, ace, mce = brute_bins(y, p, bins)
    assert got["ece"] == pytest.approx(ece, abs=1e-14)
    assert got["ace"] == pytest.approx(ace, abs=1e-14)
    assert got["mce"] == pytest.approx(mce, abs=1e-14)


def test_a_structure_absent_or_everywhere_has_no_ranking():
    p = np.linspace(0, 1, 50)
    none = calibration_metrics(calibration_stats(np.zeros(50, bool), p))
    assert math.isnan(none["auroc"])
    assert math.isnan(none["ap"])
    assert none["brier"] == pytest.approx(np.mean(p**2))
    full = calibration_metrics(calibration_stats(np.ones(50, bool), p))
    assert math.isnan(full["auroc"])


def test_a_perfectly_calibrated_map_has_no_calibration_error():
    # in each bin of 10, the share of voxels in the structure is exactly the bin's probability
    p = np.repeat(np.arange(0.05, 1.0, 0.1), 100)
    y = np.concatenate([np.arange(100) < round(100 * v) for v in np.arange(0.05, 1.0, 0.1)])
    got = calibration_metrics(calibration_stats(y, p, 10))
    assert got["ece"] == pytest.approx(0.0, abs=1e-12)
    assert got["mce"] == pytest.approx(0.0, abs=1e-12)


@pytest.fixture
def soft_case(tmp_path):
    rng = np.random.default_rng(3)
    shape = (20, 18, 6)
    ref = np.zeros(shape, np.uint8)
    ref[4:14, 4:12, 1:5] = 1
    ref[0:2, 0:2, 0:2] = 9  # voxels the --ignore-label leaves out
    p = np.clip((ref == 1) * 0.8 + rng.normal(0, 0.15, shape), 0, 1).astype(np.float32)
    p[rng.random(shape) < 0.5] = 0.0
    for side, array in (("pred", p), ("gt", ref)):
        (tmp_path / side).mkdir()
        write_nifti(str(tmp_path / side / "c1.nii.gz"), array, (1.0, 1.0, 2.0))
    return tmp_path, ref, p


def test_the_cli_scores_calibration_of_a_probability_map(runner, soft_case):
    root, ref, p = soft_case
    out, html = root / "r.json", root / "r.html"
    result = runner.invoke(cli, ["score", str(root / "pred"), str(root / "gt"), "--soft",
                                 "--labels", "1", "--ignore-label", "9", "--metrics", "all",
                                 "--calibration-bins", "10", "-o", str(out), "-o", str(html),
                                 "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    row = json.loads(out.read_text())["cases"][0]
    keep = ref != 9
    y, q = ref[keep] == 1, p[keep].astype(np.float64)
    assert row["brier"] == pytest.approx(sklearn_metrics.brier_score_loss(y, q), abs=1e-12)
    assert row["auroc"] == pytest.approx(sklearn_metrics.roc_auc_score(y, q), abs=1e-12)
    assert row["ece"] == pytest.approx(brute_bins(y, q, 10)[0], abs=1e-12)
    assert "hd95" not in row  # "all" with --soft: the metrics that apply to probabilities
    assert 'id="calibration"' in html.read_text()


def test_calibration_metrics_need_soft_probabilities(runner, soft_case):
    root, _, _ = soft_case
    result = runner.invoke(cli, ["score", str(root / "pred"), str(root / "gt"), "--metrics", "ece"])
    assert result.exit_code == 2
    assert "calibration metrics score probability maps; pass --soft" in result.output


def test_calibration_resumes_from_a_journal(runner, soft_case):
    root, _, _ = soft_case
    args = ["score", str(root / "pred"), str(root / "gt"), "--soft", "--metrics", "calibration",
            "--journal", str(root / "j.jsonl"), "--no-progress", "--format", "json"]  # fmt: skip
    first = runner.invoke(cli, args)
    again = runner.invoke(cli, [*args, "--resume"])
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert json.loads(first.stdout)["cases"] == json.loads(again.stdout)["cases"]
    assert os.path.getsize(root / "j.jsonl") > 0
