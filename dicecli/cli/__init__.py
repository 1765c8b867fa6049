"""The command-line interface: a thin Click layer over the Python API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from dicecli._version import __version__
from dicecli.errors import DiceCliError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dicecli")
def cli() -> None:
    """Score segmentation masks against expert references: Dice, IoU, precision, recall and
    specificity per case and label, from PNG, NIfTI, NRRD/MHA or DICOM."""


@contextmanager
def error_funnel(debug: bool = False) -> Iterator[None]:
    """The one place where expected errors become a one-line message and their exit code."""
    try:
        yield
    except DiceCliError as e:
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {e}", err=True)
        sys.exit(int(e.exit_code))


def _register() -> None:
    from dicecli.cli.info import info
    from dicecli.cli.score import report, score

    cli.add_command(score)
    cli.add_command(report)
    cli.add_command(info)


_register()


def main() -> None:
    cli(prog_name="dicecli")
