"""`dicecli rank` end to end: the example's five submissions against a brute-force ranking,
scoring mode against the masks themselves, every output, and the error paths."""

from __future__ import annotations

import csv
import glob
import json
import os
import re
import shutil

import nibabel as nib
import numpy as np
import pytest
from conftest import ROOT

from dicecli.cli import cli

RANK = os.path.join(ROOT, "examples", "rank")
COMPARE = os.path.join(ROOT, "examples", "compare")
TEAMS = sorted(glob.glob(os.path.join(RANK, "team_*.csv")))


def rank(runner, *args):
    return runner.invoke(cli, ["rank", *map(str, args), "--no-progress"])


def brute_board(label: str) -> dict[str, float]:
    """Mean Dice per team on one structure, a missing case taking the task's lowest Dice."""
    values: dict[str, dict[str, float]] = {}
    for path in TEAMS:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["label"] == label]
        values[os.path.basename(path)[:-4]] = {r["case"]: float(r["dice"]) for r in rows}
    cases = sorted({c for v in values.values() for c in v})
    worst = min(min(v.values()) for v in values.values())
    return {t: float(np.mean([v.get(c, worst) for c in cases])) for t, v in values.items()}


def min_ranks(scores: dict[str, float]) -> dict[str, int]:
    """Ranks, larger better, ties sharing the smallest rank (challengeR's ties.method min)."""
    return {t: 1 + sum(other > s for other in scores.values()) for t, s in scores.items()}


def test_example_leaderboards_equal_a_brute_force_ranking(runner, tmp_path):
    out = tmp_path / "board.json"
    result = rank(runner, *TEAMS, "-o", out)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["kind"] == "rank"
    assert [s["name"] for s in report["submissions"]] == [f"team_{x}" for x in "abcde"]
    per_task = {}
    for label in ("liver", "tumor"):
        expected = brute_board(label)
        rows = [r for r in report["tasks"] if r["label"] == label]
        assert {r["submission"]: r["score"] for r in rows} == pytest.approx(expected, abs=1e-12)
        per_task[label] = min_ranks(expected)
        assert {r["submission"]: r["rank"] for r in rows} == per_task[label]
    mean_rank = {t: (per_task["liver"][t] + per_task["tumor"][t]) / 2 for t in per_task["liver"]}
    consensus = {r["submission"]: r for r in report["consensus"]}
    assert {t: r["score"] for t, r in consensus.items()} == pytest.approx(mean_rank)
    assert {t: r["rank"] for t, r in consensus.items()} == min_ranks(
        {t: -v for t, v in mean_rank.items()}
    )
    assert "team_e has no dice for 3 of the 30 cases of tumor" in result.stderr


def test_bootstrap_is_reproducible_for_a_seed_and_moves_with_it(runner, tmp_path):
    boards = []
    for seed in (5, 5, 6):
        out = tmp_path / f"b{len(boards)}.json"
        assert rank(runner, *TEAMS, "--bootstrap", 200, "--seed", seed, "-o", out).exit_code == 0
        boards.append(json.loads(out.read_text()))
    assert boards[0]["frequencies"] == boards[1]["frequencies"]
    assert boards[0]["kendall"] == boards[1]["kendall"]
    assert boards[0]["frequencies"] != boards[2]["frequencies"]
    for board in boards:
        for label in ("liver", "tumor", "all"):
            shares = [f for f in board["frequencies"] if f["label"] == label]
            for team in {f["submission"] for f in shares}:
                counts = [f["count"] for f in shares if f["submission"] == team]
                assert sum(counts) == 200  # every resample ranks every team once


def test_every_output_is_written_and_reads_back(runner, tmp_path):
    paths = [tmp_path / f"board.{ext}" for ext in ("csv", "json", "md", "html")]
    args = [x for p in paths for x in ("-o", p)]
    result = rank(runner, *TEAMS, "--bootstrap", 100, "--scheme", "test-then-rank", *args)
    assert result.exit_code == 0, result.output
    with open(paths[0], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["label"] for r in rows} == {"liver", "tumor", "all"}
    assert len(rows) == 3 * 5
    assert all(0 <= float(r["first_share"]) <= 1 for r in rows)
    report = json.loads(paths[1].read_text())
    assert report["settings"]["scheme"] == "test-then-rank"
    assert len(report["significance"]) == 2 * 5 * 4  # two tasks, every ordered pair
    markdown = paths[2].read_text()
    assert "### liver: dice, significant wins" in markdown
    html = paths[3].read_text()
    assert html.count("<svg") >= 6  # blob plots, significance maps, heat map
    assert "team_a" in html
    assert re.findall(r'(?:src|href)="(https?:[^"]+)"', html) == []  # offline, one file


