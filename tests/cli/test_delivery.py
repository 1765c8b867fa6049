"""Outputs that cannot be written: found before the first case when the target cannot take a
file; after the scoring (a full disk, a closed standard output) each failure is one line naming
the path, and the other outputs are still written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from dicecli.cli import cli
from dicecli.report import Writer, register_writer, unregister_writer

PNG = os.path.join(ROOT, "examples", "png")


def dicecli(*args, stdout=subprocess.PIPE):
    return subprocess.run(
        [sys.executable, "-m", "dicecli", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_an_output_that_cannot_be_written_stops_the_run_before_any_case(runner, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output's folder should be")
    ok = tmp_path / "ok.csv"
    result = runner.invoke(
        cli, ["score", f"{PNG}/pred", f"{PNG}/gt", "-o", str(ok), "-o", f"{blocker}/r.json"]
    )
    assert result.exit_code == 2, result.output
    assert f"-o {blocker}/r.json: cannot write there" in result.stderr
    assert "Summary" not in result.stdout  # nothing was scored
    assert not ok.exists()


def test_a_journal_that_cannot_be_opened_is_refused_before_any_case(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(
        cli, ["score", f"{PNG}/pred", f"{PNG}/gt", "--journal", f"{blocker}/j.jsonl"]
    )
    assert result.exit_code == 2, result.output
    assert f"--journal {blocker}/j.jsonl: cannot open it" in result.stderr


@pytest.fixture
def failing_writer():
    def write(result, stream):
        raise OSError(28, "No space left on device")

    register_writer(Writer("full", (".full",), write, title="a disk that is full"))
    yield
    unregister_writer("full")


def test_one_failed_output_does_not_prevent_the_others(runner, tmp_path, failing_writer):
    first, last = tmp_path / "a.csv", tmp_path / "z.json"
    result = runner.invoke(
        cli,
        ["score", f"{PNG}/pred", f"{PNG}/gt", "-o", str(first), "-o", str(tmp_path / "x.full"),
         "-o", str(last)],
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert (
        f"error: {tmp_path / 'x.full'}: could not be written (No space left on device); the "
        "other outputs were written"
    ) in result.stderr
    assert first.read_text().startswith("case,label")
    assert json.loads(last.read_text())["complete"] is True
    assert not (tmp_path / "x.full").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dicecli")] == []


def test_a_full_standard_output_still_writes_the_files(tmp_path):
    out = tmp_path / "r.csv"
    with open("/dev/full", "w") as full:
        run = dicecli("score", f"{PNG}/pred", f"{PNG}/gt", "-o", out, stdout=full)
    assert run.returncode == 3
    assert run.stderr.strip().splitlines() == [
        "error: standard output could not be written (No space left on device); the other "
        "outputs were written"
    ]
    assert out.read_text().startswith("case,label")


def test_a_closed_standard_output_is_one_line(tmp_path):
    out = tmp_path / "r.json"
    run = subprocess.run(
        f"{sys.executable} -m dicecli score {PNG}/pred {PNG}/gt -o {out} >&-",
        shell=True,
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    assert "unexpected" not in run.stderr
    assert "standard output could not be written" in run.stderr
    assert json.loads(out.read_text())["complete"] is True
