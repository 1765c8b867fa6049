"""``--config``: settings files become Click's default map, so command-line flags always win."""

from __future__ import annotations

from typing import Any

import click

from dicecli.config import find_config, load_settings

NOT_CONFIGURABLE = {"config", "help"}


def option_names(command: click.Command) -> dict[str, str]:
    """Settings-file key (long option name, underscores) -> Click parameter name."""
    names: dict[str, str] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in NOT_CONFIGURABLE:
            continue
        for opt in (*param.opts, *param.secondary_opts):
            if opt.startswith("--") and param.name:
                names[opt[2:].replace("-", "_")] = param.name
    return names


def _load(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from dicecli.cli.funnel import error_funnel

    assert ctx.command is not None
    names = option_names(ctx.command)
    known = dict(names)  # one file serves every command: another command's keys are not errors
    group = ctx.parent.command if ctx.parent is not None else None
    if isinstance(group, click.Group):
        for command in group.commands.values():
            known.update(option_names(command))
    with error_funnel():
        settings = load_settings(value or find_config(), known)
    defaults: dict[str, Any] = {}
    for key, setting in settings.values.items():
        if key not in names:
            continue  # a setting of another command (e.g. fail_under for compare)
        name = names[key]
        if key.startswith("no_") and isinstance(setting, bool):
            setting = not setting
        target = next(p for p in ctx.command.params if p.name == name)
        if getattr(target, "multiple", False) and not isinstance(setting, list):
            setting = [setting]
        defaults[name] = [str(s) for s in setting] if isinstance(setting, list) else setting
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta["dicecli.config"] = settings.path
    ctx.meta["dicecli.defaults"] = defaults
    return settings.path


config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_load,
    help="Settings file (TOML). Default: dicecli.toml or [tool.dicecli] in pyproject.toml, "
    "searched from the working directory upward. Command-line flags win.",
)


def merged(ctx: click.Context, name: str, value: tuple[str, ...]) -> tuple[str, ...]:
    """A repeatable option given on the command line extends the file's values instead of
    replacing them (``--fail-under kidney=0.8`` keeps the file's other thresholds)."""
    source = ctx.get_parameter_source(name)
    from_file = ctx.meta.get("dicecli.defaults", {}).get(name)
    if source == click.core.ParameterSource.COMMANDLINE and from_file:
        return (*from_file, *value)
    return value


def resolved_settings(ctx: click.Context) -> dict[str, dict[str, Any]]:
    """Every option's value and where it came from: command line, config file, or default."""
    path = ctx.meta.get("dicecli.config")
    out: dict[str, dict[str, Any]] = {}
    for param in ctx.command.params:
        if param.name is None or param.name in NOT_CONFIGURABLE:
            continue
        source = ctx.get_parameter_source(param.name)
        labels = {
            click.core.ParameterSource.COMMANDLINE: "command line",
            click.core.ParameterSource.DEFAULT_MAP: f"config file {path}",
            click.core.ParameterSource.ENVIRONMENT: "environment",
        }
        label = labels.get(source, "default") if source is not None else "default"
        value = ctx.params.get(param.name)
        out[param.name] = {
            "value": list(value) if isinstance(value, tuple) else value,
            "source": label,
        }
    return out
