"""`--lesions` end to end: columns, the per-lesion table, summaries, gates, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import write_nifti

from dicecli.aggregate import LESION_TABLE_COLUMNS
from dicecli.cli import cli


@pytest.fixture
def folders(tmp_path):
    """Two cases: the issue's reference vector, and a case whose one lesion is found."""
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    ref = np.zeros((40, 40, 40), np.uint8)
    ref[5:15, 5:15, 5:15] = ref[25:29, 5:9, 5:9] = ref[30:33, 30:33, 30:33] = 1
    pred = np.zeros_like(ref)
    pred[6:16, 5:15, 5:15] = pred[5:10, 30:35, 30:35] = 1
    pred[35, 5, 35] = 1
    write_nifti(str(tmp_path / "g" / "a.nii.gz"), ref)
    write_nifti(str(tmp_path / "p" / "a.nii.gz"), pred)
    one = np.zeros((20, 20, 8), np.uint8)
    one[3:9, 3:9, 2:6] = 1
    write_nifti(str(tmp_path / "g" / "b.nii.gz"), one)
    write_nifti(str(tmp_path / "p" / "b.nii.gz"), one)
    return tmp_path / "p", tmp_path / "g"


def score(runner, *args):
    return runner.invoke(cli, ["score", *map(str, args), "--no-progress"])


def test_lesion_columns_table_and_pooled_summary(runner, folders, tmp_path):
    pred, gt = folders
    result = score(
        runner,
        pred,
        gt,
        "--lesions",
        "-o",
        tmp_path / "r.json",
        "--lesion-table",
        tmp_path / "l.csv",
    )
    assert result.exit_code == 0, result.output
    assert "Lesions (summed over cases" in result.stdout
    assert "lesions TP/FP/FN" in result.stdout
    row_a = next(line for line in result.stdout.splitlines() if line.startswith(" a "))
    assert " 1/2/2 " in row_a
    report = json.loads((tmp_path / "r.json").read_text())
    rows = {r["case"]: r for r in report["cases"]}
    assert (rows["a"]["lesion_tp"], rows["a"]["lesion_fp"], rows["a"]["lesion_fn"]) == (1, 2, 2)
    assert rows["b"]["lesion_f1"] == 1.0
    summary = report["summary"][0]
    assert (summary["lesion_tp_total"], summary["lesion_fp_total"]) == (2, 2)
    assert summary["lesion_f1_pooled"] == pytest.approx(2 / (2 + 1 + 1))
    assert summary["lesion_f1_mean"] == pytest.approx((1 / 3 + 1) / 2)
    lines = (tmp_path / "l.csv").read_text().splitlines()
    assert lines[0] == ",".join(LESION_TABLE_COLUMNS)
    assert len(lines) - 1 == 6 + 2  # case a: 3 + 3 lesions; case b: 1 + 1
    assert len(report["lesions"]) == 8
    missed = [r for r in report["lesions"] if r["status"] == "FN"]
    assert sorted(r["voxels"] for r in missed) == [27, 64]


def test_gate_on_lesion_f1(runner, folders):
    pred, gt = folders
    failed = score(
        runner, pred, gt, "--lesions", "--gate-metric", "lesion_f1", "--fail-case-under", "0.5"
    )
    assert failed.exit_code == 1
    assert "gate failed" in failed.stderr
    passed = score(
        runner, pred, gt, "--lesions", "--gate-metric", "lesion_f1", "--fail-under", "0.5"
    )
    assert passed.exit_code == 0, passed.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--lesion-table", "x.csv"], "--lesion-table needs --lesions", id="no-lesions"
        ),
        pytest.param(["--lesions", "--lesion-table", "x.txt"], "a .csv or .json", id="bad-ext"),
        pytest.param(
            ["--lesions", "--lesion-match", "dice"], "'--lesion-match': dice", id="bad-match"
        ),
        pytest.param(
            ["--lesions", "--lesion-min-size", "big"], "'--lesion-min-size': big", id="bad-size"
        ),
        pytest.param(
            ["--gate-metric", "lesion_f1", "--fail-under", "1"], "pass --lesions", id="gate"
        ),
    ],
)
def test_usage_errors(runner, folders, args, message):
    pred, gt = folders
    result = score(runner, pred, gt, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_brats_settings_from_the_command_line(runner, folders):
    pred, gt = folders
    result = score(
        runner,
        pred,
        gt,
        "--lesions",
        "--lesion-match",
        "overlap",
        "--lesion-dilation",
        "3",
        "--lesion-min-size",
        "50 mm3",
        "--metrics",
        "hd95",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    a = next(r for r in json.loads(result.stdout)["cases"] if r["case"] == "a")
    assert a["lesion_dice"] == pytest.approx(0.225, abs=1e-12)
    assert a["lesion_hd95"] == pytest.approx(280.75, abs=1e-9)
    assert a["dice"] == pytest.approx(0.8119, abs=1e-4)


def test_html_report_has_a_lesion_section_with_overlays(runner, folders, tmp_path):
    pred, gt = folders
    out = tmp_path / "study.html"
    result = runner.invoke(
        cli, ["report", str(pred), str(gt), "--lesions", "-o", str(out), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert 'id="lesions"' in html
    section = html[html.index('id="lesions"') : html.index('id="cases"')]
    # case a: two missed reference cubes and two invented lesions, the largest first
    assert section.count("<strong>missed</strong>") == 2
    assert section.count("<strong>invented</strong>") == 2
    assert section.count("data:image/png;base64,") == 4
    assert "125 voxels" in section
