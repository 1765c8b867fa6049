"""`dicecli compare` end to end: the example's 15 cases, outputs, the gate's exit codes."""

from __future__ import annotations

import glob
import json
import os

import nibabel as nib
import numpy as np
import pytest
from conftest import ROOT
from scipy.stats import wilcoxon

from dicecli.cli import cli

EXAMPLE = os.path.join(ROOT, "examples", "compare")


def compare(runner, *args):
    return runner.invoke(cli, ["compare", *map(str, args), "--no-progress"])


def brute_dice(folder: str, label: int) -> dict[str, float]:
    """Per-case Dice from the files themselves, by boolean masks: the independent reference."""
    out = {}
    for gt_path in sorted(glob.glob(os.path.join(EXAMPLE, "gt", "*.nii.gz"))):
        name = os.path.basename(gt_path)
        g = np.asarray(nib.load(gt_path).dataobj) == label
        p = np.asarray(nib.load(os.path.join(folder, name)).dataobj) == label
        out[name[: -len(".nii.gz")]] = 2 * np.sum(g & p) / (g.sum() + p.sum())
    return out


def test_example_comparisons_equal_numpy_and_scipy(runner, tmp_path):
    out = tmp_path / "cmp.json"
    result = compare(
        runner,
        f"{EXAMPLE}/gt",
        f"{EXAMPLE}/model_a",
        f"{EXAMPLE}/model_b",
        "-o",
        out,
        "--labels",
        "liver=1,spleen=2",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["kind"] == "compare"
    assert [s["name"] for s in report["sets"]] == ["model_a", "model_b"]
    for label, value in (("liver", 1), ("spleen", 2)):
        a = brute_dice(f"{EXAMPLE}/model_a", value)
        b = brute_dice(f"{EXAMPLE}/model_b", value)
        diff = np.array([b[c] - a[c] for c in sorted(a)])
        row = next(
            r for r in report["comparisons"] if r["label"] == label and r["metric"] == "dice"
        )
        assert row["n"] == 15
        assert row["mean_diff"] == pytest.approx(diff.mean(), abs=1e-9)
        assert row["median_diff"] == pytest.approx(np.median(diff), abs=1e-9)
        assert row["wilcoxon_p"] == pytest.approx(wilcoxon(diff).pvalue, abs=1e-9)
        assert row["ci_low"] <= row["mean_diff"] <= row["ci_high"]
        assert row["wins"] + row["ties"] + row["losses"] == 15
        assert row["wins"] == int(np.sum(diff > 0))
    ps = sorted(r["wilcoxon_p"] for r in report["comparisons"])
    assert min(r["p_holm"] for r in report["comparisons"]) == pytest.approx(
        min(1.0, len(ps) * ps[0])
    )


@pytest.fixture
def sets(case_folders, tmp_path):
    """A reference, an old model, the same model again, and a clearly worse model (8 cases)."""
    rng = np.random.default_rng(4)
    ref = tmp_path / "ref"
    ref.mkdir()
    folders = {name: tmp_path / name for name in ("old", "same", "worse")}
    for folder in folders.values():
        folder.mkdir()
    from conftest import write_nifti

    for i in range(8):
        gt = np.zeros((12, 12, 6), np.uint8)
        gt[2:9, 3:10, 1:5] = 1
        old = gt.copy()
        old[rng.random(gt.shape) < 0.05] = 0
        worse = old.copy()
        worse[2:5] = 0  # a slab missed on every case
        for folder, array in (
            (ref, gt),
            (folders["old"], old),
            (folders["same"], old),
            (folders["worse"], worse),
        ):
            write_nifti(str(folder / f"c{i}.nii.gz"), array)
    return ref, folders


def test_fail_if_worse_fails_a_worse_set_and_passes_an_equal_one(runner, sets, tmp_path):
    ref, folders = sets
    same = compare(runner, ref, folders["old"], folders["same"], "--fail-if-worse", "0.01")
    assert same.exit_code == 0, same.output
    assert "gate passed" in same.stderr
    worse = compare(
        runner,
        ref,
        folders["old"],
        folders["worse"],
        "--fail-if-worse",
        "0.01",
        "--annotations",
        "github",
        "-o",
        tmp_path / "gate.xml",
        "-o",
        tmp_path / "gate.md",
    )
    assert worse.exit_code == 1, worse.output
    failed = [line for line in worse.stderr.splitlines() if line.startswith("gate failed:")]
    assert len(failed) == 1
    assert "worse vs old, 1: mean dice" in failed[0]
    assert "more than the margin 0.01" in failed[0]
    assert "::error title=dicecli compare::worse vs old" in worse.stdout
    from junitparser import JUnitXml

    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "gate.xml"))))
    assert (suite.tests, suite.failures) == (1, 1)
    assert "**failed**" in (tmp_path / "gate.md").read_text()


