"""Several raters end to end: the panel's rows against single-reference runs, the band against
pairwise runs, Fleiss' kappa and the dissensus counts against brute force on the voxels, the
written consensus against what was scored, the gates, the outputs and the error paths."""

from __future__ import annotations

import csv
import json
import math
import os
import xml.etree.ElementTree as ET

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, write_nifti

import dicecli
from dicecli.api.raters import rater_agreement, score_panel
from dicecli.cli import cli

RATERS = ("r1", "r2", "r3")
COLUMNS = ["case", "label", "dice", "iou", "precision", "recall", "tp", "fp", "fn", "tn"]


def readers(seed: int, shape=(20, 18, 5)) -> dict[str, np.ndarray]:
    """Three raters and a model of one case: an ellipsoid (1) with a smaller one inside (2),
    each with its own rough boundary."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    big = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, (10, 9, 2), (7, 6, 2), strict=True))
    small = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, (8, 8, 2), (3, 2.5, 1.5), strict=True))
    out = {}
    for name in (*RATERS, "pred"):
        labels = np.zeros(shape, np.uint8)
        labels[big < 1 + 0.25 * rng.standard_normal(shape)] = 1
        labels[small < 1 + 0.35 * rng.standard_normal(shape)] = 2
        out[name] = labels
    return out


@pytest.fixture
def panel(tmp_path):
    """tmp/{pred,r1,r2,r3}/caseN.nii.gz for four cases; returns the folders and the arrays."""
    arrays = {}
    for i in range(4):
        for name, labels in readers(i).items():
            os.makedirs(tmp_path / name, exist_ok=True)
            write_nifti(str(tmp_path / name / f"case{i}.nii.gz"), labels, (1.0, 1.0, 2.0))
            arrays[(name, f"case{i}")] = labels
    folders = {name: str(tmp_path / name) for name in (*RATERS, "pred")}
    return folders, arrays


def cli_score(runner, *args):
    return runner.invoke(cli, ["score", *map(str, args), "--no-progress"])


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[COLUMNS].sort_values(["case", "label"]).reset_index(drop=True)


def test_each_raters_rows_equal_a_single_reference_run(panel):
    folders, _ = panel
    result = score_panel(folders["pred"], [folders[r] for r in RATERS], jobs=1)
    for rater in RATERS:
        alone = dicecli.score_cases(folders["pred"], folders[rater], jobs=1)
        mine = result.cases.query("reference == @rater and prediction == 'pred'")
        pd.testing.assert_frame_equal(sorted_rows(mine), sorted_rows(alone.cases))


def test_the_band_equals_pairwise_runs_the_earlier_rater_as_reference(panel):
    folders, _ = panel
    result = score_panel(folders["pred"], [folders[r] for r in RATERS], jobs=1)
    assert set(result.band) == {("r1", "r2"), ("r1", "r3"), ("r2", "r3")}
    for a, b in result.band:
        alone = dicecli.score_cases(folders[b], folders[a], jobs=1)
        rows = result.cases[(result.cases["reference"] == a) & (result.cases["prediction"] == b)]
        pd.testing.assert_frame_equal(sorted_rows(rows), sorted_rows(alone.cases))
    summary = result.summary.set_index("label")
    for label in ("1", "2"):
        pair_means = []
        for a, b in result.band:
            alone = dicecli.score_cases(folders[b], folders[a], jobs=1).cases
            pair_means.append(alone.loc[alone["label"] == label, "dice"].mean())
        assert summary.loc[label, "band_min"] == pytest.approx(min(pair_means))
        assert summary.loc[label, "band_max"] == pytest.approx(max(pair_means))
        assert summary.loc[label, "band_median"] == pytest.approx(np.median(pair_means))


def test_the_model_mean_over_raters_and_its_position(panel):
    folders, _ = panel
    result = score_panel(folders["pred"], [folders[r] for r in RATERS], jobs=1)
    rows = result.cases[result.cases["prediction"] == "pred"]
    for label in ("1", "2"):
        part = rows[rows["label"] == label]
        per_case = part.groupby("case")["dice"].mean()
        got = result.per_case[result.per_case["label"] == label].set_index("case")
        assert got["dice_mean"].to_dict() == pytest.approx(per_case.to_dict())
        assert got["dice_min"].to_dict() == pytest.approx(
            part.groupby("case")["dice"].min().to_dict()
        )
        row = result.summary.set_index("label").loc[label]
        assert row["model_mean"] == pytest.approx(per_case.mean())
        lo, hi = row["band_min"], row["band_max"]
        expected = (
            "below" if row["model_mean"] < lo else "above" if row["model_mean"] > hi else "within"
        )
        assert row["position"] == expected


def brute_fleiss(votes: np.ndarray, k: int) -> float:
    """Fleiss (1971) over N subjects (voxels), categories in/out, from the per-voxel votes."""
    n = votes.size
    counts = np.stack([votes, k - votes], axis=1).astype(float)
    p_i = ((counts**2).sum(axis=1) - k) / (k * (k - 1))
    p_bar = p_i.mean()
    p_j = counts.sum(axis=0) / (n * k)
    p_e = (p_j**2).sum()
    return (p_bar - p_e) / (1 - p_e)


def test_fleiss_kappa_equals_a_vote_table_of_the_voxels(panel):
    folders, arrays = panel
    result = rater_agreement([folders[r] for r in RATERS], jobs=1)
    assert result.model is None
    for row in result.agreement.to_dict(orient="records"):
        value = int(row["label"])
        votes = sum((arrays[(r, row["case"])] == value).astype(int) for r in RATERS).ravel()
        assert row["fleiss_kappa"] == pytest.approx(brute_fleiss(votes, 3), abs=1e-12)
        assert row["n_raters"] == 3


def test_dissensus_ignore_counts_only_the_voxels_the_raters_agree_on(runner, panel, tmp_path):
    folders, arrays = panel
    out = tmp_path / "panel.json"
    result = cli_score(runner, folders["pred"], *(folders[r] for r in RATERS),
                       "--dissensus", "ignore", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["consensus"] == "agreement"
    rows = [r for r in report["cases"] if r["reference"] == "agreement"]
    assert len(rows) == 8
    for row in rows:
        maps = [arrays[(r, row["case"])] for r in RATERS]
        keep = (maps[0] == maps[1]) & (maps[1] == maps[2])
        ref, pred = (
            maps[0][keep] == int(row["label"]),
            arrays[("pred", row["case"])][keep] == int(row["label"]),
        )
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (
            int(np.sum(ref & pred)),
            int(np.sum(~ref & pred)),
            int(np.sum(ref & ~pred)),
            int(np.sum(~ref & ~pred)),
        )


def test_the_written_consensus_is_what_was_scored(runner, panel, tmp_path):
    folders, arrays = panel
    out, written = tmp_path / "panel.json", tmp_path / "consensus"
    args = ["--consensus", "majority", "--write-consensus", written, "-o", out]
    result = cli_score(runner, folders["pred"], *(folders[r] for r in RATERS), *args)
    assert result.exit_code == 0, result.output
    for i in range(4):
        maps = [arrays[(r, f"case{i}")] for r in RATERS]
        majority = np.where((maps[0] == maps[1]) | (maps[0] == maps[2]), maps[0],
                            np.where(maps[1] == maps[2], maps[1], 0))  # fmt: skip
        image = nib.load(str(written / f"case{i}.nii.gz"))
        np.testing.assert_array_equal(np.asarray(image.dataobj), majority)
        np.testing.assert_allclose(image.affine, nib.load(f"{folders['r1']}/case{i}.nii.gz").affine)
    rows = [
        r for r in json.loads(out.read_text())["cases"] if r["reference"] == "majority consensus"
    ]
    again = dicecli.score_cases(folders["pred"], str(written), jobs=1).cases
    pd.testing.assert_frame_equal(sorted_rows(pd.DataFrame(rows)), sorted_rows(again))


def test_fail_below_raters_exits_1_and_names_the_structure(runner, panel, tmp_path):
    folders, arrays = panel
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(4):
        worse = np.roll(arrays[("pred", f"case{i}")], 3, axis=0)
        write_nifti(str(bad / f"case{i}.nii.gz"), worse, (1.0, 1.0, 2.0))
    result = cli_score(runner, bad, *(folders[r] for r in RATERS), "--fail-below-raters")
    assert result.exit_code == 1, result.output
    assert "gate failed: 1 mean dice" in result.output
    assert "worse than every rater pair" in result.output
    good = cli_score(runner, folders["r1"], *(folders[r] for r in RATERS[1:]), folders["r1"],
                     "--rater-names", "b,c,a", "--fail-below-raters")  # fmt: skip
    assert good.exit_code == 0, good.output  # the model is rater a itself: never below


def test_fail_under_gates_the_mean_over_raters(runner, panel):
    folders, _ = panel
    result = score_panel(folders["pred"], [folders[r] for r in RATERS], jobs=1)
    mean = result.summary.set_index("label").loc["2", "model_mean"]
    args = [folders["pred"], *(folders[r] for r in RATERS)]
    assert cli_score(runner, *args, "--fail-under", f"2={mean - 0.01:.4f}").exit_code == 0
    failed = cli_score(runner, *args, "--fail-under", f"2={mean + 0.01:.4f}")
    assert failed.exit_code == 1
    assert f"2 mean dice {mean:.3f} < {mean + 0.01:.3f}" in failed.output


def test_every_output_reads_back(runner, panel, tmp_path):
    folders, _ = panel
    paths = [tmp_path / f"p.{ext}" for ext in ("csv", "json", "md", "html", "xml")]
    args = [x for p in paths for x in ("-o", p)]
    result = cli_score(runner, folders["pred"], *(folders[r] for r in RATERS), "--consensus",
                       "staple", "--fail-below-raters", *args)  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    with open(paths[0], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["reference"], r["prediction"]) for r in rows} == {
        ("r1", "pred"), ("r2", "pred"), ("r3", "pred"), ("staple consensus", "pred"),
        ("r1", "r2"), ("r1", "r3"), ("r2", "r3"),
    }  # fmt: skip
    assert len(rows) == 7 * 4 * 2
    report = json.loads(paths[1].read_text())
    assert report["kind"] == "panel"
    assert [r["name"] for r in report["raters"]] == list(RATERS)
    assert {r["label"] for r in report["summary"]} == {"1", "2"}
    assert "| label | n | dice vs r1 |" in paths[2].read_text()
    html = paths[3].read_text()
    assert html.count("<svg") == 2
    assert "inter-rater band" in html
    suite = ET.parse(paths[4]).getroot().find("testsuite")
    assert suite is not None
    assert int(suite.get("tests")) == 2


def test_a_manifest_with_a_column_per_rater_equals_the_folders(runner, panel, tmp_path):
    folders, _ = panel
    manifest = tmp_path / "pairs.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["case", "pred", "gt_r1", "gt_r2", "gt_r3"])
        for i in range(4):
            out.writerow([f"case{i}", f"pred/case{i}.nii.gz",
                          *(f"{r}/case{i}.nii.gz" for r in RATERS)])  # fmt: skip
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert (
        cli_score(runner, "--pairs", manifest, "--rater-names", "r1,r2,r3", "-o", a).exit_code == 0
    )
    assert cli_score(runner, folders["pred"], *(folders[r] for r in RATERS), "-o", b).exit_code == 0
    first, second = (json.loads(p.read_text()) for p in (a, b))
    assert first["summary"] == second["summary"]


def test_a_rater_lacking_a_case_is_said_and_the_rest_is_scored(runner, panel):
    folders, _ = panel
    os.remove(os.path.join(folders["r3"], "case2.nii.gz"))
    result = score_panel(
        folders["pred"], [folders[r] for r in RATERS], consensus="majority", jobs=1
    )
    assert "rater r3 has no reference for 1 case(s): case2" in result.notes
    per_case = result.per_case.set_index(["case", "label"])
    assert per_case.loc[("case2", "1"), "n_raters"] == 2
    assert per_case.loc[("case1", "1"), "n_raters"] == 3
    kappa = result.agreement.set_index(["case", "label"])
    assert kappa.loc[("case2", "1"), "n_raters"] == 2  # the two raters who read it
    assert not result.errors


def test_a_corrupt_rater_file_is_exit_3_and_the_others_are_written(runner, panel, tmp_path):
    folders, _ = panel
    with open(os.path.join(folders["r2"], "case1.nii.gz"), "wb") as f:
        f.write(b"not a nifti file")
    out = tmp_path / "p.json"
    result = cli_score(runner, folders["pred"], *(folders[r] for r in RATERS), "-o", out)
    assert result.exit_code == 3, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert all("case1" in line for line in errors[:-1])
    assert "comparison(s) could not be scored; the others were written" in errors[-1]
    report = json.loads(out.read_text())
    assert {r["case"] for r in report["cases"] if r["reference"] == "r1"} == {
        f"case{i}" for i in range(4)
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--consensus", "staple"], "need several references"),
        (["--fail-below-raters"], "need several references"),
        (["--dissensus", "ignore"], "need several references"),
    ],
)
def test_panel_options_with_one_reference_are_usage_errors(runner, panel, extra, message):
    folders, _ = panel
    result = cli_score(runner, folders["pred"], folders["r1"], *extra)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--write-consensus", "{tmp}/c"], "--write-consensus needs --consensus"),
        (["--baseline", "{tmp}/b.json"], "--baseline compares one reference's results"),
        (["--dissensus", "ignore", "--metrics", "hd95"], "surface metrics and lesions need whole"),
        (["--rater-names", "a,b"], "--rater-names gives 2 names for 3 raters"),
        (["--lesions", "--lesion-table", "{tmp}/l.csv"], "--lesion-table is written for one"),
    ],
)
def test_panel_usage_errors_exit_2(runner, panel, tmp_path, extra, message):
    folders, _ = panel
    (tmp_path / "b.json").write_text("{}")
    args = [e.format(tmp=tmp_path) for e in extra]
    result = cli_score(runner, folders["pred"], *(folders[r] for r in RATERS), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_agreement_outputs_and_pairs(runner, panel, tmp_path):
    folders, _ = panel
    out = tmp_path / "a.json"
    result = runner.invoke(cli, ["agreement", *(folders[r] for r in RATERS), "-o", str(out),
                                 "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Agreement of 3 raters (r1, r2, r3)" in result.output
    report = json.loads(out.read_text())
    assert report["kind"] == "agreement"
    assert {(r["reference"], r["prediction"]) for r in report["cases"]} == {
        ("r1", "r2"), ("r1", "r3"), ("r2", "r3")
    }  # fmt: skip
    assert all(not math.isnan(r["fleiss_kappa"]) for r in report["summary"])
    one = runner.invoke(cli, ["agreement", folders["r1"], "--no-progress"])
    assert one.exit_code == 2
    assert "at least two raters" in one.output


def test_a_panel_resumes_from_its_journal(runner, panel, tmp_path):
    folders, _ = panel
    journal, a, b = tmp_path / "j.jsonl", tmp_path / "a.json", tmp_path / "b.json"
    args = [folders["pred"], *(folders[r] for r in RATERS), "--consensus", "all",
            "--journal", journal]  # fmt: skip
    assert cli_score(runner, *args, "-o", a).exit_code == 0
    lines = journal.read_text().splitlines()
    assert len(lines) == 2 + 4 * (3 + 1 + 3)  # options, owner, then one line per comparison
    assert cli_score(runner, *args, "--resume", "-o", b).exit_code == 0
    assert json.loads(a.read_text())["cases"] == json.loads(b.read_text())["cases"]


def test_named_raters_are_matched_and_fused_by_name(runner, tmp_path):
    """Raters who deliver one file per structure (as TotalSegmentator does), one with a file
    for a structure the others did not outline."""
    shape = (16, 14, 4)
    base = readers(3, shape)
    for name in (*RATERS, "pred"):
        folder = tmp_path / name / "case0"
        folder.mkdir(parents=True)
        write_nifti(str(folder / "liver.nii.gz"), (base[name] == 1).astype(np.uint8), (1, 1, 2))
        write_nifti(str(folder / "tumour.nii.gz"), (base[name] == 2).astype(np.uint8), (1, 1, 2))
    write_nifti(
        str(tmp_path / "r3" / "case0" / "cyst.nii.gz"), np.zeros(shape, np.uint8), (1, 1, 2)
    )
    out = tmp_path / "p.json"
    result = cli_score(runner, tmp_path / "pred", *(tmp_path / r for r in RATERS), "--consensus",
                       "majority", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    rows = {(r["reference"], r["label"]): r for r in report["cases"]}
    votes = sum((base[r] == 1).astype(int) for r in RATERS)
    ref = votes >= 2
    pred = base["pred"] == 1
    expected = 2 * np.sum(ref & pred) / (ref.sum() + pred.sum())
    assert rows[("majority consensus", "liver")]["dice"] == pytest.approx(expected)


def test_the_example_panel_runs_as_its_readme_says():
    folder = os.path.join(ROOT, "examples", "raters")
    result = score_panel(
        os.path.join(folder, "model"),
        [os.path.join(folder, r) for r in ("reader_a", "reader_b", "reader_c")],
        consensus="staple",
        jobs=1,
    )
    summary = result.summary.set_index("label")
    assert list(summary.index) == ["liver", "tumour"]
    assert summary.loc["tumour", "position"] == "below"


def test_a_missing_prediction_is_one_error_and_the_band_still_holds_the_case(runner, panel):
    folders, _ = panel
    os.remove(os.path.join(folders["pred"], "case3.nii.gz"))
    result = score_panel(folders["pred"], [folders[r] for r in RATERS], consensus="all", jobs=1)
    assert [e.case for e in result.errors] == ["case3"]
    assert "no prediction for case 'case3'" in result.errors[0].message
    band = result.cases[result.cases["prediction"] != "pred"]
    assert "case3" in set(band["case"])
    skipped = score_panel(folders["pred"], [folders[r] for r in RATERS], missing="skip", jobs=1)
    assert not skipped.errors
    assert "case case3: no prediction; skipped (--missing skip)" in skipped.notes


def test_a_panel_on_a_dask_cluster_gives_the_rows_of_the_local_pool(panel, tmp_path):
    pytest.importorskip("distributed")
    import subprocess
    import sys

    folders, _ = panel
    argv = [
        sys.executable,
        "-m",
        "dicecli",
        "score",
        folders["pred"],
        *(folders[r] for r in RATERS),
    ]
    argv += ["--consensus", "majority", "--format", "json", "--no-progress"]
    local = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    dask = subprocess.run(
        [*argv, "--scheduler", "local:2"], cwd=ROOT, capture_output=True, text=True
    )
    assert local.returncode == 0, local.stderr
    assert dask.returncode == 0, dask.stderr
    assert json.loads(dask.stdout)["cases"] == json.loads(local.stdout)["cases"]
