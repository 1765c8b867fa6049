"""Click options of what is written and shown: formats, output files, the HTML report's
options, progress and verbosity (the names are a contract)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dicecli.cli.types import F, RegistryChoice, RegistryHelpOption, apply

if TYPE_CHECKING:
    from dicecli.report import Kind


def _formats(kind: Kind) -> list[F]:
    """``-o`` and ``--format``, from the writer registry (``dicecli.report``), for writers of
    results of ``kind`` (score, compare, rank)."""

    def names() -> list[str]:
        from dicecli.report import stdout_writers

        return [w.name for w in stdout_writers(kind)]

    def output_help() -> str:
        from dicecli.report import extensions

        return f"Write a report file; format from the extension: {extensions(kind)}. Repeatable."

    return [
        click.option(
            "-o",
            "--output",
            "outputs",
            multiple=True,
            type=click.Path(dir_okay=False),
            cls=RegistryHelpOption,
            help_text=output_help,
        ),
        click.option(
            "--format",
            "fmt",
            type=RegistryChoice(names),
            default="table",
            show_default=True,
            help="What goes to stdout.",
        ),
    ]


_OUTPUT_OPTIONS: list[F] = [
    click.option(
        "--progress/--no-progress",
        default=None,
        help="Progress bar on stderr (default: when stderr is a terminal).",
    ),
    click.option("--debug", is_flag=True, help="Show tracebacks of errors."),
    click.option(
        "-v",
        "--verbose",
        is_flag=True,
        help="Say on stderr which backend (CPU or GPU, with the device) ran, and how long.",
    ),
]


_REPORT_OPTIONS: list[F] = [
    click.option("--title", help="HTML report: its title (default: from the prediction folder)."),
    click.option(
        "--overlays",
        type=click.IntRange(min=0),
        default=10,
        show_default=True,
        metavar="N",
        help="HTML report: overlay thumbnails of the N worst case/label pairs.",
    ),
    click.option(
        "--images",
        type=click.Path(exists=True, file_okay=False),
        help="HTML report: folder of CT/MR images (paired by case id) shown under the overlays.",
    ),
]

lesion_table_option: F = click.option(
    "--lesion-table",
    type=click.Path(dir_okay=False),
    help="With --lesions: write one row per lesion (case, label, side, id, voxels, mL, "
    "centroid mm, bounding box, match, IoU, Dice, status) to a .csv or .json file.",
)

mlflow_option: F = click.option(
    "--mlflow",
    "mlflow_uri",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[URI]",
    help="Log the run to MLflow: the summary means as metrics, the options as params, the -o "
    'files as artifacts (pip install "dicecli[mlflow]"); URI: the tracking server or store '
    "(default: MLFLOW_TRACKING_URI). Write --mlflow=URI, or --mlflow last.",
)

summary_only_option: F = click.option(
    "--summary-only", is_flag=True, help="Table: show only the per-label summary."
)
report_options = apply(_REPORT_OPTIONS)
output_options = apply([*_formats("score"), *_OUTPUT_OPTIONS])
compare_output_options = apply([*_formats("compare"), *_OUTPUT_OPTIONS])
rank_output_options = apply([*_formats("rank"), *_OUTPUT_OPTIONS])
panel_output_options = apply([*_formats("panel"), *_OUTPUT_OPTIONS])
