"""Layers point downward only, and no agent module holds module-level mutable state.

Each package below is checked file by file: the modules it must not import (the wire,
YANG tooling, concrete drivers, higher layers) and, where it has a whitelist, the only
agent packages it may import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import agent

AGENT = Path(agent.__file__).parent
FAMILIES = ("tofino", "stratix", "nvidia", "intel", "mock", "chip_driver", "family", "registry")
CONCRETE_DRIVERS = tuple(f"agent.drivers.{name}" for name in FAMILIES)
MUTABLE = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
MUTABLE_CALLS = frozenset({"list", "dict", "set", "defaultdict", "deque", "OrderedDict", "Counter"})


@dataclass(frozen=True)
class Layer:
    """One package's import rules."""

    package: str  # below agent/
    forbidden: tuple[str, ...]  # modules (and everything below them) it must not import
    allowed_agent: tuple[str, ...] | None = None  # the only agent packages it may import
    expected: frozenset[str] = frozenset()  # file names that must be there
    exempt: tuple[tuple[str, str], ...] = ()  # (file below the package, module) allowed there

    @property
    def sources(self) -> list[Path]:
        return sorted((AGENT / self.package).rglob("*.py"))


LAYERS = (
    Layer(
        "drivers",
        forbidden=(
            *("grpc", "google.protobuf", "bindings", "yangson", "pyang", "pyangbind", "asyncio"),
            *("agent.gnmi", "agent.schema", "agent.northbound", "agent.datastore", "agent.mapping"),
        ),
        # Drivers are synchronous; the linux backend's netlink sockets (AsyncIPRoute) need
        # an event loop, so it keeps a private one on its own thread, in this file only.
        exempt=(("linux/loop.py", "asyncio"),),
    ),
    Layer(
        "mapping",
        forbidden=(
            *("grpc", "google", "yangson", "pyang", "pyangbind", "bindings"),
            *CONCRETE_DRIVERS,
        ),
        allowed_agent=("agent.mapping", "agent.drivers", "agent.cancellation"),
        expected=frozenset({"intents.py", "plan.py", "state_tree.py"}),
    ),
    Layer(
        "telemetry",
        forbidden=(
            *("grpc", "google", "yangson", "bindings"),
            *("agent.gnmi", "agent.northbound", "agent.app", *CONCRETE_DRIVERS),
        ),
        expected=frozenset({"service.py", "cache.py", "queue.py", "session.py"}),
    ),
    Layer(
        "service",
        forbidden=(
            *("grpc", "google", "yangson", "bindings"),
            *("agent.gnmi", "agent.northbound", "agent.app", *CONCRETE_DRIVERS),
        ),
        expected=frozenset({"admission.py"}),
    ),
    Layer("northbound", forbidden=(*CONCRETE_DRIVERS, "agent.app")),
)
SOURCES = [
    pytest.param(layer, path, id=str(path.relative_to(AGENT)))
    for layer in LAYERS
    for path in layer.sources
]


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


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.package)
def test_there_are_sources(layer: Layer) -> None:
    names = {p.name for p in layer.sources}
    assert names and names >= layer.expected


@pytest.mark.parametrize(("layer", "path"), SOURCES)
def test_imports_respect_the_layer(layer: Layer, path: Path) -> None:
    below = str(path.relative_to(AGENT / layer.package))
    imported = _imports(path) - {module for name, module in layer.exempt if name == below}
    assert not {n for n in imported if _under(n, layer.forbidden)}
    if layer.allowed_agent is not None:
        agent_imports = {n for n in imported if _under(n, ("agent",))}
        assert {n for n in agent_imports if not _under(n, layer.allowed_agent)} == set()


@pytest.mark.parametrize(("layer", "path"), SOURCES)
def test_no_module_level_mutable_state(layer: Layer, path: Path) -> None:
    offenders = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            continue
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, MUTABLE) or (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in MUTABLE_CALLS
        ):
            offenders.append(node.lineno)
    assert not offenders, f"module-level mutable values at lines {offenders}"