def test_outputs_csv_html_and_three_sets(runner, sets, tmp_path):
    ref, folders = sets
    result = compare(
        runner,
        ref,
        folders["old"],
        folders["same"],
        folders["worse"],
        "--all-pairs",
        "--names",
        "A,B,C",
        "--format",
        "csv",
        "-o",
        tmp_path / "cmp.html",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    from dicecli.compare import COLUMNS

    assert lines[0] == ",".join(COLUMNS)
    pairs = {tuple(line.split(",")[2:4]) for line in lines[1:]}
    assert pairs == {("A", "B"), ("A", "C"), ("B", "C")}
    assert len(lines) - 1 == 3 * 5  # 3 pairs x the 5 metrics shown by default x 1 label
    html = (tmp_path / "cmp.html").read_text()
    assert html.count("<svg") == 3  # one paired plot per pair and label
    assert "Where B lost most" in html
    assert "data:image/png;base64," in html  # overlays of the cases C lost


def test_a_case_missing_from_one_set_is_left_out_and_is_an_error(runner, sets):
    ref, folders = sets
    os.remove(folders["same"] / "c3.nii.gz")
    result = compare(runner, ref, folders["old"], folders["same"], "--format", "json")
    assert result.exit_code == 3
    assert "error: same: " in result.stderr
    report = json.loads(result.stdout)
    dice = next(r for r in report["comparisons"] if r["metric"] == "dice")
    assert dice["n"] == 7
    assert dice["left_out"] == "1 not scored in same"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--names", "x,x"], "names repeat", id="same-names"),
        pytest.param(["--names", "x"], "gives 1 names for 2", id="too-few-names"),
        pytest.param(["--fail-if-worse", "a=b"], "--fail-if-worse a=b", id="bad-margin"),
    ],
)
def test_usage_errors_exit_2(runner, sets, args, message):
    ref, folders = sets
    result = compare(runner, ref, folders["old"], folders["same"], *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_compare_reads_the_settings_file_that_score_reads(runner, tmp_path, monkeypatch):
    """One dicecli.toml serves both commands: compare takes its options and passes over the
    ones only score has (fail_under); score passes over compare's (alpha)."""
    png = os.path.join(ROOT, "examples", "png")
    (tmp_path / "dicecli.toml").write_text('labels = "2"\nfail_under = 0.5\nalpha = 0.01\n')
    monkeypatch.chdir(tmp_path)
    compared = runner.invoke(
        cli, ["compare", f"{png}/gt", f"{png}/pred", f"{png}/gt", "--format", "json"]
    )
    assert compared.exit_code == 0, compared.output
    report = json.loads(compared.stdout)
    assert {row["label"] for row in report["comparisons"]} == {"2"}
    scored = runner.invoke(cli, ["score", f"{png}/pred", f"{png}/gt", "--format", "csv"])
    assert scored.exit_code == 0, scored.output
    assert "gate passed" in scored.stderr
    (tmp_path / "dicecli.toml").write_text('labelz = "2"\n')
    typo = runner.invoke(cli, ["compare", f"{png}/gt", f"{png}/pred", f"{png}/gt"])
    assert typo.exit_code == 2
    assert "unknown setting 'labelz'" in typo.stderr
