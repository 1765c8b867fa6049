"""Settings from ``dicecli.toml`` or ``[tool.dicecli]`` in ``pyproject.toml``.

Found from the working directory upward (the first folder holding either file wins; ``dicecli.toml``
before ``pyproject.toml``), or named with ``--config``. Keys are option names, with ``-`` or ``_``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dicecli.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings read, keyed by option name (underscores), and the file they came from."""

    path: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def find_config(start: str | None = None) -> str | None:
    """The nearest ``dicecli.toml``, or ``pyproject.toml`` with a ``[tool.dicecli]`` table."""
    folder = os.path.abspath(start or os.getcwd())
    while True:
        own = os.path.join(folder, "dicecli.toml")
        if os.path.isfile(own):
            return own
        project = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(project) and "dicecli" in _read(project).get("tool", {}):
            return project
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_settings(path: str | None, known: Iterable[str]) -> Settings:
    """Read and check the settings of ``path`` (None: nothing); unknown keys are an error."""
    if path is None:
        return Settings()
    data = _read(path)
    table = data.get("tool", {}).get("dicecli", {}) if path.endswith("pyproject.toml") else data
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.dicecli] must be a table of option = value")
    allowed = set(known)
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in allowed:
            shown = ", ".join(sorted(k.replace("_", "-") for k in allowed))
            raise UsageError(f"{path}: unknown setting {key!r}; known settings: {shown}")
        values[name] = value
    return Settings(path, values)


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise UsageError(f"{path}: cannot read the settings file ({e.strerror})") from e
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: not valid TOML ({e})") from e
