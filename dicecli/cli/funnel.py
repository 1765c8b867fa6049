"""The one place where a command's failures become one line on stderr and their exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from dicecli.errors import DiceCliError, ExitCode


def one_line(error: BaseException, path: str | None = None) -> str:
    """An error as the one line the user sees: an expected error's message, or for anything
    else the exception named, with ``path`` when the failure is tied to a file."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    if isinstance(error, DiceCliError):
        return text
    where = f"{path}: " if path else ""
    return (
        f"{where}unexpected {type(error).__name__}: {text or '(no message)'} "
        "(please report it; --debug shows the traceback)"
    )


@contextmanager
def error_funnel(debug: bool = False) -> Iterator[None]:
    """The one place where failures become a one-line message and their exit code: expected
    errors their own code, anything else exit 3 (an input the code did not foresee)."""
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit):
        raise  # Click's own usage errors and exits carry their codes
    except BrokenPipeError:
        # the reader went away (`dicecli score ... | head`): stop quietly, as if killed by SIGPIPE
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(128 + 13)
    except Exception as e:  # noqa: BLE001 - every failure ends as one line, never a traceback
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {one_line(e)}", err=True)
        code = e.exit_code if isinstance(e, DiceCliError) else ExitCode.INPUT_ERROR
        sys.exit(int(code))
