"""Several raters: ``dicecli score PRED GT1 GT2 ...`` (the model against each rater, their
consensus and the inter-rater band) and ``dicecli agreement R1 R2 ...`` (the raters only)."""

from __future__ import annotations

import sys
from typing import Any

import click

from dicecli.cli.funnel import error_funnel
from dicecli.cli.types import FormatsCommand, apply

#: The options of a panel of raters, on score and report (and --rater-names on agreement).
rater_names_option = click.option(
    "--rater-names",
    metavar="A,B,...",
    help="Several references: the raters' names, in order (default: their folder names).",
)

panel_options = apply(
    [
        rater_names_option,
        click.option(
            "--consensus",
            type=click.Choice(["staple", "majority", "all", "any"]),
            help="Several references: also score against their consensus, fused per case and "
            "structure: STAPLE as SimpleITK computes it (posterior >= 0.5), majority vote "
            "(more than half), all (intersection) or any (union).",
        ),
        click.option(
            "--write-consensus",
            type=click.Path(file_okay=False),
            metavar="DIR",
            help="Write each case's consensus reference there (NIfTI: CASE.nii.gz, or CASE/ "
            "with one file per named structure).",
        ),
        click.option(
            "--dissensus",
            type=click.Choice(["keep", "ignore"]),
            default="keep",
            show_default=True,
            help="Several references: ignore leaves the voxels the raters disagree on out of "
            "every count of the consensus rows (CURVAS's consensus Dice).",
        ),
        click.option(
            "--fail-below-raters",
            is_flag=True,
            help="Several references: fail (exit 1) when the model's mean gate metric of a "
            "structure is worse than every rater pair's mean (below the inter-rater band).",
        ),
    ]
)


