"""Builders shared by the mapping tests: tree edits and mock drivers for a tree."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from agent.clock import FakeClock
from agent.datastore.model_registry import model_registry
from agent.drivers import DeviceIntent, Driver
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.mock import MockHardware
from agent.drivers.registry import DriverRegistry
from agent.mapping.intents import SiteIntents, intents_from_tree
from agent.mapping.registry import ModelRegistry
from agent.schema.engine import SchemaEngine

Tree = dict[str, Any]


@functools.cache
def site_model() -> ModelRegistry:
    """The model registry of the agent's YANG modules (read once)."""
    return model_registry(SchemaEngine().nav)


def intents_of(tree: Tree) -> SiteIntents:
    """``intents_from_tree`` with the model's registry."""
    return intents_from_tree(tree, site_model())


def devices(tree: Tree) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tree["edge-platform:platform"]["devices"]["device"]
    return items


def ports(tree: Tree) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tree["edge-ports:ports"]["port"]
    return items


def slices(tree: Tree) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tree["edge-slices:slices"]["slice"]
    return items


def entry(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


def device_config(tree: Tree, name: str) -> dict[str, Any]:
    config: dict[str, Any] = entry(devices(tree), name)["config"]
    return config


def port_config(tree: Tree, name: str) -> dict[str, Any]:
    config: dict[str, Any] = entry(ports(tree), name)["config"]
    return config


def slice_entry(tree: Tree, name: str) -> dict[str, Any]:
    return entry(slices(tree), name)


def member_ports(tree: Tree, slice_name: str) -> list[str]:
    return [m["port"] for m in slice_entry(tree, slice_name)["members"]["member"]]


def add_member(tree: Tree, slice_name: str, port: str, **config: Any) -> None:
    members = slice_entry(tree, slice_name)["members"]["member"]
    members.append({"port": port, "config": {"port": port, **config}})


def remove_member(tree: Tree, slice_name: str, port: str) -> None:
    members = slice_entry(tree, slice_name)["members"]["member"]
    members[:] = [m for m in members if m["port"] != port]


def add_port(tree: Tree, name: str, device: str, index: int, **config: Any) -> None:
    config.setdefault("speed", "100G")
    ports(tree).append(
        {"name": name, "config": {"name": name, "device": device, "index": index, **config}}
    )


def remove_port(tree: Tree, name: str) -> None:
    """Deletes a port and every slice membership that refers to it."""
    ports(tree)[:] = [p for p in ports(tree) if p["name"] != name]
    for slice_ in slices(tree):
        remove_member(tree, slice_["name"], name)


def add_device(tree: Tree, name: str, chipset: str, **config: Any) -> None:
    devices(tree).append(
        {"name": name, "config": {"name": name, "chipset": f"edge-types:{chipset}", **config}}
    )


def remove_device(tree: Tree, name: str) -> None:
    """Deletes a device with its ports (and their slice memberships)."""
    for port in [p["name"] for p in ports(tree) if p["config"]["device"] == name]:
        remove_port(tree, port)
    devices(tree)[:] = [d for d in devices(tree) if d["name"] != name]


def open_drivers(intents: Mapping[str, DeviceIntent], clock: FakeClock) -> dict[str, ChipDriver]:
    """An open mock driver per device, reconciled to its intent."""
    registry = DriverRegistry.discover()
    drivers: dict[str, ChipDriver] = {}
    for name, intent in intents.items():
        assert intent.device is not None
        driver: Driver = registry.create(intent.device, clock)
        assert isinstance(driver, ChipDriver)
        driver.open()
        driver.reconcile(intent)
        drivers[name] = driver
    return drivers


def drivers_for(tree: Tree, clock: FakeClock) -> dict[str, ChipDriver]:
    return open_drivers(intents_of(tree), clock)


def hardware(driver: ChipDriver) -> MockHardware:
    backend = driver.backend
    assert isinstance(backend, MockHardware)
    return backend