def test_ranks_on_hd95_smaller_is_better_and_a_given_worst(runner, tmp_path):
    out = tmp_path / "b.json"
    result = rank(runner, *TEAMS, "--metric", "hd95", "--labels", "tumor", "--worst", "hd95=374",
                  "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["submission"]: r for r in json.loads(out.read_text())["tasks"]}
    with open(os.path.join(RANK, "team_e.csv"), newline="", encoding="utf-8") as f:
        e = [float(r["hd95"]) for r in csv.DictReader(f) if r["label"] == "tumor"]
    assert rows["team_e"]["score"] == pytest.approx((sum(e) + 3 * 374) / 30)
    assert rows["team_e"]["rank"] == 5
    assert rows["team_a"]["rank"] == 1  # smallest mean distance


def test_score_then_rank_equals_the_masks(runner, tmp_path):
    out = tmp_path / "b.json"
    result = rank(runner, f"{COMPARE}/gt", f"{COMPARE}/model_a", f"{COMPARE}/model_b",
                  "--labels", "liver=1,spleen=2", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["tasks"]
    for label, value in (("liver", 1), ("spleen", 2)):
        for model in ("model_a", "model_b"):
            dice = []
            for gt_path in sorted(glob.glob(f"{COMPARE}/gt/*.nii.gz")):
                g = np.asarray(nib.load(gt_path).dataobj) == value
                p = np.asarray(nib.load(gt_path.replace("/gt/", f"/{model}/")).dataobj) == value
                dice.append(2 * np.sum(g & p) / (g.sum() + p.sum()))
            row = next(r for r in rows if r["label"] == label and r["submission"] == model)
            assert row["score"] == pytest.approx(np.mean(dice), abs=1e-12)
            assert row["rank"] == (1 if model == "model_b" else 2)


def test_results_written_by_score_rank_as_scoring_does(runner, tmp_path):
    files = []
    for model in ("model_a", "model_b"):
        files.append(tmp_path / f"{model}.json")
        done = runner.invoke(cli, ["score", f"{COMPARE}/{model}", f"{COMPARE}/gt", "-o",
                                   str(files[-1]), "--no-progress"])  # fmt: skip
        assert done.exit_code == 0, done.output
    from_files = tmp_path / "f.json"
    from_masks = tmp_path / "m.json"
    assert rank(runner, *files, "-o", from_files).exit_code == 0
    assert rank(runner, f"{COMPARE}/gt", f"{COMPARE}/model_a", f"{COMPARE}/model_b", "-o",
                from_masks).exit_code == 0  # fmt: skip
    a, b = (json.loads(p.read_text()) for p in (from_files, from_masks))
    assert a["tasks"] == b["tasks"]
    assert a["consensus"] == b["consensus"]


def test_a_missing_prediction_is_ranked_worst_and_said(runner, tmp_path):
    shutil.copytree(f"{COMPARE}/model_b", tmp_path / "model_b")
    os.remove(tmp_path / "model_b" / "case03.nii.gz")
    out = tmp_path / "b.json"
    result = rank(runner, f"{COMPARE}/gt", f"{COMPARE}/model_a", tmp_path / "model_b",
                  "--labels", "1", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 reference(s) without prediction: case03" in result.stderr
    assert "model_b has no dice for 1 of the 15 cases of label 1" in result.stderr
    rows = {r["submission"]: r for r in json.loads(out.read_text())["tasks"]}
    assert rows["model_b"]["n_cases"] == 15


def test_a_case_that_cannot_be_scored_exits_3_and_the_rest_are_ranked(runner, tmp_path):
    shutil.copytree(f"{COMPARE}/model_b", tmp_path / "model_b")
    (tmp_path / "model_b" / "case05.nii.gz").write_bytes(b"not a nifti file")
    out = tmp_path / "b.json"
    result = rank(runner, f"{COMPARE}/gt", f"{COMPARE}/model_a", tmp_path / "model_b", "-o", out)
    assert result.exit_code == 3, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "case05.nii.gz" in errors[0]
    assert json.loads(out.read_text())["consensus"]  # the leaderboard is still written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{a}"], "at least two submissions"),
        (["{a}", "{b}", "--metric", "nsd"], "--metric nsd: no submission's results have it"),
        (["{a}", "{b}", "--labels", "lung"], "--labels lung: no submission's results have it"),
        (["{a}", "{b}", "--names", "x"], "--names gives 1 names for 2 submissions"),
        (["{a}", "{b}", "--names", "x,x"], "names repeat"),
        (["{a}", "{b}", "--aggregate", "q2"], "write mean, median, min, max or a quantile"),
        (["{a}", "{b}", "--missing", "never"], "write worst, drop or a number"),
        (["{a}", "{b}", "--weights", "dice=-1"], "weights must be zero or more"),
        (["{a}", "{b}", "--weights", "hd95=2"], "not ranked: hd95"),
        (["{a}", "{bad}"], 'not a dicecli score report (no "cases" list)'),
        (["{a}", "{empty}"], "cannot read the results"),
        (["{a}", "{nolabel}"], "the results have no label column"),
        (["{a}", "{b}", "-o", "{tmp}/board.xlsx"], "unknown output extension .xlsx"),
    ],
)
def test_usage_errors_exit_2_with_one_line(runner, tmp_path, args, message):
    (tmp_path / "bad.json").write_text('{"labels": []}')
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "nolabel.csv").write_text("case,dice\nc1,0.5\n")
    paths = {"a": TEAMS[0], "b": TEAMS[1], "bad": tmp_path / "bad.json", "tmp": tmp_path,
             "empty": tmp_path / "empty.csv", "nolabel": tmp_path / "nolabel.csv"}  # fmt: skip
    result = rank(runner, *(a.format(**paths) for a in args))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_too_few_prediction_sets_say_what_to_give(runner):
    result = rank(runner, f"{COMPARE}/gt", f"{COMPARE}/model_a")
    assert result.exit_code == 2
    assert "a reference and at least two prediction sets" in result.output
