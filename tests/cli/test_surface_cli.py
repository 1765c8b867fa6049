"""Surface metrics through the CLI and API: columns, summary, gates, options."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, write_nifti

import dicecli
from dicecli.cli import cli
from dicecli.metrics.surface import surface_metrics, surface_stats

NIFTI = os.path.join(ROOT, "examples", "nifti")
PRED, GT = os.path.join(NIFTI, "pred"), os.path.join(NIFTI, "gt")


def test_metrics_all_adds_surface_columns_that_match_direct_computation(runner):
    result = runner.invoke(
        cli,
        [
            "score",
            PRED,
            GT,
            "--metrics",
            "all",
            "--format",
            "csv",
            "--labels",
            "liver=1,kidney=3",
            "--nsd-tolerance",
            "liver=2,kidney=1",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    from dicecli.metrics import registry

    overlap = registry.names("overlap")
    assert list(frame.columns[3 : 3 + len(overlap)]) == list(overlap)
    assert list(frame.columns[3 + len(overlap) : 3 + len(overlap) + 9]) == [
        "hd", "hd95", "assd", "masd", "nsd", "hd_rp", "hd_pr", "hd95_rp", "hd95_pr",
    ]  # fmt: skip
    row = frame[(frame.case == "patient002") & (frame.label == "kidney")].iloc[0]
    ref = dicecli.load_mask(os.path.join(GT, "patient002.nii.gz"))
    pred = dicecli.load_mask(os.path.join(PRED, "patient002.nii.gz"))
    expected = surface_metrics(
        surface_stats(ref.array == 3, pred.array == 3, ref.spacing, tolerance=1.0)
    )
    for key in ("hd", "hd95", "assd", "masd", "nsd"):
        assert row[key] == pytest.approx(expected[key], rel=1e-12)
    missed = frame[(frame.case == "patient005") & (frame.label == "kidney")].iloc[0]
    assert np.isnan(missed.hd95)  # the prediction is empty: --empty-distance nan
    assert missed.nsd == 0.0


def test_overlap_only_by_default(runner):
    result = runner.invoke(cli, ["score", PRED, GT, "--format", "csv"])
    assert "hd95" not in result.stdout.splitlines()[0]


def test_hd95_gate_must_not_exceed(runner):
    args = [
        "score",
        PRED,
        GT,
        "--labels",
        "liver=1",
        "--metrics",
        "hd95",
        "--format",
        "csv",
        "--gate-metric",
        "hd95",
    ]
    ok = runner.invoke(cli, [*args, "--fail-under", "10"])
    assert ok.exit_code == 0
    assert "liver mean hd95 <= 10" in ok.stderr
    bad = runner.invoke(cli, [*args, "--fail-under", "3"])
    assert bad.exit_code == 1
    assert "gate failed: liver mean hd95" in bad.stderr
    assert "> 3.000" in bad.stderr


def test_gate_on_a_metric_not_computed_is_a_usage_error(runner):
    result = runner.invoke(cli, ["score", PRED, GT, "--gate-metric", "hd95", "--fail-under", "3"])
    assert result.exit_code == 2
    assert "add it to --metrics" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--metrics", "hd99"], "'--metrics': unknown hd99", id="unknown-metric"),
        pytest.param(["--metrics", "hd95", "--soft"], "need binary masks", id="soft"),
        pytest.param(
            ["--metrics", "nsd", "--nsd-tolerance", "liver=x"],
            "--nsd-tolerance",
            id="bad-tolerance",
        ),
        pytest.param(
            ["--metrics", "hd", "--empty-distance", "big"],
            "--empty-distance",
            id="bad-empty-distance",
        ),
    ],
)
def test_bad_surface_options(runner, args, message):
    result = runner.invoke(cli, ["score", PRED, GT, *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_empty_distance_value_and_summary_columns(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    gt = np.zeros((6, 6, 3), np.uint8)
    gt[1:4, 1:4, 1] = 1
    write_nifti(str(tmp_path / "g" / "a.nii.gz"), gt)
    write_nifti(str(tmp_path / "p" / "a.nii.gz"), np.zeros_like(gt))
    result = dicecli.score_cases(
        str(tmp_path / "p"), str(tmp_path / "g"), metrics="hd95,nsd", empty_distance="99", jobs=1
    )
    assert result.cases.hd95.iloc[0] == 99.0
    assert "hd95_median" in result.summary.columns
    assert "hd_median" not in result.summary.columns


def test_worst_fills_undefined_values_in_rows_summary_and_options(runner, tmp_path):
    import json

    out = tmp_path / "r.json"
    args = ["--labels", "kidney=3", "--metrics", "hd95", "--worst", "hd95=374", "-o", str(out)]
    result = runner.invoke(cli, ["score", PRED, GT, *args, "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    missed = next(r for r in report["cases"] if r["case"] == "patient005")
    assert missed["hd95"] == 374.0  # the prediction is empty: undefined, so the worst value
    values = [r["hd95"] for r in report["cases"]]
    assert report["summary"][0]["hd95_mean"] == pytest.approx(np.mean(values))
    assert report["options"]["worst"] == "hd95=374"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("hd95", "write METRIC=VALUE"),
        ("nope=1", "unknown metric 'nope'"),
        ("hd95=x", "not a number"),
    ],
)
def test_bad_worst_values_exit_2(runner, value, message):
    result = runner.invoke(cli, ["score", PRED, GT, "--worst", value])
    assert result.exit_code == 2
    assert message in result.output


def test_worst_n_of_earlier_versions_is_the_html_overlays(runner, tmp_path):
    result = runner.invoke(cli, ["score", PRED, GT, "--worst", "3", "--summary-only",
                                 "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: --worst N is now --overlays N" in result.stderr


def test_beta_one_makes_fbeta_dice_and_avd_is_the_volume_difference(runner):
    result = runner.invoke(cli, ["score", PRED, GT, "--beta", "1", "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert np.allclose(frame["fbeta"], frame["dice"], equal_nan=True)
    assert np.allclose(frame["avd_ml"], frame["volume_diff_ml"].abs(), rtol=1e-12)
    bad = runner.invoke(cli, ["score", PRED, GT, "--beta", "0"])
    assert bad.exit_code == 2
    assert "--beta must be a positive number" in bad.output
