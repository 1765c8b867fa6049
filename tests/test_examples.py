"""Each example's README shows a command and its output: run it and compare, line by line."""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from dicecli.cli import cli

EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*", "README.md")))
READMES = [os.path.join(ROOT, "README.md"), *EXAMPLES]


def blocks(readme: str) -> list[tuple[list[str], list[str]]]:
    """Every ```console block: the $ command and the output lines pasted under it."""
    text = Path(readme).read_text(encoding="utf-8")
    found = re.findall(r"```console\n\$ (.*?)\n(.*?)```", text, re.S)
    assert found, f"{readme} has no ```console block with a $ command"
    return [(shlex.split(cmd), [ln.rstrip() for ln in out.splitlines()]) for cmd, out in found]


@pytest.mark.parametrize(
    "readme", READMES, ids=lambda p: os.path.relpath(p, ROOT).replace("/README.md", "")
)
def test_example_readme_output_is_real(readme, runner, monkeypatch):
    monkeypatch.chdir(ROOT)
    for argv, expected in blocks(readme):
        if argv[0] == "dicecli":
            result = runner.invoke(cli, argv[1:])
            assert result.exit_code == 0, result.output
            output = result.output  # stdout and stderr, in the order written
        else:
            assert argv[0] == "python"
            done = subprocess.run(
                [sys.executable, *argv[1:]], capture_output=True, text=True, check=True
            )
            output = done.stdout
        assert [ln.rstrip() for ln in output.splitlines()] == expected, argv


def test_every_example_folder_has_a_readme():
    folders = [d for d in glob.glob(os.path.join(ROOT, "examples", "*")) if os.path.isdir(d)]
    assert sorted(os.path.join(d, "README.md") for d in folders) == EXAMPLES
