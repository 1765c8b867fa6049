"""The composite GitHub Action (action.yml) run step by step as a runner would: its inputs
substituted into the steps' environments, the scripts run with bash (no network, no Docker),
the step summary, annotations, outputs and exit code checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

ACTION = os.path.join(ROOT, "action.yml")
NIFTI = os.path.join(ROOT, "examples", "nifti")


def load() -> dict:
    with open(ACTION, encoding="utf-8") as f:
        return yaml.safe_load(f)


def substitute(text: str, inputs: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression == "github.action_path":
            return ROOT
        raise AssertionError(f"unexpected expression {expression}")

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_step(step: dict, given: dict[str, str], tmp_path, path_first: str | None = None):
    action = load()
    inputs = {k: v.get("default", "") for k, v in action["inputs"].items()} | given
    assert "${{" not in step["run"], "inputs must reach the script through env, not be pasted"
    env = {k: substitute(str(v), inputs) for k, v in step.get("env", {}).items()}
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    bin_dir = os.path.dirname(sys.executable)
    path = os.pathsep.join(p for p in (path_first, bin_dir, os.environ["PATH"]) if p)
    full = {**os.environ, **env, "PATH": path, "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output), "GITHUB_ACTIONS": "true"}  # fmt: skip
    assert step["shell"] == "bash"
    done = subprocess.run(["bash", "-e", "-c", step["run"]], env=full, cwd=tmp_path,
                          capture_output=True, text=True)  # fmt: skip
    read = {p: p.read_text() if p.exists() else "" for p in (summary, output)}
    return done, read[summary], read[output]


def step(step_id: str) -> dict:
    return next(s for s in load()["runs"]["steps"] if s.get("id") == step_id)


def test_the_action_is_composite_with_its_documented_inputs():
    action = load()
    assert action["runs"]["using"] == "composite"
    assert {"pred", "gt", "args", "python-version"} <= set(action["inputs"])
    assert action["runs"]["steps"][0]["uses"].startswith("actions/setup-python@")
    assert not any("upload" in s.get("uses", "") for s in action["runs"]["steps"])


def test_install_installs_the_actions_own_checkout_or_the_version_given(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "pip.log"
    (fake / "python").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (fake / "python").chmod(0o755)
    done, _, _ = run_step(step("install"), {"pred": "p", "gt": "g"}, tmp_path, str(fake))
    assert done.returncode == 0, done.stderr
    done, _, _ = run_step(step("install"), {"pred": "p", "gt": "g", "version": "dicecli==0.1.0"},
                          tmp_path, str(fake))  # fmt: skip
    assert done.returncode == 0, done.stderr
    first, second = log.read_text().splitlines()
    assert first.endswith(f"install --disable-pip-version-check {ROOT}")
    assert second.endswith("install --disable-pip-version-check dicecli==0.1.0")


def test_a_passing_gate_writes_the_step_summary_and_exits_0(tmp_path):
    inputs = {"pred": f"{NIFTI}/pred", "gt": f"{NIFTI}/gt",
              "args": "--labels liver=1,spleen=2 --fail-under 0.8 -o results.json"}  # fmt: skip
    done, summary, output = run_step(step("score"), inputs, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "**Gate passed**" in summary
    assert "| liver |" in summary
    assert "exit-code=0" in output
    assert (tmp_path / "results.json").exists()


def test_a_failing_gate_annotates_and_exits_with_dicecli_s_code(tmp_path):
    inputs = {"pred": f"{NIFTI}/pred", "gt": f"{NIFTI}/gt",
              "args": "--labels kidney=3 --fail-under 0.8"}  # fmt: skip
    done, summary, output = run_step(step("score"), inputs, tmp_path)
    assert done.returncode == 1
    assert "::error" in done.stdout
    assert "kidney mean dice 0.661 < 0.800" in done.stdout
    assert "exit-code=1" in output
    assert "**Gate failed**" in summary


def test_several_references_in_gt_are_a_panel_of_raters(tmp_path):
    raters = os.path.join(ROOT, "examples", "raters")
    inputs = {"pred": f"{raters}/model", "gt": f"{raters}/reader_a {raters}/reader_b"}
    done, summary, output = run_step(step("score"), inputs, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "model against 2 raters" in done.stdout
    assert "## Several raters" in summary
    assert "exit-code=0" in output


@pytest.mark.parametrize("attempt", ["$(touch PWNED)", "`touch PWNED`", "; touch PWNED"])
def test_inputs_are_never_run_as_shell(tmp_path, attempt):
    inputs = {"pred": f"{NIFTI}/pred", "gt": f"{NIFTI}/gt", "args": attempt}
    done, _, output = run_step(step("score"), inputs, tmp_path)
    assert not (tmp_path / "PWNED").exists()
    assert done.returncode in (2, 3)  # odd options or paths that are not there: refused
    assert f"exit-code={done.returncode}" in output
