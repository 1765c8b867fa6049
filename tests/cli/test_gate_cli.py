"""Every gate outcome through the CLI: exit codes, the stderr block, config precedence."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import ROOT, write_nifti

from dicecli.cli import cli

NIFTI = os.path.join(ROOT, "examples", "nifti")
PRED, GT = os.path.join(NIFTI, "pred"), os.path.join(NIFTI, "gt")
LABELS = ["--labels", "liver=1,spleen=2,kidney=3"]
# Example means (README): liver 0.9107, spleen 0.8792, kidney 0.6615; patient005 kidney = 0


def score(runner, *args, **kwargs):
    argv = ["score", PRED, GT, *LABELS, "--format", "csv", *map(str, args)]
    return runner.invoke(cli, argv, **kwargs)


def test_gate_pass_exits_0(runner):
    result = score(runner, "--fail-under", "0.6")
    assert result.exit_code == 0
    assert "gate passed: liver mean dice >= 0.6; spleen mean dice >= 0.6" in result.stderr


def test_fail_by_mean_exits_1_after_writing_outputs(runner, tmp_path):
    out = tmp_path / "r.json"
    result = score(runner, "--fail-under", "0.7", "-o", out)
    assert result.exit_code == 1
    assert "gate failed: kidney mean dice 0.661 < 0.700 (5 cases, 0 empty skipped)" in (
        result.stderr
    )
    assert "liver" not in result.stderr
    assert result.stdout.startswith("case,label,")
    report = json.loads(out.read_text())
    assert report["gate"]["passed"] is False
    assert report["gate"]["failures"][0]["threshold"] == 0.7


def test_fail_by_label(runner):
    result = score(runner, "--fail-under", "liver=0.92")
    assert result.exit_code == 1
    assert "gate failed: liver mean dice 0.911 < 0.920" in result.stderr


def test_fail_by_case(runner):
    result = score(runner, "--fail-case-under", "0.5")
    assert result.exit_code == 1
    assert result.stderr.strip() == "gate failed: case patient005 kidney dice 0.000 < 0.500"


def test_gate_metric(runner):
    # kidney recall mean over cases: (0.8184+0.8246+0.8200+0.8180+0)/5 = 0.656
    result = score(runner, "--gate-metric", "recall", "--fail-under", "kidney=0.66")
    assert result.exit_code == 1
    assert "kidney mean recall 0.656 < 0.660" in result.stderr


def test_fail_by_regression(runner, tmp_path):
    base = tmp_path / "base.json"
    assert score(runner, "-o", base).exit_code == 0
    report = json.loads(base.read_text())
    for row in report["cases"]:
        if row["label"] == "liver":
            row["dice"] = min(1.0, row["dice"] + 0.05)
    base.write_text(json.dumps(report))
    result = runner.invoke(
        cli,
        [
            "score",
            PRED,
            GT,
            *LABELS,
            "--baseline",
            str(base),
            "--max-drop",
            "0.02",
            "--max-case-drop",
            "0.04",
        ],
    )
    assert result.exit_code == 1
    assert "gate failed: liver mean dice dropped 0.050" in result.stderr
    assert "gate failed: case patient001 liver dice dropped 0.050" in result.stderr
    assert "Against the baseline" in result.stdout
    assert "-0.0500" in result.stdout


def test_max_drop_without_baseline_is_usage_error(runner):
    result = score(runner, "--max-drop", "0.1")
    assert result.exit_code == 2
    assert "need --baseline" in result.stderr


def test_baseline_that_is_not_a_report(runner, tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]")
    result = score(runner, "--baseline", bad)
    assert result.exit_code == 3
    assert "not a dicecli JSON report" in result.stderr


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        pytest.param("skip", 0, id="skip"),
        pytest.param("fail", 1, id="fail"),
        pytest.param("pass", 0, id="pass"),
    ],
)
def test_gate_empty_choices(runner, case_folders, policy, code):
    empty = np.zeros((3, 3, 2), np.uint8)
    hit = empty.copy()
    hit[0, 0, 0] = 1
    pred, gt = case_folders({"both_empty": (empty, empty), "hit": (hit, hit)})
    result = runner.invoke(
        cli,
        [
            "score",
            pred,
            gt,
            "--fail-under",
            "0.9",
            "--fail-case-under",
            "0.9",
            "--gate-empty",
            policy,
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == code, result.output
    if policy == "skip":
        assert "1 undefined value(s) (both masks empty) left out" in result.stderr
    if policy == "fail":
        assert "case both_empty 1 dice is undefined" in result.stderr


def test_input_error_takes_precedence_over_failed_gate(runner, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    vol = np.zeros((4, 4, 2), np.uint8)
    vol[:2] = 1
    for name in ("a", "b"):
        write_nifti(str(tmp_path / "g" / f"{name}.nii.gz"), vol)
    write_nifti(str(tmp_path / "p" / "a.nii.gz"), np.zeros_like(vol))
    result = runner.invoke(
        cli, ["score", str(tmp_path / "p"), str(tmp_path / "g"), "--fail-under", "0.5"]
    )
    assert result.exit_code == 3
    assert "gate failed: 1 mean dice 0.000 < 0.500" in result.stderr
    assert "exit 3: input errors take precedence over the failed gate" in result.stderr


def test_github_annotations_and_step_summary(runner, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = runner.invoke(
        cli,
        [
            "score",
            PRED,
            GT,
            *LABELS,
            "--fail-under",
            "kidney=0.7",
            "--annotations",
            "github",
            "--summary-only",
        ],
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.exit_code == 1
    assert "::error title=dicecli gate::kidney mean dice 0.661 < 0.700" in result.stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n## dicecli summary")
    assert "**Gate failed** (1 rule(s)):" in text
    assert "### Per case" not in text


def test_config_file_flag_and_default_precedence(runner, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dicecli]\nlabels = "liver=1,spleen=2,kidney=3"\nfail-under = ["liver=0.95"]\n'
        'format = "json"\n'
    )
    nested = tmp_path / "sub" / "dir"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    from_file = runner.invoke(cli, ["score", PRED, GT])
    assert from_file.exit_code == 1  # liver 0.911 < 0.95 from the file
    report = json.loads(from_file.stdout)
    settings = report["settings"]
    assert settings["labels"]["source"] == f"config file {tmp_path / 'pyproject.toml'}"
    assert settings["empty"] == {"value": "nan", "source": "default"}
    flag = runner.invoke(cli, ["score", PRED, GT, "--fail-under", "liver=0.9"])
    assert flag.exit_code == 0  # the flag's later liver=0.9 wins over the file's 0.95
    assert json.loads(flag.stdout)["settings"]["fail_under"]["value"] == ["liver=0.95", "liver=0.9"]


def test_dicecli_toml_beats_pyproject_in_the_same_folder(runner, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.dicecli]\nfail-under = ["0.99"]\n')
    (tmp_path / "dicecli.toml").write_text('fail-under = ["0.1"]\nformat = "csv"\n')
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli, ["score", PRED, GT]).exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("fail-unde = 0.9\n", "unknown setting 'fail-unde'", id="unknown-key"),
        pytest.param("labels = [\n", "not valid TOML", id="bad-toml"),
    ],
)
def test_bad_config_files_are_usage_errors(runner, tmp_path, text, message):
    config = tmp_path / "custom.toml"
    config.write_text(text)
    result = runner.invoke(cli, ["score", PRED, GT, "--config", str(config)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert str(config) in result.stderr