def is_panel(gt: tuple[str, ...], pairs: str | None) -> bool:
    """Several references on the command line, or a manifest with several gt columns."""
    if len(gt) > 1:
        return True
    if pairs is None or gt:
        return False
    import csv

    try:
        with open(pairs, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
    except OSError:
        return False  # pairing says what is wrong with it
    return sum(1 for c in header if c.strip().lower().startswith("gt")) > 1


def check_not_panel(params: dict[str, Any]) -> None:
    """The panel options mean nothing with one reference."""
    from dicecli.errors import UsageError

    given = [
        flag
        for flag, name in (
            ("--rater-names", "rater_names"),
            ("--consensus", "consensus"),
            ("--write-consensus", "write_consensus"),
            ("--fail-below-raters", "fail_below_raters"),
        )
        if params.get(name)
    ]
    if params.get("dissensus", "keep") != "keep":
        given.append("--dissensus")
    if given:
        raise UsageError(
            f"{', '.join(given)} need several references: dicecli score PRED GT1 GT2 [GT3 ...]"
        )


def run_panel(
    pred: str | None,
    gt: tuple[str, ...],
    pairs: str | None,
    outputs: tuple[str, ...],
    fmt: str,
    summary_only: bool,
    progress: bool | None,
    debug: bool,
    verbose: bool,
    annotations: str,
    title: str | None,
    journal: str | None,
    resume: bool,
    gate_args: dict[str, Any],
    rater_names: str | None,
    fail_below_raters: bool,
    agreement: bool = False,
    **options: Any,
) -> None:
    """Score a panel (or, with ``agreement``, the raters alone), write every output, say what
    went wrong, exit with the right code."""
    from dataclasses import replace
    from functools import partial

    from dicecli.api.raters import rater_agreement, score_panel
    from dicecli.cli.delivery import check_targets, deliver, say_failures
    from dicecli.cli.gating import build_gate
    from dicecli.cli.interrupt import interrupt_guard
    from dicecli.cli.progress import ProgressBar
    from dicecli.errors import ExitCode, UsageError
    from dicecli.models import HtmlOptions
    from dicecli.options import make_options
    from dicecli.report import format_for_path, writer_of

    with error_funnel(debug):
        targets = [(path, format_for_path(path, kind="panel")) for path in outputs]
        check_targets(outputs)
        if gate_args.get("baseline") or gate_args.get("max_drop") or gate_args.get("max_case_drop"):
            raise UsageError("--baseline compares one reference's results; with several "
                             "raters gate with --fail-under or --fail-below-raters")  # fmt: skip
        gate = build_gate(**gate_args)[0] if gate_args else None
        names = rater_names.split(",") if rater_names else None
        show = sys.stderr.isatty() if progress is None else progress
        run: dict[str, Any] = {
            "names": names,
            "pairs": pairs,
            "journal": journal,
            "resume": resume,
            "scheduler": options.pop("scheduler"),
            "scheduler_file": options.pop("scheduler_file"),
            "options": make_options(**options),
        }
        with ProgressBar(show) as bar, interrupt_guard() as interrupt:
            common = {
                **run,
                "on_case_done": bar.tick,
                "on_pairing": bar.paired,
                "should_stop": interrupt.stopped,
            }
            if agreement:
                result = rater_agreement(list(gt), **common)
            else:
                result = score_panel(pred, list(gt), gate=gate, below_raters=fail_below_raters,
                                     **common)  # fmt: skip
        result = replace(result, html=HtmlOptions(title or ""))

        def to_stdout(stream: Any) -> None:
            if fmt == "table":
                from dicecli.report.panel_ import write_table

                write_table(result, stream, summary_only=summary_only)
            else:
                writer_of(fmt, "panel")(result, stream)

        files = [(p, partial(writer_of(f, "panel"), result)) for p, f in targets]
        failed = deliver(to_stdout, files)
        _append_step_summary(result)
        for text in result.notes:
            click.echo(f"note: {text}", err=True)
        for text in result.warnings:
            click.echo(f"warning: {text}", err=True)
        for failure in result.errors:
            lines = failure.message.splitlines()
            click.echo(f"error: {lines[0]}", err=True)
            if debug and len(lines) > 1:
                click.echo("\n".join(lines[1:]), err=True)
        if annotations == "github" and result.gate is not None:
            from dicecli.report.panel_ import gate_lines

            for text in gate_lines(result):
                if text.startswith("gate failed"):
                    click.echo(f"::error title=dicecli gate::{text}")
        if not result.complete:
            click.echo(
                f"warning: interrupted by {interrupt.name} after {result.finished} of "
                f"{result.total} comparison(s); the outputs hold those"
                + (f"; resume with --journal {journal} --resume" if journal else ""),
                err=True,
            )
            sys.exit(interrupt.exit_code)
        say_failures(failed)
        failed_gate = result.gate is not None and not result.gate.passed
        if result.errors or failed:
            if result.errors:
                click.echo(
                    f"error: {len(result.errors)} comparison(s) could not be scored; the others "
                    "were written" + ("; exit 3 takes precedence over the failed gate"
                                      if failed_gate else ""),
                    err=True,
                )  # fmt: skip
            sys.exit(int(ExitCode.INPUT_ERROR))
        if failed_gate:
            sys.exit(int(ExitCode.GATE_FAILED))


def _append_step_summary(result: Any) -> None:
    """GitHub Actions: the panel's Markdown appended to ``$GITHUB_STEP_SUMMARY``."""
    import os

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from dicecli.report.panel_ import write_markdown

    with open(path, "a", encoding="utf-8") as stream:
        write_markdown(result, stream)


def agreement_command() -> click.Command:
    """``dicecli agreement R1 R2 [R3 ...]``: built here so it takes every score option."""
    from dicecli.cli.options import (
        agreement_score_options,
        journal_options,
        scheduler_options,
    )
    from dicecli.cli.outputs import panel_output_options, summary_only_option
    from dicecli.cli.settings import config_option

    def agreement(**params: Any) -> None:
        """Score every rater against every other (R1 R2 [R3 ...]: folders or masks, paired by
        case id; the earlier rater is the reference): per case and structure, each pair's
        metrics, the inter-rater band (median and range of the pair means) and Fleiss' kappa.

        Exit codes: 0 scored; 2 usage error; 3 a comparison could not be scored (the others are
        written); 5 no cases found.
        """
        raters = params.pop("raters")
        run_panel(
            None,
            tuple(raters),
            agreement=True,
            annotations="none",
            title=None,
            gate_args={},
            fail_below_raters=False,
            **params,
        )

    for decorator in reversed(
        [
            click.command("agreement", cls=FormatsCommand),
            click.argument("raters", nargs=-1, type=click.Path()),
            config_option,
            rater_names_option,
            click.option(
                "--pairs",
                type=click.Path(exists=True, dir_okay=False),
                help="CSV manifest with columns case,gt1,gt2,... (instead of the folders).",
            ),
            agreement_score_options,
            panel_output_options,
            summary_only_option,
            journal_options,
            scheduler_options,
        ]
    ):
        agreement = decorator(agreement)
    return agreement  # type: ignore[return-value]
