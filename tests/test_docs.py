"""The README tells the truth: commands, options, CSV columns, metric formulas, CI commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import ROOT

from dicecli.aggregate import case_columns
from dicecli.cli import cli
from dicecli.metrics import overlap_metrics, registry
from dicecli.models import Counts

METRICS = registry.names("overlap")

README = Path(ROOT, "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(title)
    rest = README[start + len(title) :]
    end = re.search(r"\n#{2,3} ", rest)
    return rest[: end.start()] if end else rest


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header row


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name, runner):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert cli.commands[name].help
    assert f"dicecli {name}" in README


def test_every_score_option_is_in_the_readme():
    score = cli.commands["score"]
    for param in score.params:
        if isinstance(param, click.Option):
            long = next(o for o in param.opts if o.startswith("--"))
            assert long in README, f"{long} is not documented in README.md"


def test_readme_csv_columns_match_the_code(runner, tmp_path):
    documented = [row[0].strip("`") for row in table_rows(section("### CSV columns"))]
    calibration = registry.names("calibration")
    assert documented == list(case_columns(registry.names("surface"), calibration=calibration))
    pred, gt = (os.path.join(ROOT, "examples", "png", side) for side in ("pred", "gt"))
    result = runner.invoke(cli, ["score", pred, gt, "--format", "csv"])
    assert result.stdout.splitlines()[0].split(",") == list(case_columns())
    full = runner.invoke(cli, ["score", pred, gt, "--format", "csv", "--metrics", "all"])
    masks = [c for c in documented if c not in calibration]
    assert full.stdout.splitlines()[0].split(",") == masks


def test_readme_metric_formulas_match_the_code():
    rows = {row[0].strip("`"): row[1] for row in table_rows(section("## Metrics"))}
    counts = Counts(tp=7, fp=3, fn=5, tn=85)
    computed = overlap_metrics(counts, beta=3.0, voxel_ml=0.25)  # B and V below
    assert set(METRICS) <= set(rows)
    for metric in METRICS:
        formula = rows[metric].split(" = ")[0].split(";")[0]
        formula = re.sub(r"\s\([A-Za-z', ]+\)$", "", formula.strip())
        expression = re.sub(r"(\d)(TP|FP|FN|TN)", r"\1*\2", formula)
        names = {"TP": 7, "FP": 3, "FN": 5, "TN": 85, "B": 3.0, "V": 0.25}
        value = eval(expression, {"abs": abs}, names)
        assert value == pytest.approx(computed[metric]), metric


def test_ci_runs_the_readme_quick_start_verbatim():
    quick = section("## Quick start")
    commands = re.search(r"```sh\n(.*?)```", quick, re.S).group(1).strip().splitlines()
    assert len(commands) == 2
    ci = Path(ROOT, ".ci", "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert command in ci


def test_importing_dicecli_and_its_cli_loads_no_heavy_library():
    code = (
        "import sys, dicecli, dicecli.cli; "
        "print(sorted(m for m in ('numpy', 'pandas', 'cupy', 'nibabel', 'SimpleITK', 'rich', "
        "'PIL', 'pydicom') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["score", "report", "compare", "info"])
def test_a_commands_help_loads_no_heavy_library(command):
    """The help lists the registries (formats, metrics) without importing numpy for them."""
    code = (
        "import sys\nfrom dicecli.cli import cli\n"
        f"try:\n    cli(['{command}', '--help'], prog_name='dicecli')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'cupy', 'nibabel', 'SimpleITK', 'PIL', "
        "'pydicom') if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Metrics: dice" in out.stdout
    assert out.stderr.strip() == "[]"


def test_the_changelog_has_a_released_section_for_the_version():
    from dicecli._version import __version__

    changelog = Path(ROOT, "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(
        rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M
    )
