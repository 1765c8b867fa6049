"""The command lines in examples/ci/*.yml run and exit as the workflows expect."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from dicecli.cli import cli

WORKFLOWS = ["github-actions.yml", "gitlab-ci.yml"]


def commands(name: str) -> list[list[str]]:
    text = Path(ROOT, "examples", "ci", name).read_text(encoding="utf-8")
    lines = re.findall(r"^\s*-?\s*(?:run:\s*)?(dicecli score .*)$", text, re.M)
    assert lines, f"no dicecli command in {name}"
    return [shlex.split(line)[1:] for line in lines]


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_workflow_commands_pass_on_the_examples(workflow, runner, tmp_path, monkeypatch):
    shutil.copytree(os.path.join(ROOT, "examples"), tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "step-summary.md"
    for argv in commands(workflow):
        result = runner.invoke(cli, argv, env={"GITHUB_STEP_SUMMARY": str(summary)})
        assert result.exit_code == 0, result.output
        for i, arg in enumerate(argv):
            if arg == "-o":
                assert (tmp_path / argv[i + 1]).stat().st_size > 0
    assert "**Gate passed**" in summary.read_text()


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_workflow_commands_fail_a_worse_model(workflow, runner, tmp_path, monkeypatch):
    shutil.copytree(os.path.join(ROOT, "examples"), tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for argv in commands(workflow):
        result = runner.invoke(cli, [*argv, "--fail-under", "kidney=0.8"])
        assert result.exit_code == 1


def test_readme_shows_the_workflow_that_is_tested():
    readme = Path(ROOT, "README.md").read_text(encoding="utf-8")
    workflow = Path(ROOT, "examples", "ci", "github-actions.yml").read_text(encoding="utf-8")
    assert "## Using dicecli in CI" in readme
    assert f"```yaml\n{workflow}```" in readme
