"""The command-line interface: a thin Click layer over the Python API."""

from __future__ import annotations

import click

from dicecli._version import __version__
from dicecli.cli.funnel import error_funnel, one_line

__all__ = ["cli", "error_funnel", "main", "one_line"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dicecli")
def cli() -> None:
    """Score segmentation masks against expert references: Dice, IoU, precision, recall and
    specificity per case and label, from PNG, NIfTI, NRRD/MHA or DICOM."""


def _register() -> None:
    from dicecli.cli.compare import compare
    from dicecli.cli.info import info
    from dicecli.cli.rank import rank
    from dicecli.cli.raters import agreement_command
    from dicecli.cli.score import report, score

    cli.add_command(score)
    cli.add_command(report)
    cli.add_command(info)
    cli.add_command(compare)
    cli.add_command(rank)
    cli.add_command(agreement_command())


_register()


def main() -> None:
    cli(prog_name="dicecli")
