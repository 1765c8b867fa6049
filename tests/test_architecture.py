"""ARCHITECTURE.md tells the truth: the floors hold every module, every import goes to the same
floor or a lower one, no two modules import each other (around any loop), and the optional
dependencies are imported in one place each. Imports inside functions and under TYPE_CHECKING
count: they are the ones that grow into cycles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = Path(ROOT, "dicecli")
DOC = Path(ROOT, "ARCHITECTURE.md").read_text(encoding="utf-8")


def floors() -> dict[str, int]:
    """unit -> floor, from the table in ARCHITECTURE.md."""
    out = {}
    for line in DOC.splitlines():
        m = re.match(r"^\| (\d) \| (.+?) \|", line)
        if m:
            for unit in re.findall(r"`([\w_]+)`", m.group(2)):
                out[unit] = int(m.group(1))
    return out


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (``dicecli.io.seg``; a package by its own)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = modules()


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(module: str, source: str | None = None) -> set[str]:
    """The dicecli modules ``module`` imports anywhere in its body (``source``: its text)."""
    found = set()
    text = MODULES[module].read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text)):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dicecli"):
            for alias in node.names:  # `from dicecli import errors` imports a module
                full = f"{node.module}.{alias.name}"
                targets.append(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.startswith("dicecli")]
        found.update(t for t in targets if t in MODULES and t != module)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def test_every_unit_has_one_floor():
    table = floors()
    units = {unit(m) for m in MODULES}
    assert units == set(table), (
        f"not in ARCHITECTURE.md: {sorted(units - set(table))}; "
        f"no longer in the package: {sorted(set(table) - units)}"
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_or_across(module):
    table = floors()
    upward = [t for t in GRAPH[module] if table[unit(t)] > table[unit(module)]]
    assert not upward, f"{module} (floor {table[unit(module)]}) imports upward: {upward}"


def test_no_import_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("dependency", "allowed"),
    [("cupy", {"dicecli.xp"}), ("distributed", {"dicecli.cluster"}), ("dask", set())],
)
def test_optional_dependencies_are_imported_in_one_place(dependency, allowed):
    users = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == dependency or n.startswith(dependency + ".") for n in names):
                users.add(module)
    assert users <= allowed, f"{dependency} imported by {sorted(users - allowed)}"


def test_the_checker_sees_lazy_and_type_checking_imports():
    """The checker itself: the imports that caused the old api <-> report cycle are caught."""
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from dicecli.api import RunResult
def f():
    from dicecli import engine
    import dicecli.cli.score
"""
    found = imports("dicecli.report.html", source)
    assert found == {"dicecli.api", "dicecli.engine", "dicecli.cli.score"}
    table = floors()
    assert all(table[unit(t)] > table["report"] for t in found)
