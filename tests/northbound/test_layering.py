"""The northbound stays thin: no concrete driver, no module-level mutable state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.northbound

NORTHBOUND = Path(agent.northbound.__file__).parent
SOURCES = sorted(NORTHBOUND.rglob("*.py"))
CONCRETE = (
    "agent.drivers.tofino",
    "agent.drivers.stratix",
    "agent.drivers.nvidia",
    "agent.drivers.intel",
    "agent.drivers.mock",
    "agent.drivers.registry",
    "agent.drivers.chip_driver",
    "agent.app",
)
MUTABLE = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_concrete_driver_or_composition_imports(path: Path) -> None:
    imported = _imports(ast.parse(path.read_text()))
    assert not {n for n in imported for c in CONCRETE if n == c or n.startswith(c + ".")}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_module_level_mutable_state(path: Path) -> None:
    tree = ast.parse(path.read_text())
    offenders = [
        node.lineno
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, MUTABLE)
        and not (isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__")
    ]
    assert not offenders
