"""--journal and --resume; SIGTERM mid-run: outputs for the cases done, marked incomplete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, write_nifti

from dicecli.api import score_cases
from dicecli.cli import cli
from dicecli.errors import UsageError


@pytest.fixture
def cases(tmp_path):
    rng = np.random.default_rng(11)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    for i in range(6):
        g = ((rng.random((16, 14, 6)) < 0.3) * rng.integers(1, 3)).astype(np.uint8)
        p = np.where(rng.random(g.shape) < 0.8, g, 0).astype(np.uint8)
        write_nifti(str(gt / f"c{i}.nii.gz"), g)
        write_nifti(str(pred / f"c{i}.nii.gz"), p)
    return pred, gt


def journal_cases(path) -> list[str]:
    """The cases of a journal: its lines after the header, but the owner lines."""
    entries = []
    for line in path.read_text().splitlines()[1:]:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written as we read
            continue
    return [e["case"] for e in entries if "case" in e]


def test_interrupted_then_resumed_equals_an_uninterrupted_run(cases, tmp_path):
    pred, gt = cases
    whole = score_cases(pred, gt, jobs=1, metrics="hd95")
    journal = tmp_path / "run.jsonl"
    calls = []
    stopped = score_cases(
        pred,
        gt,
        jobs=1,
        metrics="hd95",
        journal=journal,
        should_stop=lambda: calls.append(1) or len(calls) > 2,
    )
    assert not stopped.complete
    assert (stopped.finished, stopped.total) == (2, 6)
    assert journal_cases(journal) == ["c0", "c1"]
    resumed = score_cases(pred, gt, jobs=1, metrics="hd95", journal=journal, resume=True)
    assert resumed.complete
    assert resumed.resumed == 2
    assert resumed.cases.equals(whole.cases)
    assert resumed.summary.equals(whole.summary)
    assert sorted(journal_cases(journal)) == [f"c{i}" for i in range(6)]  # each case once


def test_resume_refuses_other_options_and_names_the_difference(cases, tmp_path, runner):
    pred, gt = cases
    journal = tmp_path / "j.jsonl"
    first = runner.invoke(cli, ["score", str(pred), str(gt), "--journal", str(journal)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(
        cli,
        ["score", str(pred), str(gt), "--journal", str(journal), "--resume", "--empty", "one"],
    )
    assert again.exit_code == 2
    assert "empty: 'nan' then, 'one' now" in again.stderr
    bare = runner.invoke(cli, ["score", str(pred), str(gt), "--resume"])
    assert bare.exit_code == 2
    assert "--resume needs --journal" in bare.stderr


def test_a_changed_input_or_a_cut_line_is_rescored(cases, tmp_path):
    pred, gt = cases
    journal = tmp_path / "j.jsonl"
    score_cases(pred, gt, jobs=1, journal=journal)
    text = journal.read_text().splitlines()
    journal.write_text("\n".join(text[:-1]) + "\n" + text[-1][: len(text[-1]) // 2])  # c5 cut
    write_nifti(str(pred / "c0.nii.gz"), np.zeros((16, 14, 6), np.uint8))  # c0 changed
    again = score_cases(pred, gt, jobs=1, journal=journal, resume=True)
    assert again.resumed == 4
    assert set(again.cases[again.cases["case"] == "c0"]["tp"]) == {0}


def test_sigterm_mid_run_writes_incomplete_outputs_then_resume_completes(tmp_path):
    """A real process and a real SIGTERM: exit 143, outputs for the cases done, marked
    incomplete; --resume then gives the rows of an uninterrupted run."""
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    rng = np.random.default_rng(5)
    for i in range(30):
        g = np.zeros((72, 72, 48), np.uint8)
        c = rng.integers(20, 50, 3)
        g[c[0] - 15 : c[0] + 15, c[1] - 15 : c[1] + 15, c[2] - 12 : c[2] + 12] = 1
        write_nifti(str(gt / f"c{i:02d}.nii.gz"), g)
        write_nifti(str(pred / f"c{i:02d}.nii.gz"), np.roll(g, 2, axis=0))
    journal, out_json, out_csv = tmp_path / "j.jsonl", tmp_path / "r.json", tmp_path / "r.csv"
    argv = [
        sys.executable,
        "-m",
        "dicecli",
        "score",
        str(pred),
        str(gt),
        "-j",
        "1",
        "--metrics",
        "all",
        "--journal",
        str(journal),
        "-o",
        str(out_json),
        "-o",
        str(out_csv),
    ]
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or len(journal_cases(journal)) < 2):
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in err
    assert f"--journal {journal} --resume" in err
    report = json.loads(out_json.read_text())
    assert report["complete"] is False
    done = sorted({row["case"] for row in report["cases"]})
    assert 2 <= len(done) < 30
    assert sorted(journal_cases(journal)) == done
    assert len(out_csv.read_text().splitlines()) == len(done) + 1
    resumed = subprocess.run([*argv, "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    whole = score_cases(pred, gt, jobs=1, metrics="all")
    final = json.loads(out_json.read_text())
    assert final["complete"] is True
    assert [r["case"] for r in final["cases"]] == list(whole.cases["case"])
    assert [r["hd95"] for r in final["cases"]] == pytest.approx(list(whole.cases["hd95"]))
    assert sorted(journal_cases(journal)) == [f"c{i:02d}" for i in range(30)]


def test_worker_pool_stops_starting_cases(tmp_path, monkeypatch):
    """With worker processes, a stop lets the running cases finish and starts no other."""
    from dicecli import engine

    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    for i in range(40):
        g = np.zeros((64, 64, 32), np.uint8)
        g[10 + i % 7 : 40, 12:50, 4:28] = 1
        write_nifti(str(gt / f"c{i:02d}.nii.gz"), g)
        write_nifti(str(pred / f"c{i:02d}.nii.gz"), np.roll(g, 1, axis=1))
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    finished = []
    stopped = score_cases(
        pred,
        gt,
        jobs=2,
        metrics="all",
        on_case_done=finished.append,
        should_stop=lambda: bool(finished),
    )
    assert not stopped.complete
    assert 1 <= stopped.finished < 20  # the first, and the few already running, finish
    assert len(set(stopped.cases["case"])) == stopped.finished


def test_a_second_run_on_a_held_journal_is_refused_and_the_first_loses_nothing(cases, tmp_path):
    """Two runs on one journal used to interleave it silently; the journal is now locked by the
    run that holds it, and a second run is refused naming the holder."""
    from dicecli.journal import Journal
    from dicecli.models import ScoreOptions

    pred, gt = cases
    journal = tmp_path / "shared.jsonl"
    first = Journal(str(journal), ScoreOptions(jobs=1), resume=False)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "dicecli", "score", str(pred), str(gt), "--journal",
             str(journal), "--resume", "-j", "1"],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert second.returncode == 2, second.stderr
        assert f"--journal {journal} is in use by another dicecli run (pid {os.getpid()}" in (
            second.stderr
        )
        with pytest.raises(UsageError, match="in use by another dicecli run"):
            score_cases(pred, gt, jobs=1, journal=journal)  # not even a new journal truncates it
        assert json.loads(journal.read_text().splitlines()[0])["journal"] == 2
    finally:
        first.close()
    done = score_cases(pred, gt, jobs=1, journal=journal)  # released: a run may take it now
    assert sorted(journal_cases(journal)) == sorted(done.cases["case"].unique())
