"""``dicecli rank A.json B.json ...`` (or ``GT PRED_A PRED_B ...``): a challenge leaderboard
and how stable it is."""

from __future__ import annotations

import sys
from typing import Any

import click

from dicecli.cli.funnel import error_funnel
from dicecli.cli.options import ranking_score_options, scheduler_options
from dicecli.cli.outputs import rank_output_options
from dicecli.cli.settings import config_option
from dicecli.cli.types import Checked, FormatsCommand, apply

_RANK_OPTIONS = apply(
    [
        click.option(
            "--names",
            metavar="A,B,...",
            help="Names of the submissions, in order (default: their file or folder names).",
        ),
        click.option(
            "--metric",
            "rank_metrics",
            multiple=True,
            default=("dice",),
            show_default=True,
            metavar="METRIC",
            help="Metric to rank on (its direction from the metric registry); repeatable: one "
            "leaderboard per structure and metric, and their consensus.",
        ),
        click.option(
            "--labels",
            "rank_labels",
            type=Checked("dicecli.rank.settings.label_spec"),
            metavar="NAMES|SPEC",
            help="Rank these structures only: names as the results spell them (liver,tumor or "
            "1,2), or score's SPEC when scoring (liver=1, kidney=2+3). Default: all.",
        ),
        click.option(
            "--scheme",
            type=click.Choice(["aggregate-then-rank", "rank-then-aggregate", "test-then-rank"]),
            default="aggregate-then-rank",
            show_default=True,
            help="challengeR's schemes: rank the aggregate; aggregate the per-case ranks; rank "
            "by the share of one-sided paired Wilcoxon tests won.",
        ),
        click.option(
            "--aggregate",
            type=Checked("dicecli.rank.settings.parse_aggregate"),
            default="mean",
            show_default=True,
            metavar="mean|median|min|max|qP",
            help="The aggregate of aggregate-then-rank and rank-then-aggregate (qP: quantile).",
        ),
        click.option(
            "--alpha",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.05,
            show_default=True,
            help="test-then-rank: significance level.",
        ),
        click.option(
            "--p-adjust",
            type=click.Choice(["none", "holm"]),
            default="none",
            show_default=True,
            help="test-then-rank: adjustment over the task's pairs (challengeR's default none).",
        ),
        click.option(
            "--ties",
            type=click.Choice(["min", "max", "average", "dense", "ordinal"]),
            default="min",
            show_default=True,
            help="Ranks of equal scores (challengeR's default min).",
        ),
        click.option(
            "--missing",
            "missing_value",
            type=Checked("dicecli.rank.settings.parse_missing"),
            default="worst",
            show_default=True,
            metavar="worst|drop|VALUE",
            help="A case a submission lacks (a prediction not found, a case not scored, a "
            "metric undefined): the task's worst value (the worst rank in "
            "rank-then-aggregate); drop it; or this value.",
        ),
        click.option(
            "--worst",
            type=Checked("dicecli.rank.settings.parse_metric_values"),
            metavar="METRIC=VALUE,...",
            help="The value of an undefined or missing case per metric, as BraTS ranks HD95 "
            "with 374 mm: hd95=374 (default: the worst value observed in the task).",
        ),
        click.option(
            "--weights",
            type=Checked("dicecli.rank.settings.parse_weights"),
            metavar="METRIC=W,...",
            help="Weights of the metrics in the consensus (default: equal).",
        ),
        click.option(
            "--bootstrap",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            metavar="N",
            help="Resample the cases N times with replacement and rank again: rank frequencies, "
            "median rank and 95% interval, Kendall's tau against the full ranking.",
        ),
        click.option(
            "--seed", type=int, default=0, show_default=True, help="Seed of the resamples."
        ),
    ]
)


@click.command(cls=FormatsCommand)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@_RANK_OPTIONS
@ranking_score_options
@scheduler_options
@rank_output_options
@config_option
def rank(**params: Any) -> None:
    """Rank submissions: PATHS are results files, one per submission (dicecli score -o
    r.json, or -o r.csv), or a reference followed by prediction sets, scored first with the
    score options (--labels selects the structures either way). Per structure and metric a
    leaderboard under the scheme, and the consensus (mean rank over them); with --bootstrap,
    how stable each is.

    Exit codes: 0 ranked; 2 usage error; 3 a case could not be scored in some set (the others
    are ranked); 4 GPU requested but unusable; 5 no cases found.
    """
    run_rank(**params)


def run_rank(
    paths: tuple[str, ...],
    names: str | None,
    rank_metrics: tuple[str, ...],
    rank_labels: str | None,
    scheme: str,
    aggregate: str,
    alpha: float,
    p_adjust: str,
    ties: str,
    missing_value: str,
    worst: str | None,
    weights: str | None,
    bootstrap: int,
    seed: int,
    outputs: tuple[str, ...],
    fmt: str,
    progress: bool | None,
    debug: bool,
    verbose: bool,
    **options: Any,
) -> None:
    from functools import partial

    from dicecli.api.rank import rank_submissions
    from dicecli.cli.delivery import check_targets, deliver, say_failures
    from dicecli.cli.progress import ProgressBar
    from dicecli.errors import ExitCode
    from dicecli.options import make_options
    from dicecli.rank.settings import (
        label_names,
        label_spec,
        make_settings,
        parse_metric_values,
        parse_weights,
    )
    from dicecli.report import format_for_path, writer_of

    with error_funnel(debug):
        targets = [(path, format_for_path(path, kind="rank")) for path in outputs]
        check_targets(outputs)
        settings = make_settings(
            metrics=tuple(dict.fromkeys(rank_metrics)),
            scheme=scheme,
            aggregate=aggregate,
            alpha=alpha,
            p_adjust=p_adjust,
            ties=ties,
            missing=missing_value,
            worst=parse_metric_values(worst) if worst else {},
            labels=label_names(rank_labels) if rank_labels else None,
            bootstrap=bootstrap,
            seed=seed,
            weights=parse_weights(weights) if weights else {},
        )
        show = sys.stderr.isatty() if progress is None else progress
        with ProgressBar(show) as bar:
            result = rank_submissions(
                list(paths),
                names=[n.strip() for n in names.split(",")] if names else None,
                settings=settings,
                options=make_options(
                    labels=label_spec(rank_labels) if rank_labels else None,
                    missing="skip",  # a prediction not found is a missing case: --missing
                    **{k: v for k, v in options.items() if "scheduler" not in k},
                ),
                on_case_done=bar.tick,
                on_pairing=bar.paired,
                scheduler=options["scheduler"],
                scheduler_file=options["scheduler_file"],
            )
        failed = deliver(
            partial(writer_of(fmt, "rank"), result),
            [(path, partial(writer_of(target, "rank"), result)) for path, target in targets],
        )
        for text in result.warnings:
            click.echo(f"warning: {text}", err=True)
        for text in result.errors:
            click.echo(f"error: {text}", err=True)
        say_failures(failed)
        if failed or result.errors:
            sys.exit(int(ExitCode.INPUT_ERROR))
