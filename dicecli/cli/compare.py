"""``dicecli compare REFERENCE PRED_A PRED_B...``: paired statistics between prediction sets."""

from __future__ import annotations

import sys
from typing import Any

import click

from dicecli.cli.funnel import error_funnel
from dicecli.cli.gating import annotations_option
from dicecli.cli.options import scheduler_options, score_options
from dicecli.cli.outputs import compare_output_options
from dicecli.cli.settings import config_option
from dicecli.cli.types import (
    FormatsCommand,
    apply,
    compare_gate_metric_help,
    gate_metric_option,
)

_COMPARE_OPTIONS = apply(
    [
        click.option(
            "--names",
            metavar="A,B,...",
            help="Names of the prediction sets, in order (default: their folder names).",
        ),
        click.option(
            "--all-pairs",
            is_flag=True,
            help="Compare every pair of sets (default: every later set against the first).",
        ),
        click.option(
            "--fail-if-worse",
            multiple=True,
            metavar="[LABEL=]MARGIN",
            help="Fail (exit 1) when B's mean gate metric trails A's by more than MARGIN for a "
            "label, or when B is significantly worse (Holm-adjusted p < --alpha). Repeatable.",
        ),
        click.option(
            "--alpha",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.05,
            show_default=True,
            help="Significance level of --fail-if-worse.",
        ),
        gate_metric_option(compare_gate_metric_help),
        annotations_option,
    ]
)


@click.command(cls=FormatsCommand)
@click.argument("reference", type=click.Path())
@click.argument("pred_a", type=click.Path())
@click.argument("pred_b", type=click.Path())
@click.argument("more", nargs=-1, type=click.Path())
@score_options
@scheduler_options
@_COMPARE_OPTIONS
@compare_output_options
@config_option
def compare(**params: Any) -> None:
    """Score each prediction set (PRED_A, PRED_B, ...) against REFERENCE and compare them case
    by case: mean and median paired difference, bootstrap 95% interval, Wilcoxon signed-rank
    test, wins/ties/losses, Holm-adjusted p-values. Two experts' folders give inter-reader
    agreement.

    Exit codes: 0 compared and every gate passed; 1 --fail-if-worse failed; 2 usage error;
    3 a case could not be scored in some set (the rest is still compared and written); 4 GPU
    requested but unusable; 5 no cases found.
    """
    run_compare(**params)


def run_compare(
    reference: str,
    pred_a: str,
    pred_b: str,
    more: tuple[str, ...],
    names: str | None,
    all_pairs: bool,
    fail_if_worse: tuple[str, ...],
    alpha: float,
    gate_metric: str,
    annotations: str,
    outputs: tuple[str, ...],
    fmt: str,
    progress: bool | None,
    debug: bool,
    verbose: bool,
    **options: Any,
) -> None:
    from dataclasses import replace
    from functools import partial

    from dicecli.api import compare_predictions
    from dicecli.cli.delivery import check_targets, deliver, say_failures
    from dicecli.cli.progress import ProgressBar
    from dicecli.compare import evaluate, parse_worse_rules
    from dicecli.errors import ExitCode, UsageError
    from dicecli.metrics.registry import metric
    from dicecli.options import make_options
    from dicecli.report import compare_writer, format_for_path

    with error_funnel(debug):
        targets = [(path, format_for_path(path, kind="compare")) for path in outputs]
        check_targets(outputs)
        rules = parse_worse_rules(fail_if_worse)
        surface = metric(gate_metric).family == "surface"
        if rules and surface and options["metrics"] == "overlap":
            raise UsageError(f"--gate-metric {gate_metric} needs --metrics {gate_metric} (or all)")
        show = sys.stderr.isatty() if progress is None else progress
        with ProgressBar(show) as bar:
            result = compare_predictions(
                reference,
                [pred_a, pred_b, *more],
                names=[n.strip() for n in names.split(",")] if names else None,
                all_pairs=all_pairs,
                on_case_done=bar.tick,
                on_pairing=bar.paired,
                scheduler=options.pop("scheduler"),
                scheduler_file=options.pop("scheduler_file"),
                options=make_options(**options),
            )
        if verbose:
            backend = result.runs[result.names[0]].backend
            click.echo(f"backend: {backend}; {len(result.names)} sets", err=True)
        if rules:
            result = replace(result, gate=evaluate(result.comparisons, gate_metric, rules, alpha))
        failed = deliver(
            partial(compare_writer(fmt), result),
            [(path, partial(compare_writer(target), result)) for path, target in targets],
        )
        _report(result, annotations, report_on_stdout=fmt in ("table", "markdown"))
        say_failures(failed)
        if result.errors or failed:
            sys.exit(int(ExitCode.INPUT_ERROR))
        if result.gate is not None and not result.gate.passed:
            sys.exit(int(ExitCode.GATE_FAILED))


def _report(result: Any, annotations: str, report_on_stdout: bool) -> None:
    """Warnings, case errors and the gate's verdict on stderr (annotations on stdout after a
    human report, as for ``score``)."""
    from dicecli.cli.gating import escape_command

    for name in result.names:
        for text in result.runs[name].warnings:
            click.echo(f"warning: {name}: {text}", err=True)
    for name, failure in result.errors:
        click.echo(f"error: {name}: {failure.message.splitlines()[0]}", err=True)
    gate = result.gate
    if gate is not None:
        if gate.passed:
            click.echo(
                f"gate passed: {gate.metric} of every set within its margin of "
                f"{result.names[0]}, none significantly worse (alpha {gate.alpha:g})",
                err=True,
            )
        for message in gate.failures:
            click.echo(f"gate failed: {message}", err=True)
            if annotations == "github":
                click.echo(
                    f"::error title=dicecli compare::{escape_command(message)}",
                    err=not report_on_stdout,
                )
    if result.errors:
        click.echo(
            f"error: {len(result.errors)} case(s) could not be scored; the comparisons use the "
            "cases scored in both sets",
            err=True,
        )
