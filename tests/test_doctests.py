"""The examples in the package's docstrings run (those marked ``+SKIP`` need data files)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import dicecli

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(dicecli.__path__, "dicecli.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_some_examples_are_checked():
    attempted = sum(
        doctest.testmod(importlib.import_module(n), report=False).attempted for n in MODULES
    )
    assert attempted >= 1
