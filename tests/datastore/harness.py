"""Builds datastores on mock drivers the way the agent does, for datastore tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.hardware import DevicePool
from agent.datastore.persistence import ConfigStore
from agent.drivers.intent import DeviceIntent
from agent.drivers.registry import DriverRegistry
from agent.schema.engine import SchemaEngine
from agent.site_file import default_site_path


def default_site() -> dict[str, Any]:
    return json.loads(default_site_path().read_text(encoding="utf-8"))


def build(
    engine: SchemaEngine,
    state_dir: Path,
    clock: FakeClock,
    registry: DriverRegistry | None = None,
    site: dict[str, Any] | None = None,
) -> Datastore:
    """A started datastore on the mock drivers of every device in ``site``."""
    reg = registry or DriverRegistry.discover()
    pool = DevicePool(lambda config: reg.create(config, clock))
    store = ConfigStore(state_dir, clock=clock)
    datastore = Datastore(engine, pool, store, clock)
    datastore.start(site if site is not None else default_site())
    return datastore


def hw(datastore: Datastore) -> dict[str, Any]:
    """Every device's simulated hardware tables."""
    return {
        name: driver.backend.hw_snapshot()  # type: ignore[attr-defined]
        for name, driver in sorted(datastore.devices.drivers.items())
    }


def fresh_hw(datastore: Datastore, clock: FakeClock) -> dict[str, Any]:
    """What a brand-new mock programmed from the running intents holds."""
    reg = DriverRegistry.discover()
    out = {}
    for name, intent in sorted(datastore.running.intents.items()):
        if intent.device is None:
            continue
        driver = reg.create(intent.device, clock)
        driver.open()
        driver.reconcile(intent)
        out[name] = driver.backend.hw_snapshot()  # type: ignore[attr-defined]
        driver.close()
    return out


def applied(datastore: Datastore, device: str) -> DeviceIntent:
    return datastore.devices.drivers[device].applied()
