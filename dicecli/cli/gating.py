"""CI gate options of ``dicecli score`` and what a gate says on stderr, in annotations and in
GitHub's step summary."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from dicecli.cli.types import apply, gate_metric_help, gate_metric_option

if TYPE_CHECKING:
    from dicecli.gate import GateSettings
    from dicecli.models import RunResult

annotations_option = click.option(
    "--annotations",
    type=click.Choice(["none", "github"]),
    default="none",
    show_default=True,
    help="Also print failed rules as GitHub ::error:: commands.",
)

gate_options = apply(
    [
        click.option(
            "--fail-under",
            multiple=True,
            metavar="[LABEL=]X",
            help="Fail (exit 1) when the mean gate metric of every label (or of LABEL) is "
            "below X. Repeatable.",
        ),
        click.option(
            "--fail-case-under",
            type=float,
            metavar="X",
            help="Fail when any single case/label gate metric is below X.",
        ),
        gate_metric_option(gate_metric_help),
        click.option(
            "--gate-empty",
            type=click.Choice(["skip", "fail", "pass"]),
            default="skip",
            show_default=True,
            help="Undefined values (both masks empty): left out of gates and counted, "
            "counted as 0 (fail), or as 1 (pass).",
        ),
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False),
            help="A JSON report dicecli wrote earlier, to compare against.",
        ),
        click.option(
            "--max-drop",
            type=float,
            metavar="D",
            help="With --baseline: fail when a label's mean drops by more than D.",
        ),
        click.option(
            "--max-case-drop",
            type=float,
            metavar="D",
            help="With --baseline: fail when a case/label present in both drops by more than D.",
        ),
        annotations_option,
    ]
)


def build_gate(
    fail_under: tuple[str, ...],
    fail_case_under: float | None,
    gate_metric: str,
    gate_empty: str,
    baseline: str | None,
    max_drop: float | None,
    max_case_drop: float | None,
) -> tuple[GateSettings, dict[str, Any] | None]:
    """Settings and the loaded baseline; contradictions are usage errors, before any scoring."""
    from dicecli.errors import UsageError
    from dicecli.gate import GateSettings, load_baseline, parse_fail_under

    if (max_drop is not None or max_case_drop is not None) and baseline is None:
        raise UsageError("--max-drop and --max-case-drop need --baseline previous.json")
    overall, per_label = parse_fail_under(fail_under)
    settings = GateSettings(
        metric=gate_metric,
        fail_under=overall,
        fail_under_labels=per_label,
        fail_case_under=fail_case_under,
        gate_empty=gate_empty,  # type: ignore[arg-type]
        max_drop=max_drop,
        max_case_drop=max_case_drop,
    )
    return settings, load_baseline(baseline) if baseline else None


def report_gate(result: RunResult, annotations: str, report_on_stdout: bool) -> None:
    """The verdict on stderr; ``::error::`` commands on stdout after a human report (GitHub reads
    stdout), or on stderr when stdout carries CSV or JSON."""
    gate = result.gate
    if gate is None or not gate.rules:
        return
    if gate.passed:
        click.echo(f"gate passed: {'; '.join(gate.rules)}", err=True)
    else:
        for f in gate.failures:
            click.echo(f"gate failed: {f.message}", err=True)
        if annotations == "github":
            for f in gate.failures:
                click.echo(
                    f"::error title=dicecli gate::{escape_command(f.message)}",
                    err=not report_on_stdout,
                )
    skipped = sum(gate.empty_skipped.values())
    if skipped:
        click.echo(
            f"gate: {skipped} undefined value(s) (both masks empty) left out (--gate-empty skip)",
            err=True,
        )
    for case in gate.only_in_baseline:
        click.echo(f"warning: case {case} is in the baseline but was not scored now", err=True)
    for case in gate.only_in_current:
        click.echo(f"warning: case {case} is new (not in the baseline)", err=True)


def append_step_summary(result: RunResult) -> None:
    """GitHub Actions: append the summary and the verdict to ``$GITHUB_STEP_SUMMARY``."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from dicecli.report.markdown import write_markdown

    with open(path, "a", encoding="utf-8") as stream:
        write_markdown(result, stream, cases=False)


def escape_command(text: str) -> str:
    # GitHub workflow-command escaping of a message
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
