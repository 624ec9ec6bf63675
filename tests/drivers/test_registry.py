"""The registry finds families through entry points and explains what it cannot serve."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import agent.drivers.registry as registry_module
from agent.clock import Clock, FakeClock
from agent.drivers import (
    Capabilities,
    DeviceConfig,
    PortConfig,
    PortOp,
    Problem,
    UnknownBackend,
    UnknownChipset,
)
from agent.drivers.checks import Check, CheckContext
from agent.drivers.errors import DriverUnavailable
from agent.drivers.mock import MockHardware
from agent.drivers.registry import BACKEND_GROUP, ENTRY_POINT_GROUP, DriverRegistry
from agent.drivers.units import GBPS

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


class StrictMtuHardware(MockHardware):
    """A backend that probes a narrower MTU range than its chip profile."""

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), mtu_max=1500)


def check_port_named(ctx: CheckContext) -> Iterator[Problem]:
    """This backend's own rule: ports name the interface they drive."""
    for port in ctx.own_ports:
        if port.interface_name is None:
            yield Problem("port", port.name, "strict-interface", "names no interface")


@dataclass(frozen=True)
class StrictBackend:
    description: str = "a backend plugged in from outside the family"
    checks: tuple[Check, ...] = (check_port_named,)

    def create(self, config: DeviceConfig, profile: Capabilities, clock: Clock) -> Any:
        return StrictMtuHardware(config, profile, clock)


STRICT = StrictBackend()


def test_a_backend_plugs_into_a_family_through_its_entry_point(monkeypatch) -> None:
    installed = registry_module.entry_points
    extra = EntryPoint("tofino.strict", "tests.drivers.test_registry:STRICT", BACKEND_GROUP)

    def with_extra(group: str) -> list[EntryPoint]:
        found = list(installed(group=group))
        return [*found, extra] if group == BACKEND_GROUP else found

    monkeypatch.setattr(registry_module, "entry_points", with_extra)
    registry = DriverRegistry.discover()
    assert registry.load_errors == ()
    assert list(registry.backends("tofino")) == ["mock", "strict"]
    assert ("tofino", "tofino2", "strict") in {
        (t.family, t.chipset, t.backend) for t in registry.targets()
    }
    driver = registry.create(DeviceConfig("sw", "tofino2", backend="strict"), FakeClock())
    assert driver.capabilities().mtu_max == 1500, "capabilities come from the backend"
    port = PortConfig("sw/1", "sw", 1, speed_bps=100 * GBPS, fec="auto", mtu=9000)
    problems = driver.validate((PortOp(None, port),)).problems
    assert {p.rule for p in problems} == {"port-mtu", "strict-interface"}
    assert "range 64..1500" in next(p.message for p in problems if p.rule == "port-mtu")
    assert not driver.is_open, "validating opened nothing"


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
