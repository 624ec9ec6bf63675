"""The driver contract on the mock backend of every installed chipset, and the guarantee
that every registered backend runs it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from agent.drivers.registry import DriverRegistry

from .contract import DriverContract
from .targets import TargetFactory, mock_rig

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def target_factory() -> TargetFactory:
    return mock_rig


class TestMockContract(DriverContract):
    backend = "mock"


def _suites() -> set[str]:
    """The backends some test module under tests/drivers runs the contract for."""
    for path in sorted(HERE.rglob("test_*.py")):
        module = ".".join(("tests", *path.relative_to(HERE.parents[1]).with_suffix("").parts[1:]))
        importlib.import_module(module)
    found: set[str] = set()
    todo = list(DriverContract.__subclasses__())
    while todo:
        suite = todo.pop()
        todo.extend(suite.__subclasses__())
        if "backend" in vars(suite):
            found.add(suite.backend)
    return found


def test_every_registered_backend_runs_the_contract() -> None:
    registry = DriverRegistry.discover()
    backends = {t.backend for t in registry.targets()}
    missing = backends - _suites()
    assert not missing, (
        f"backends {sorted(missing)} are registered but no test module runs DriverContract "
        "for them (see docs/adding-a-driver.md)"
    )
