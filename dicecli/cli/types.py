"""Click parameter types and options that read the registries when they are used, not when the
command is defined: a reader, writer or metric registered later still appears in the choices,
the checks and ``--help``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click


class RegistryChoice(click.Choice[str]):
    """A Choice whose choices come from ``names()`` each time they are needed."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self._names = names
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: Any) -> None:
        """Click's __init__ assigns the (empty) list; the registry is the source."""


class RegistryHelpOption(click.Option):
    """An option whose help text is built by ``help_text()`` when ``--help`` shows it."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._help_text = help_text

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self._help_text()
        return super().get_help_record(ctx)
