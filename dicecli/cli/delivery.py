"""Delivering the outputs: every target checked before any work is done, then each written on
its own, so that one that fails (a full disk, a closed standard output) neither stops the others
nor ends in a traceback; the failures come back as one line each, naming the path."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import IO

import click

from dicecli.cli.funnel import one_line
from dicecli.errors import DiceCliError

Write = Callable[[IO[str]], None]


def check_targets(paths: Iterable[str | None], what: str = "-o") -> None:
    """Before the first case: each path's folder takes a new file (``report.check_writable``);
    a read-only file system or a folder in the way is a usage error (exit 2) naming it."""
    from dicecli.report import check_writable

    for path in paths:
        if path:
            check_writable(path, what)


def deliver(to_stdout: Write, files: Iterable[tuple[str, Write]]) -> list[str]:
    """Write stdout, then every file (atomically), each whatever became of the others; the
    failures as one line each. A reader that went away (``| head``) still ends the command."""
    from dicecli.report import write_atomic

    failures = []
    try:
        if sys.stdout is None:  # started with standard output closed (``>&-``)
            raise OSError(9, "it is closed")
        to_stdout(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        failures.append(f"standard output could not be written ({e.strerror or e})")
    for path, write in files:
        try:
            write_atomic(path, write)
        except OSError as e:
            failures.append(f"{path}: could not be written ({e.strerror or e})")
        except DiceCliError as e:  # what the format cannot hold (a report on a non-DICOM case)
            failures.append(f"{path}: not written: {one_line(e)}")
        except Exception as e:  # noqa: BLE001 - a writer's library failing on this result
            failures.append(f"{path}: could not be written ({type(e).__name__}: {message_of(e)})")
    return failures


def message_of(error: BaseException) -> str:
    """A third party's message on one line."""
    return " ".join(str(error).split()) or "(no message)"


def say_failures(failures: list[str]) -> None:
    for text in failures:
        click.echo(f"error: {text}; the other outputs were written", err=True)
