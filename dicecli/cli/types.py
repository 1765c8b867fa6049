"""Click parameter types and options that read the registries when they are used, not when the
command is defined: a reader, writer or metric registered later still appears in the choices,
the checks and ``--help``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

F = Callable[..., Any]

if TYPE_CHECKING:  # generic in the stubs of recent Click, not subscriptable in Click 8.1
    _Choice = click.Choice[str]
    _ParamType = click.ParamType[str]
else:
    _Choice = click.Choice
    _ParamType = click.ParamType


class RegistryChoice(_Choice):
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


class Checked(_ParamType):
    """Text checked by one of the ``dicecli.options`` parsers while the command line is parsed,
    so a bad value exits 2 before any file is read; the text itself is kept (it is what the JSON
    report records and the run parses once, ``options.parse_options``)."""

    def __init__(self, parser: str, name: str = "text") -> None:
        self.parser = parser
        self.name = name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import importlib

        from dicecli.errors import DiceCliError

        module, _, function = self.parser.rpartition(".")
        try:
            getattr(importlib.import_module(module), function)(str(value))
        except DiceCliError as e:
            name = param.opts[-1] if param else ""  # Click names the option already
            self.fail(str(e).removeprefix(f"{name}: ").removeprefix(f"{name} "), param, ctx)
        return value


class RegistryHelpOption(click.Option):
    """An option whose help text is built by ``help_text()`` when ``--help`` shows it."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._help_text = help_text

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self._help_text()
        return super().get_help_record(ctx)


def gate_metric_option(help_text: Callable[[], str]) -> F:
    """``--gate-metric`` (of ``score`` and ``compare``): one of the gateable metrics of the
    registry (``dicecli.metrics.registry``), default dice."""

    def names() -> tuple[str, ...]:
        from dicecli.metrics.registry import gateable

        return gateable()

    return click.option(
        "--gate-metric",
        type=RegistryChoice(names),
        metavar="METRIC",
        default="dice",
        show_default=True,
        cls=RegistryHelpOption,
        help_text=help_text,
    )


def metrics_help() -> str:
    """``--metrics``: the surface metrics of the registry, and the overlap ones always computed."""
    from dicecli.metrics.registry import names

    return (
        f"Also compute surface and topology metrics: all, or a list of "
        f"{','.join(names('surface'))}; with --soft: calibration, or "
        f"{','.join(names('calibration'))} (the overlap metrics "
        f"{', '.join(names('overlap'))} are always computed)."
    )


def gate_metric_help() -> str:
    """``--gate-metric``: which way each metric of the registry is gated."""
    from dicecli.metrics.registry import gateable, lower_is_better

    lower = ", ".join(m for m in gateable() if lower_is_better(m))
    return (
        f"The metric the gates check, one of {', '.join(gateable())}; distances ({lower}) must "
        "not exceed the threshold, the others must reach it (surface metrics need --metrics, "
        "lesion metrics --lesions)."
    )


def compare_gate_metric_help() -> str:
    from dicecli.metrics.registry import gateable

    return (
        f"The metric --fail-if-worse checks, one of {', '.join(gateable())} (distances: lower "
        "is better)."
    )


class FormatsCommand(click.Command):
    """A command whose ``--help`` ends with the registered input formats, output formats and
    metrics (``dicecli.io``, ``dicecli.report``, ``dicecli.metrics.registry``)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from dicecli.io import readers
        from dicecli.metrics.registry import metrics
        from dicecli.report import writers

        inputs = [f"{r.title or r.name} ({' '.join(r.suffixes)})" for r in readers()]
        outputs = [f"{w.name} ({' '.join(w.extensions)})" for w in writers()]
        named = [f"{m.name}{f' [{m.unit}]' if m.unit else ''}" for m in metrics()]
        for title, items in (("Inputs", inputs), ("Outputs", outputs), ("Metrics", named)):
            formatter.write_paragraph()
            formatter.write_text(
                f"{title}: {'; '.join(items) if title != 'Metrics' else ', '.join(items)}."
            )
        super().format_epilog(ctx, formatter)


def apply(decorators: list[F]) -> Callable[[F], F]:
    """One decorator that applies ``decorators`` in order (the first is the outermost)."""

    def wrap(f: F) -> F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return wrap
