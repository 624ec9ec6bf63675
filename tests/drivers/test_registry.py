"""The registry finds families through entry points and explains what it cannot serve."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import agent.drivers.registry as registry_module
from agent.clock import FakeClock
from agent.drivers import DeviceConfig, UnknownBackend, UnknownChipset
from agent.drivers.errors import DriverUnavailable
from agent.drivers.registry import BACKEND_GROUP, ENTRY_POINT_GROUP, DriverRegistry

NINE = (
    "bluefield-2",
    "bluefield-3",
    "connectx-6",
    "connectx-7",
    "e810",
    "ipu-e2000",
    "stratix10-dx",
    "tofino1",
    "tofino2",
)


def test_four_families_serve_the_nine_chipsets_on_the_mock() -> None:
    registry = DriverRegistry.discover()
    assert registry.load_errors == ()
    assert {f.name: f.chipsets for f in registry.families} == {
        "intel": ("e810", "ipu-e2000"),
        "nvidia": ("connectx-6", "connectx-7", "bluefield-2", "bluefield-3"),
        "stratix": ("stratix10-dx",),
        "tofino": ("tofino1", "tofino2"),
    }
    assert registry.chipsets == NINE
    assert all("mock" in registry.backends(family.name) for family in registry.families)


@pytest.mark.parametrize("chipset", NINE)
def test_create_builds_a_driver_for_each_chipset(chipset: str) -> None:
    driver = DriverRegistry.discover().create(DeviceConfig("d", chipset), FakeClock())
    assert driver.config.chipset == chipset
    assert driver.capabilities().chipset == chipset


def test_an_unknown_chipset_is_a_clear_error() -> None:
    with pytest.raises(UnknownChipset) as error:
        DriverRegistry.discover().create(DeviceConfig("d", "tofino9"), FakeClock())
    assert isinstance(error.value, DriverUnavailable)
    assert str(error.value).startswith("no driver serves chipset 'tofino9' (known chipsets: ")


def test_an_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(UnknownBackend) as error:
        DriverRegistry.discover().create(DeviceConfig("d", "e810", backend="netlink"), FakeClock())
    assert str(error.value).startswith(
        "driver family intel has no backend 'netlink' for chipset e810 (available: "
    )
    assert "mock" in error.value.known


def test_broken_and_conflicting_plugins_are_reported_not_fatal(monkeypatch) -> None:
    entries = {
        ENTRY_POINT_GROUP: [
            EntryPoint("tofino", "agent.drivers.tofino:FAMILY", ENTRY_POINT_GROUP),
            EntryPoint("again", "agent.drivers.tofino:FAMILY", ENTRY_POINT_GROUP),
            EntryPoint("missing", "no_such_package.drivers:FAMILY", ENTRY_POINT_GROUP),
            EntryPoint("wrong", "agent.drivers.units:GBPS", ENTRY_POINT_GROUP),
        ],
        BACKEND_GROUP: [
            EntryPoint("tofino.mock", "agent.drivers.mock:BACKEND", BACKEND_GROUP),
            EntryPoint("tofino.mock", "agent.drivers.mock:MockBackendProvider", BACKEND_GROUP),
            EntryPoint("nofamily.mock", "agent.drivers.mock:BACKEND", BACKEND_GROUP),
            EntryPoint("unqualified", "agent.drivers.mock:BACKEND", BACKEND_GROUP),
            EntryPoint("tofino.units", "agent.drivers.units:GBPS", BACKEND_GROUP),
        ],
    }
    monkeypatch.setattr(registry_module, "entry_points", lambda group: entries[group])
    registry = DriverRegistry.discover()
    assert [f.name for f in registry.families] == ["tofino", "tofino"]
    errors = registry.load_errors
    assert any("missing" in e and "failed to load" in e for e in errors)
    assert any("wrong" in e and "not a DriverFamily" in e for e in errors)
    assert any("tofino1 is claimed by families tofino and tofino" in e for e in errors)
    assert registry.family_for("tofino1").name == "tofino"
    assert any("tofino.mock is registered twice" in e for e in errors)
    assert any("nofamily.mock names no installed driver family" in e for e in errors)
    assert any("unqualified" in e and "not named <family>.<backend>" in e for e in errors)
    assert any("tofino.units" in e and "not a backend provider" in e for e in errors)
    assert list(registry.backends("tofino")) == ["mock"]


def test_the_registry_imports_no_concrete_family() -> None:
    source = Path(registry_module.__file__).read_text()
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    families = {"agent.drivers.tofino", "agent.drivers.stratix", "agent.drivers.nvidia"}
    assert not imported & (families | {"agent.drivers.intel"})
    probe = (
        "import sys, agent.drivers.registry; "
        "print(sorted(m for m in sys.modules if m.split('.')[:3][-1] in "
        "('tofino', 'stratix', 'nvidia', 'intel')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
