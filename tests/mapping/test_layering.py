"""The mapping layer sits on the driver value types only, and holds no mutable globals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.mapping

MAPPING = Path(agent.mapping.__file__).parent
SOURCES = sorted(MAPPING.rglob("*.py"))
ALLOWED_AGENT = ("agent.mapping", "agent.drivers")
CONCRETE_DRIVERS = (
    "agent.drivers.tofino",
    "agent.drivers.stratix",
    "agent.drivers.nvidia",
    "agent.drivers.intel",
    "agent.drivers.mock",
    "agent.drivers.chip_driver",
    "agent.drivers.family",
    "agent.drivers.registry",
)
FORBIDDEN = ("grpc", "google", "yangson", "pyang", "pyangbind", "bindings")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_there_are_sources() -> None:
    assert {p.name for p in SOURCES} >= {"intents.py", "plan.py", "state_tree.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_imports_only_driver_value_types(path: Path) -> None:
    imported = _imports(path)
    assert not {n for n in imported if _under(n, FORBIDDEN)}
    assert not {n for n in imported if _under(n, CONCRETE_DRIVERS)}
    agent_imports = {n for n in imported if _under(n, ("agent",))}
    assert {n for n in agent_imports if not _under(n, ALLOWED_AGENT)} == set()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_module_level_mutable_state(path: Path) -> None:
    mutable = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
    offenders = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            continue
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, mutable) or (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in {"list", "dict", "set", "defaultdict"}
        ):
            offenders.append(node.lineno)
    assert not offenders
