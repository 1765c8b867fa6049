"""``dicecli score`` through CliRunner: stdout, stderr and the exit code of every path."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from conftest import brute_counts, write_nifti

from dicecli.cli import cli


@pytest.fixture
def folders(case_folders, rng):
    cases = {}
    for i in range(3):
        gt = rng.integers(0, 3, (12, 10, 4)).astype(np.uint8)
        pred = np.where(rng.random(gt.shape) < 0.85, gt, 0).astype(np.uint8)
        cases[f"case{i}"] = (pred, gt)
    pred_dir, gt_dir = case_folders(cases)
    return cases, pred_dir, gt_dir


def run(runner, *args):
    return runner.invoke(cli, ["score", *map(str, args)])


def test_exit_0_prints_table_and_summary(runner, folders):
    _, pred, gt = folders
    result = run(runner, pred, gt)
    assert result.exit_code == 0, result.output
    assert "Per case" in result.stdout
    assert "Summary (3 cases scored)" in result.stdout
    assert result.stdout.count("case1") == 2  # two labels
    assert result.stderr == ""


def test_csv_to_stdout_matches_brute_force(runner, folders, tmp_path):
    cases, pred, gt = folders
    result = run(runner, pred, gt, "--format", "csv", "--labels", "1")
    assert result.exit_code == 0
    out = tmp_path / "o.csv"
    out.write_text(result.stdout)
    frame = pd.read_csv(out)
    for row in frame.itertuples():
        p, g = cases[row.case]
        assert (row.tp, row.fp, row.fn, row.tn) == brute_counts(g, p, (1,))


def test_outputs_by_extension_are_written_and_replaced(runner, folders, tmp_path):
    _, pred, gt = folders
    out_csv, out_json, out_md = tmp_path / "r.csv", tmp_path / "r.json", tmp_path / "r.md"
    out_csv.write_text("stale content that must disappear\n" * 1000)
    result = run(runner, pred, gt, "-o", out_csv, "-o", out_json, "-o", out_md, "--summary-only")
    assert result.exit_code == 0
    assert "stale" not in out_csv.read_text()
    assert len(pd.read_csv(out_csv)) == 6
    report = json.loads(out_json.read_text())
    assert report["schema_version"] == 1
    assert len(report["cases"]) == 6
    assert report["errors"] == []
    assert report["options"]["empty"] == "nan"
    assert "| label |" in out_md.read_text()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".dicecli-")]


def test_unknown_output_extension_is_usage_error(runner, folders, tmp_path):
    _, pred, gt = folders
    result = run(runner, pred, gt, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    assert "unknown output extension .xlsx" in result.stderr


def test_exit_2_for_click_usage_errors(runner, folders):
    _, pred, gt = folders
    result = run(runner, pred, gt, "--empty", "sometimes")
    assert result.exit_code == 2
    assert "Invalid value for '--empty'" in result.stderr
    bad_labels = run(runner, pred, gt, "--labels", "liver")
    assert bad_labels.exit_code == 2
    assert "Invalid value for '--labels': 'liver' names a segment without a label name" in (
        bad_labels.stderr
    )
    nothing = run(runner)
    assert nothing.exit_code == 2
    assert "give PRED and GT" in nothing.stderr


def test_exit_3_keeps_other_cases_and_writes_errors(runner, folders, tmp_path):
    _, pred, gt = folders
    with open(os.path.join(pred, "case1.nii.gz"), "wb") as f:
        f.write(b"truncated")
    out = tmp_path / "r.json"
    result = run(runner, pred, gt, "-o", out)
    assert result.exit_code == 3
    assert "case1.nii.gz" in result.stderr
    assert "1 case(s) could not be scored; the other 2 were written" in result.stderr
    report = json.loads(out.read_text())
    assert [e["case"] for e in report["errors"]] == ["case1"]
    assert {c["case"] for c in report["cases"]} == {"case0", "case2"}
    assert "case0" in result.stdout
    assert "Traceback" not in result.output


def test_exit_3_for_missing_prediction_and_zero_policy(runner, folders):
    _, pred, gt = folders
    os.remove(os.path.join(pred, "case2.nii.gz"))
    result = run(runner, pred, gt)
    assert result.exit_code == 3
    assert "1 reference(s) without prediction: case2" in result.stderr
    assert "--missing zero" in result.stderr
    zero = run(runner, pred, gt, "--missing", "zero")
    assert zero.exit_code == 0
    skip = run(runner, pred, gt, "--missing", "skip")
    assert skip.exit_code == 0
    assert "case case2: no prediction; skipped" in skip.stderr


def test_exit_3_for_shape_mismatch(runner, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    write_nifti(str(tmp_path / "p" / "a.nii.gz"), np.zeros((4, 4, 3), np.uint8))
    write_nifti(str(tmp_path / "g" / "a.nii.gz"), np.zeros((4, 4, 2), np.uint8))
    result = run(runner, tmp_path / "p", tmp_path / "g")
    assert result.exit_code == 3
    assert "has shape (4, 4, 3) but" in result.stderr
    assert "--geometry resample" in result.stderr  # it said "dicecli never resamples"


def test_duplicate_case_id_is_that_cases_error_and_the_others_are_scored(runner, folders):
    _, pred, gt = folders
    write_nifti(os.path.join(pred, "case0.nii"), np.zeros((2, 2, 2), np.uint8))
    result = run(runner, pred, gt, "--format", "csv")
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ")
    assert "share the case id 'case0'" in first
    assert "case0.nii," in first
    assert "case0.nii.gz" in first
    scored = {line.split(",")[0] for line in result.stdout.splitlines()[1:]}
    assert scored == {"case1", "case2"}
    assert "the other 2 were written" in result.stderr


def test_exit_4_when_gpu_is_requested_but_missing(runner, folders, monkeypatch):
    from dicecli import xp

    monkeypatch.setattr(xp, "CUPY_MODULE", "dicecli_no_such_module")
    _, pred, gt = folders
    result = run(runner, pred, gt, "--device", "gpu")
    assert result.exit_code == 4
    assert 'pip install "dicecli[gpu]"' in result.stderr
    assert result.stdout == ""


def test_exit_5_for_empty_folders(runner, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    result = run(runner, tmp_path / "p", tmp_path / "g")
    assert result.exit_code == 5
    assert "no reference masks found" in result.stderr


def test_exit_5_when_nothing_pairs(runner, folders, tmp_path):
    _, _, gt = folders
    other = tmp_path / "other"
    other.mkdir()
    write_nifti(str(other / "zzz.nii.gz"), np.zeros((2, 2, 2), np.uint8))
    result = run(runner, other, gt)
    assert result.exit_code == 5
    assert "no prediction in" in result.stderr
    assert "zzz.nii.gz: prediction without a reference" in result.stderr


def test_json_to_stdout_has_no_nan(runner, case_folders):
    gt = np.zeros((3, 3, 2), np.uint8)
    one = gt.copy()
    one[1, 1, 1] = 1
    pred, gt_dir = case_folders({"empty": (gt, gt), "hit": (one, one)})
    result = run(runner, pred, gt_dir, "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    empty_row = next(r for r in report["cases"] if r["case"] == "empty")
    assert empty_row["dice"] is None
    assert empty_row["empty"] == "both"
    assert report["summary"][0]["n_both_empty"] == 1


def test_pairs_manifest(runner, folders, tmp_path):
    _, pred, gt = folders
    manifest = tmp_path / "pairs.csv"
    manifest.write_text(f"case,pred,gt\nx,{pred}/case0.nii.gz,{gt}/case0.nii.gz\n")
    result = run(runner, "--pairs", manifest, "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("x,1,1,")


def test_debug_shows_the_traceback_of_unexpected_errors(runner, folders, monkeypatch):
    from dicecli import values

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(values, "label_map", boom)
    _, pred, gt = folders
    plain = run(runner, pred, gt, "--labels", "1")
    assert plain.exit_code == 3
    assert "unexpected RuntimeError: kaboom" in plain.stderr
    assert "Traceback" not in plain.stderr
    debug = run(runner, pred, gt, "--labels", "1", "--debug")
    assert "Traceback" in debug.stderr


def test_a_closed_pipe_ends_quietly():
    """`dicecli score ... | head -1`: the reader goes away; no "unexpected BrokenPipeError"."""
    import subprocess
    import sys

    from conftest import ROOT

    nifti = os.path.join(ROOT, "examples", "nifti")
    argv = [sys.executable, "-m", "dicecli", "score", f"{nifti}/pred", f"{nifti}/gt"]
    proc = subprocess.Popen(
        [*argv, "--format", "csv", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # long before the first row is written (imports alone take longer)
    _, err = proc.communicate(timeout=60)
    assert err.decode() == ""
    assert proc.returncode == 128 + 13


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--labels", "liver=1=2"),
        ("--metrics", "hd97"),
        ("--color-map", "#ff=1"),
        ("--nsd-tolerance", "liver=far"),
        ("--empty-distance", "big"),
        ("--lesion-min-size", "3 cm3"),
        ("--lesion-match", "iou:2"),
        ("--gate-metric", "f9"),
        ("--format", "pdf"),
    ],
)
def test_a_bad_option_value_exits_2_before_any_file_is_read(runner, tmp_path, option, value):
    """The option types check while the command line is parsed: the inputs (which do not
    exist here) are never looked at."""
    missing = str(tmp_path / "no-such-folder")
    result = runner.invoke(cli, ["score", missing, missing, option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert result.stderr.count(option) == 1  # the message does not name the option twice
    assert "no-such-folder" not in result.stderr
