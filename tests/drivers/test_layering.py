"""Drivers stay below the wire and model layers, and hold no module-level mutable state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.drivers

DRIVERS = Path(agent.drivers.__file__).parent
SOURCES = sorted(DRIVERS.rglob("*.py"))
FORBIDDEN = (
    *("grpc", "google.protobuf", "bindings", "yangson", "pyang", "pyangbind", "asyncio"),
    *("agent.gnmi", "agent.schema", "agent.northbound", "agent.datastore", "agent.mapping"),
)
MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "deque", "OrderedDict", "Counter"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(DRIVERS)))
def test_no_wire_or_model_imports(path: Path) -> None:
    imported = _imports(ast.parse(path.read_text()))
    bad = {n for n in imported for f in FORBIDDEN if n == f or n.startswith(f + ".")}
    assert not bad


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(DRIVERS)))
def test_no_module_level_mutable_state(path: Path) -> None:
    tree = ast.parse(path.read_text())
    offenders = []
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            continue
        if isinstance(
            value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp
        ) or (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in MUTABLE_CALLS
        ):
            offenders.append(node.lineno)
    assert not offenders, f"module-level mutable values at lines {offenders}"
