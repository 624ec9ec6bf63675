"""Tenants' state in the telemetry cache: usage (with the per-port reserved list) is
subscribable, follows commits ON_CHANGE, and carries the usage provider's figures."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.datastore.edits import Edit
from agent.mapping.state_tree import StateReader
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.telemetry.model import Batch, Delete, ListMode, StreamMode, SubscribeSpec, Subscription
from agent.telemetry.model import Update as ItemUpdate
from agent.telemetry.service import TelemetryService
from agent.telemetry.session import Session
from agent.telemetry.timer import ManualTimer
from tests.telemetry.harness import PoolDrivers, Site, run, within

B = "/tenants/tenant[name=operator-b]"
STATE = f"{B}/state"


class Usage:
    """Runtime figures a test can change."""

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, int | float]] = {}

    def usage(self, tenant: str) -> Mapping[str, int | float]:
        return self.figures.get(tenant, {})


class UsageSite(Site):
    """The harness site with a state reader that has a tenant usage provider."""

    def __init__(self, engine: SchemaEngine, state_dir: Path, tree: dict[str, Any]) -> None:
        super().__init__(engine, state_dir, tree)
        self.usage = Usage()

    async def start(self) -> UsageSite:
        await asyncio.to_thread(self.datastore.start, self.tree)
        self.timer = ManualTimer(self.clock)
        drivers = PoolDrivers(self.pool)
        self.telemetry = TelemetryService(
            self.datastore,
            drivers,
            self.engine.nav,
            self.clock,
            timer=self.timer,
            reader=StateReader(drivers, self.usage),
        )
        await self.telemetry.start()
        await self.settle()
        return self


def spec(path: str, listing: ListMode = ListMode.STREAM) -> SubscribeSpec:
    return SubscribeSpec(listing, (Subscription(DataPath.parse(path), StreamMode.ON_CHANGE),))


def leaves(batch: Batch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in batch.items:
        if isinstance(item, ItemUpdate):
            out.update({f"{item.path}/{leaf}": value for leaf, value in item.values.items()})
    return out


async def until(session: Session, leaf: str, wanted: Any) -> dict[str, Any]:
    """Batches of ``session`` merged until ``leaf`` has the ``wanted`` value."""
    seen: dict[str, Any] = {}
    while seen.get(leaf) != wanted:
        seen.update(leaves(await within(session.next())))
    return seen


def test_usage_with_reserved_entries_is_in_the_cache(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    async def main() -> dict[str, Any]:
        agent = await UsageSite(engine, tmp_path / "state", site).start()
        try:
            agent.usage.figures["operator-b"] = {"subscriptions": 2, "set-rate": 1.2}
            session = await agent.service.open(spec(STATE, ListMode.ONCE))
            return leaves(await within(session.next()))
        finally:
            await agent.stop()

    values = run(main())
    assert values[f"{B}/state/max-slices"] == 4
    assert (values[f"{STATE}/slices"], values[f"{STATE}/subscriptions"]) == (1, 2)
    assert values[f"{STATE}/set-rate"] == 1
    assert values[f"{STATE}/reserved[port=nic-cx6/1]/rate-bps"] == "1000000000"
    assert values[f"{STATE}/reserved[port=tor-tf1/2/1]/rate-bps"] == "0"


def test_usage_follows_commits_on_change(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    iot = {
        "name": "iot-2",
        "config": {"name": "iot-2", "tenant": "operator-b", "sst": 3, "sd": "000003"}
        | {"vlan-id": 301, "min-rate-bps": "500000000"},
        "members": {"member": [{"port": "tor-tf1/2/1", "config": {"port": "tor-tf1/2/1"}}]},
    }

    async def main() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        agent = await UsageSite(engine, tmp_path / "state", site).start()
        try:
            session = await agent.service.open(spec(STATE))
            await until(session, f"{STATE}/slices", 1)
            await agent.commit(Edit.update("/slices", {"slice": [iot]}))
            added = await until(session, f"{STATE}/slices", 2)
            await agent.commit(Edit.delete("/slices/slice[name=iot-2]"))
            kept = ["tor-tf1/2/0", "nic-cx6/1", "ipu-e2k/1"]  # tor-tf1/2/1 taken back
            await agent.commit(Edit.replace(f"{B}/config/ports", kept))
            removed: list[str] = []
            seen: dict[str, Any] = {}
            while not removed:
                batch = await within(session.next())
                seen.update(leaves(batch))
                removed += [str(i.path) for i in batch.items if isinstance(i, Delete)]
            return added, seen, removed
        finally:
            await agent.stop()

    added, seen, removed = run(main())
    assert added[f"{STATE}/reserved[port=tor-tf1/2/1]/rate-bps"] == "500000000"
    assert seen[f"{STATE}/slices"] == 1
    assert removed == [f"{STATE}/reserved[port=tor-tf1/2/1]"]
