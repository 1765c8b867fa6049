"""The progress bar on stderr and what pairing found (said once per kind), shared by every
command that scores cases."""

from __future__ import annotations

from typing import Any

import click


class ProgressBar:
    """A rich progress bar on stderr (cases done of cases paired), or nothing."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> ProgressBar:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "scoring",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("scoring", total=None)
        return self

    def paired(self, pairing: Any, to_score: int) -> None:
        """Say what pairing found; the total grows by the cases to score (one call per set of
        predictions: ``compare`` scores several)."""
        _report_pairing(pairing)
        if self.bar is not None:
            total = self.bar.tasks[0].total or 0
            self.bar.update(self.task, total=total + to_score)

    def tick(self, outcome: Any) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _report_pairing(pairing: Any) -> None:
    """What pairing passed over, one line per kind (a folder of 10 000 notes is one line)."""
    for paths, why in (
        (pairing.ignored, "not a mask format dicecli reads, or --pattern did not match"),
        (pairing.unreadable, "could not be read: a symbolic link loop or to nothing, or no "
         "permission"),
    ):  # fmt: skip
        if paths:
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            what = "entry" if len(paths) == 1 else f"{len(paths)} entries"
            click.echo(f"warning: {what} skipped ({why}): {shown}", err=True)
    for path in pairing.unmatched_predictions:
        click.echo(f"warning: {path}: prediction without a reference; not scored", err=True)
    missing = pairing.missing
    if missing:
        click.echo(
            f"warning: {pairing.predictions + ': ' if pairing.predictions else ''}"
            f"{len(missing)} reference(s) without prediction: "
            + ", ".join(p.case for p in missing[:10])
            + (" ..." if len(missing) > 10 else ""),
            err=True,
        )
