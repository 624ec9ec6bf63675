"""Telemetry stays below the wire and above the driver interface; no mutable globals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.telemetry

TELEMETRY = Path(agent.telemetry.__file__).parent
HANDLER = TELEMETRY.parent / "northbound" / "subscribe.py"
SOURCES = sorted(TELEMETRY.rglob("*.py"))
FAMILIES = ("tofino", "stratix", "nvidia", "intel", "mock", "chip_driver", "family", "registry")
CONCRETE_DRIVERS = tuple(f"agent.drivers.{name}" for name in FAMILIES)
WIRE = ("grpc", "google", "agent.gnmi", "agent.northbound", "agent.app", "bindings", "yangson")
MUTABLE = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


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
    assert {p.name for p in SOURCES} >= {"service.py", "cache.py", "queue.py", "session.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_telemetry_knows_no_wire_and_no_concrete_driver(path: Path) -> None:
    imported = _imports(path)
    assert not {n for n in imported if _under(n, WIRE)}
    assert not {n for n in imported if _under(n, CONCRETE_DRIVERS)}


def test_the_handler_knows_no_concrete_driver() -> None:
    assert not {n for n in _imports(HANDLER) if _under(n, CONCRETE_DRIVERS)}


@pytest.mark.parametrize("path", [*SOURCES, HANDLER], ids=lambda p: p.name)
def test_no_module_level_mutable_state(path: Path) -> None:
    offenders = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            continue
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, MUTABLE) or (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in {"list", "dict", "set", "defaultdict", "deque", "OrderedDict"}
        ):
            offenders.append(node.lineno)
    assert not offenders, f"module-level mutable values at lines {offenders}"
