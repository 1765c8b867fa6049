"""``dicecli score PRED GT``: parse, call the API, write the reports, exit with the right code."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from dicecli.cli.delivery import check_targets, deliver, say_failures
from dicecli.cli.funnel import error_funnel
from dicecli.cli.gating import append_step_summary, build_gate, gate_options, report_gate
from dicecli.cli.interrupt import interrupt_guard
from dicecli.cli.options import journal_options, pairs_option, scheduler_options, score_options
from dicecli.cli.outputs import (
    lesion_table_option,
    mlflow_option,
    output_options,
    report_options,
    summary_only_option,
)
from dicecli.cli.progress import ProgressBar
from dicecli.cli.raters import check_not_panel, is_panel, panel_options, run_panel
from dicecli.cli.settings import config_option, merged, resolved_settings
from dicecli.cli.types import FormatsCommand

if TYPE_CHECKING:
    from dicecli.models import RunResult


def _options(f: Any) -> Any:
    for decorator in reversed(
        [
            click.argument("pred", required=False, type=click.Path()),
            click.argument("gt", nargs=-1, type=click.Path()),
            config_option,
            pairs_option,
            score_options,
            panel_options,
            gate_options,
            output_options,
            summary_only_option,
            lesion_table_option,
            mlflow_option,
            journal_options,
            scheduler_options,
            report_options,
        ]
    ):
        f = decorator(f)
    return f


@click.command(cls=FormatsCommand)
@_options
def score(**params: Any) -> None:
    """Score predictions in PRED against references in GT (folders paired by case id, or two
    masks: files, DICOM series folders or folders of per-structure masks). Structures are
    matched by name where the masks name them, else by label value. Several references (PRED
    GT1 GT2 ...): the model against each rater, their consensus and the inter-rater band.

    Exit codes: 0 scored and every gate passed; 1 a gate failed; 2 usage error; 3 input error (the
    other cases are still written); 4 GPU requested but unusable; 5 no cases found.
    """
    run_score(**params)


@click.command(cls=FormatsCommand)
@_options
def report(**params: Any) -> None:
    """Score like `dicecli score` and write a self-contained HTML study report (-o study.html):
    summary with confidence intervals, plots, worst-case overlays and a sortable per-case table."""
    if not any(path.lower().endswith((".html", ".htm")) for path in params["outputs"]):
        with error_funnel():
            from dicecli.errors import UsageError

            raise UsageError("dicecli report needs -o REPORT.html")
    run_score(**params)


def run_score(
    pred: str | None,
    gt: tuple[str, ...] | str | None,
    pairs: str | None,
    outputs: tuple[str, ...],
    fmt: str,
    summary_only: bool,
    progress: bool | None,
    debug: bool,
    verbose: bool,
    annotations: str,
    title: str | None,
    overlays: int,
    images: str | None,
    lesion_table: str | None,
    journal: str | None,
    resume: bool,
    mlflow_uri: str | None = None,
    **options: Any,
) -> None:
    """Score, gate, write every output, say what went wrong, exit with the right code."""
    from dataclasses import replace

    from dicecli.api import apply_gate, score_cases
    from dicecli.errors import ExitCode
    from dicecli.models import HtmlOptions
    from dicecli.options import make_options
    from dicecli.report import format_for_path
    from dicecli.report.html import default_title

    gate_args = {k: options.pop(k) for k in GATE_ARGS}
    context = click.get_current_context()
    gate_args["fail_under"] = merged(context, "fail_under", gate_args["fail_under"])
    context.params["fail_under"] = gate_args["fail_under"]
    references = (gt,) if isinstance(gt, str) else tuple(gt or ())
    if options.get("worst") and str(options["worst"]).strip().isdigit():
        # earlier versions' --worst N: the HTML report's overlays, now --overlays N
        click.echo("note: --worst N is now --overlays N (the HTML report's thumbnails); "
                   "--worst takes METRIC=VALUE", err=True)  # fmt: skip
        overlays, options["worst"] = int(options["worst"]), None
    rater_names = options.pop("rater_names", None)
    below_raters = options.pop("fail_below_raters", False)
    if is_panel(references, pairs):
        with error_funnel(debug):
            if mlflow_uri is not None:
                from dicecli.errors import UsageError

                raise UsageError("--mlflow logs one reference's run; with several raters "
                                 "log the -o panel.json yourself")  # fmt: skip
            if lesion_table:
                from dicecli.errors import UsageError

                raise UsageError("--lesion-table is written for one reference; with several "
                                 "raters the lesion columns are in the CSV/JSON rows")  # fmt: skip
        run_panel(pred, references, pairs, outputs, fmt, summary_only, progress, debug, verbose,
                  annotations, title, journal, resume, gate_args, rater_names, below_raters,
                  **options)  # fmt: skip
        return
    with error_funnel(debug):
        check_not_panel({**options, "rater_names": rater_names, "fail_below_raters": below_raters})
    gt = references[0] if references else None
    with error_funnel(debug):
        targets = [(path, format_for_path(path)) for path in outputs]
        check_lesion_table(lesion_table, options["lesions"])
        check_targets([*outputs, lesion_table])
        if mlflow_uri is not None:
            from dicecli.report.mlflow_ import check_mlflow

            if mlflow_uri and gt is None and pairs is None:
                from dicecli.errors import UsageError

                raise UsageError(f"--mlflow took {mlflow_uri} as its tracking URI, leaving GT "
                                 "out; write --mlflow=URI, or --mlflow last")  # fmt: skip
            check_mlflow(mlflow_uri)
        gate, baseline = build_gate(**gate_args)
        show = sys.stderr.isatty() if progress is None else progress
        start = time.perf_counter()
        with ProgressBar(show) as bar, interrupt_guard() as interrupt:
            result = score_cases(
                pred,
                gt,
                pairs=pairs,
                on_case_done=bar.tick,
                on_pairing=bar.paired,
                journal=journal,
                resume=resume,
                should_stop=interrupt.stopped,
                scheduler=options.pop("scheduler"),
                scheduler_file=options.pop("scheduler_file"),
                options=make_options(**options),
            )
        if verbose:
            n = result.cases["case"].nunique() + len(result.errors)
            click.echo(
                f"backend: {result.backend}; {n} case(s) in {time.perf_counter() - start:.2f} s",
                err=True,
            )
        html = HtmlOptions(title or default_title(pred), overlays, images)
        result = replace(result, settings=resolved_settings(context), html=html)
        if gate.active or baseline is not None:
            result = apply_gate(result, gate, baseline)
        failed = _write(result, fmt, summary_only, targets, lesion_table)
        if mlflow_uri is not None:
            failed += _log_mlflow(result, mlflow_uri, [p for p, _ in targets], failed)
        append_step_summary(result)
        _report_problems(result, debug)
        report_gate(result, annotations, report_on_stdout=fmt in ("table", "markdown"))
        if not result.complete:
            _report_interrupt(result, interrupt, journal)
            sys.exit(interrupt.exit_code)
        say_failures(failed)
        if result.cases.empty and not result.errors:  # nothing scored can pass no gate
            click.echo(
                f"error: no structure to score: every mask of the {result.finished} case(s) "
                "is background only; pass --labels to score chosen labels anyway",
                err=True,
            )
            sys.exit(int(ExitCode.NO_CASES))
        failed_gate = result.gate is not None and not result.gate.passed
        if failed and not result.errors:
            sys.exit(int(ExitCode.INPUT_ERROR))
        if result.errors:
            scored = result.cases["case"].nunique()
            click.echo(
                (
                    f"error: {len(result.errors)} case(s) could not be scored; the other "
                    f"{scored} were written"
                    if scored
                    else f"error: no case could be scored ({len(result.errors)} failed)"
                )
                + (
                    "; exit 3: input errors take precedence over the failed gate"
                    if failed_gate
                    else ""
                ),
                err=True,
            )
            sys.exit(int(ExitCode.INPUT_ERROR))
        if failed_gate:
            sys.exit(int(ExitCode.GATE_FAILED))


GATE_ARGS = (
    "fail_under",
    "fail_case_under",
    "gate_metric",
    "gate_empty",
    "baseline",
    "max_drop",
    "max_case_drop",
)


def _write(
    result: RunResult,
    fmt: str,
    summary_only: bool,
    targets: list[tuple[str, str]],
    lesion_table: str | None,
) -> list[str]:
    """stdout, every ``-o`` file and the lesion table, each on its own; the failures."""
    from functools import partial

    from dicecli.report import writer
    from dicecli.report.table import write_table

    def to_stdout(stream: Any) -> None:
        if fmt == "table":
            write_table(result, stream, summary_only=summary_only)
        else:
            writer(fmt).write(result, stream)

    from dicecli.report import case_paths

    files = []
    for path, target_fmt in targets:
        chosen = writer(target_fmt)
        if chosen.per_case:  # one file per case: x.sr.dcm, or x.CASE.sr.dcm for several
            cases = list(dict.fromkeys(str(c) for c in result.cases["case"]))
            for case, each in case_paths(path, cases):
                files.append((each, partial(chosen.write, result, case=case)))
        else:
            files.append((path, partial(chosen.write, result)))
    if lesion_table:
        files.append((lesion_table, partial(lesion_table_writer(lesion_table), result)))
    return deliver(to_stdout, files)


def _log_mlflow(result: RunResult, uri: str, paths: list[str], failed: list[str]) -> list[str]:
    """The run logged to MLflow with the -o files written; a failure as one line."""
    from dicecli.cli.delivery import message_of
    from dicecli.report.mlflow_ import log_run

    written = [p for p in paths if not any(f.startswith(f"{p}:") for f in failed)]
    try:
        run_id = log_run(result, uri or None, written)
    except Exception as e:  # noqa: BLE001 - a server down or a store MLflow refuses
        why = f"{type(e).__name__}: {message_of(e)}"
        return [f"--mlflow {uri or '(default)'}: the run could not be logged ({why})"]
    click.echo(f"note: logged to MLflow run {run_id}", err=True)
    return []


def _report_interrupt(result: RunResult, interrupt: Any, journal: str | None) -> None:
    done = result.finished
    how = (
        f"resume with the same command and --journal {journal} --resume"
        if journal
        else "pass --journal PATH next time to be able to resume"
    )
    click.echo(
        f"warning: interrupted by {interrupt.name} after {done} of {result.total} case(s); the "
        f'outputs hold those and are marked incomplete (JSON "complete": false); {how}',
        err=True,
    )


def check_lesion_table(path: str | None, lesions: bool) -> None:
    from dicecli.errors import UsageError

    if path and not lesions:
        raise UsageError("--lesion-table needs --lesions")
    if path and not path.lower().endswith((".csv", ".json")):
        raise UsageError(f"--lesion-table {path}: write a .csv or .json file")


def lesion_table_writer(path: str) -> Any:
    """The per-lesion table's writer: CSV, or JSON records for a .json path."""
    import json

    from dicecli.report.csv_ import write_frame
    from dicecli.report.json_ import _records

    def write(result: RunResult, stream: Any) -> None:
        table = result.lesions
        assert table is not None  # checked: --lesions is on
        if path.lower().endswith(".json"):
            json.dump(_records(table), stream, indent=2, allow_nan=False)
        else:
            write_frame(table, stream)

    return write


def _report_problems(result: RunResult, debug: bool) -> None:
    for text in result.notes:
        click.echo(f"note: {text}", err=True)
    for text in result.warnings:
        click.echo(f"warning: {text}", err=True)
    for case in result.skipped:
        click.echo(f"warning: case {case}: no prediction; skipped (--missing skip)", err=True)
    for failure in result.errors:
        lines = failure.message.splitlines()
        click.echo(f"error: {lines[0]}", err=True)
        if debug and len(lines) > 1:
            click.echo("\n".join(lines[1:]), err=True)
