"""Property: whatever transactions and faults come, a failed transaction leaves config and
hardware exactly as before, and after a successful one the hardware equals what a fresh
device programmed from the running configuration holds."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent.clock import FakeClock
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import build, default_site, fresh_hw, hw

SITE = default_site()
PORTS = [p["name"] for p in SITE["edge-ports:ports"]["port"]]
DEVICES = [d["name"] for d in SITE["edge-platform:platform"]["devices"]["device"]]
SLICES = ["embb", "urllc", "miot", "extra"]
SPEEDS = ["10G", "25G", "40G", "50G", "100G", "200G", "400G"]


def port_leaf(leaf: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Edit]:
    return st.builds(
        lambda port, value: Edit.update(f"/ports/port[name={port}]/config/{leaf}", value),
        st.sampled_from(PORTS),
        values,
    )


EDITS = st.one_of(
    port_leaf("mtu", st.sampled_from([1514, 9000, 9216, 9500, 9978, 16000])),
    port_leaf("speed", st.sampled_from(SPEEDS)),
    port_leaf("fec", st.sampled_from(["none", "fc", "rs528", "rs544", "auto"])),
    port_leaf("enabled", st.booleans()),
    port_leaf("num-vfs", st.sampled_from([0, 8, 130, 300])),
    st.builds(
        lambda device, on: Edit.update(
            f"/platform/devices/device[name={device}]/config/enabled", on
        ),
        st.sampled_from(DEVICES),
        st.booleans(),
    ),
    st.builds(
        lambda name, vlan, rate: Edit.update(
            f"/slices/slice[name={name}]/config",
            {"name": name, "sst": 128 + vlan % 100, "vlan-id": vlan, "min-rate-bps": str(rate)},
        ),
        st.sampled_from(SLICES),
        st.integers(100, 104),
        st.sampled_from([0, 10**9, 30 * 10**9, 300 * 10**9]),
    ),
    st.builds(
        lambda name, port: Edit.update(
            f"/slices/slice[name={name}]/members/member[port={port}]",
            {"port": port, "config": {"port": port}},
        ),
        st.sampled_from(SLICES),
        st.sampled_from(PORTS),
    ),
    st.builds(lambda name: Edit.delete(f"/slices/slice[name={name}]"), st.sampled_from(SLICES)),
    st.builds(lambda port: Edit.delete(f"/ports/port[name={port}]"), st.sampled_from(PORTS)),
)

FAULT = st.one_of(
    st.none(),
    st.tuples(st.just("op"), st.sampled_from(DEVICES), st.integers(0, 3)),
    st.tuples(st.just("port"), st.sampled_from(PORTS), st.just(0)),
)

TRANSACTION = st.tuples(st.lists(EDITS, min_size=1, max_size=4), FAULT)


def _inject(ds: Any, fault: Any) -> None:
    if fault is None:
        return
    kind, target, n = fault
    if kind == "op":
        ds.devices.drivers[target].backend.fail_operation(n)
        return
    device = next(
        p["config"]["device"] for p in SITE["edge-ports:ports"]["port"] if p["name"] == target
    )
    ds.devices.drivers[device].backend.fail_port(target)


def _clear(ds: Any) -> None:
    for driver in ds.devices.drivers.values():
        driver.backend.clear_faults()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(transactions=st.lists(TRANSACTION, min_size=1, max_size=6))
def test_transactions_are_all_or_nothing(engine: SchemaEngine, transactions: list[Any]) -> None:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        ds = build(engine, Path(tmp) / "state", clock)
        try:
            for edits, fault in transactions:
                before_tree, before_hw, before_version = ds.running.tree, hw(ds), ds.running.version
                _inject(ds, fault)
                try:
                    ds.commit(edits)
                    failed = False
                except DatastoreError as err:
                    failed = True
                    event(f"refused: {err.kind.value}")
                _clear(ds)
                if failed:
                    assert ds.running.tree is before_tree
                    assert ds.running.version == before_version
                    assert hw(ds) == before_hw
                else:
                    event("committed")
                    assert hw(ds) == fresh_hw(ds, clock)
                    assert engine.refusals(ds.running.tree) == ()
                clock.advance(1)
        finally:
            ds.stop()
