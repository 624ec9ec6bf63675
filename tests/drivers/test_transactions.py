"""Transactions on the hardware: validation touches nothing, apply runs in order and is
undone in reverse, reconcile at start, and degraded devices reported with their reason.

The datastore is built as the agent builds it, over a registry whose mock backend is
wrapped to record every hardware call or to fail on cue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent.clock import Clock, FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.drivers import DeviceConfig, DeviceEvent, HardwareFault, Op
from agent.drivers.capabilities import Capabilities
from agent.drivers.checks import Check
from agent.drivers.mock import MockHardware
from agent.drivers.registry import BackendEntry, DriverRegistry
from agent.mapping.state_tree import Selection, StateReader
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import build, hw

MTU = "/ports/port[name={}]/config/mtu"
NEW_DEVICE = {"name": "nic-new", "config": {"name": "nic-new", "chipset": "edge-types:e810"}}
NEW_PORT = {
    "name": "nic-new/1",
    "config": {"name": "nic-new/1", "device": "nic-new", "index": 1, "speed": "25G"},
}
UNTOUCHED = {"capabilities", "add_event_listener", "read_device_state"}
"""Calls that never reach the hardware (they read what the backend already knows)."""


class RecordingHardware(MockHardware):
    """A mock that logs every call reaching the hardware, as (device, call, argument)."""

    def __init__(self, config: DeviceConfig, caps: Capabilities, clock: Clock, log: list) -> None:
        super().__init__(config, caps, clock)
        self._log = log
        self.breaks_after: int | None = None  # successful programs before every op fails

    def open(self) -> None:
        self._log.append((self._identity.name, "open", None))
        super().open()

    def close(self) -> None:
        self._log.append((self._identity.name, "close", None))
        super().close()

    def read_config(self) -> Any:
        self._log.append((self._identity.name, "read_config", None))
        return super().read_config()

    def program(self, op: Op) -> None:
        if self.breaks_after is not None:
            if self.breaks_after == 0:
                raise HardwareFault(self._identity.name, f"{op.describe()}: the device broke")
            self.breaks_after -= 1
        super().program(op)
        self._log.append((self._identity.name, "program", op))


@dataclass
class RecordingBackend:
    """A mock backend provider whose hardware records into ``log``; ``setup`` arms a
    device's hardware when it is created."""

    log: list = field(default_factory=list)
    setup: dict[str, Callable[[RecordingHardware], None]] = field(default_factory=dict)
    description: str = "recording mock"
    checks: tuple[Check, ...] = ()
    made: dict[str, RecordingHardware] = field(default_factory=dict)

    def create(self, config: DeviceConfig, profile: Capabilities, clock: Clock) -> Any:
        hardware = RecordingHardware(config, profile, clock, self.log)
        self.made[config.name] = hardware
        if config.name in self.setup:
            self.setup[config.name](hardware)
        return hardware

    def calls(self, kind: str | None = None) -> list[tuple[str, str, Any]]:
        return [entry for entry in self.log if kind is None or entry[1] == kind]


def recording_registry(backend: RecordingBackend) -> DriverRegistry:
    families = DriverRegistry.discover().families
    return DriverRegistry(families, [BackendEntry(f.name, "mock", backend) for f in families])


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture
def ds(engine: SchemaEngine, tmp_path: Path, backend: RecordingBackend) -> Iterator[Datastore]:
    datastore = build(engine, tmp_path / "state", FakeClock(), recording_registry(backend))
    yield datastore
    datastore.stop()


def device_state(ds: Datastore, name: str) -> dict[str, Any]:
    reader = StateReader(ds.devices.drivers)
    tree = reader.read(ds.running.tree, Selection.only(devices=[name], ports=()))
    return tree["edge-platform:platform"]["devices"]["device"][0]["state"]


def port_status(ds: Datastore, name: str) -> str:
    reader = StateReader(ds.devices.drivers)
    tree = reader.read(ds.running.tree, Selection.only(ports=[name]))
    return tree["edge-ports:ports"]["port"][0]["state"]["oper-status"]


# ----------------------------------------------------------------------- 1. validate


def test_validate_opens_no_driver_and_touches_no_hardware(
    ds: Datastore, backend: RecordingBackend
) -> None:
    assert backend.calls("open") and backend.calls("program"), "the recorder records"
    backend.log.clear()
    edits = [
        Edit.update("/platform/devices/device[name=nic-new]", NEW_DEVICE),
        Edit.update("/ports/port[name=nic-new/1]", NEW_PORT),
        Edit.update(MTU.format("tor-tf1/1"), 9100),
    ]
    changes = ds.validate(edits)
    assert changes and backend.log == []
    assert "nic-new" in backend.made and "nic-new" not in ds.devices.drivers

    refused = [*edits[:2], Edit.update("/ports/port[name=nic-new/1]/config/speed", "400G")]
    with pytest.raises(DatastoreError) as err:
        ds.commit(refused)
    assert err.value.kind is ErrorKind.HARDWARE and "port-speed" in err.value.message
    assert backend.log == [], "a refused commit opened or programmed something"

    ds.commit(edits)
    assert ("nic-new", "open", None) in backend.log, "apply opens the new device's driver"
    assert any(call[0] == "nic-new" for call in backend.calls("program"))


# -------------------------------------------------------------------------- 2. apply


def test_a_later_failure_undoes_the_earlier_ops_in_reverse_order(
    ds: Datastore, backend: RecordingBackend
) -> None:
    before_tree, before_hw = ds.running.tree, hw(ds)
    backend.made["tor-tf1"].fail_operation(1)  # its second op
    backend.log.clear()
    edits = [
        Edit.update(MTU.format("dpu-bf2/1"), 9100),
        Edit.update(MTU.format("nic-cx6/1"), 9100),
        Edit.update(MTU.format("tor-tf1/1"), 9100),
        Edit.update(MTU.format("tor-tf1/3"), 9100),
    ]
    with pytest.raises(DatastoreError) as err:
        ds.commit(edits)
    assert err.value.kind is ErrorKind.HARDWARE and "nothing was applied" in err.value.message
    programmed = [(device, op) for device, _, op in backend.calls("program")]
    forward = programmed[:3]
    assert [device for device, _ in forward] == ["dpu-bf2", "nic-cx6", "tor-tf1"]
    assert programmed[3:] == [(device, op.inverse()) for device, op in reversed(forward)]
    assert ds.running.tree is before_tree and hw(ds) == before_hw
    assert ds.devices.degraded == frozenset()


def test_a_failed_undo_leaves_the_device_degraded_with_the_reason_in_its_state(
    ds: Datastore, backend: RecordingBackend
) -> None:
    backend.made["nic-cx6"].breaks_after = 1  # its change applies, its undo cannot
    backend.made["tor-tf1"].fail_operation(0)
    edits = [Edit.update(MTU.format("nic-cx6/1"), 9100), Edit.update(MTU.format("tor-tf1/1"), 9100)]
    with pytest.raises(DatastoreError) as err:
        ds.commit(edits)
    assert "devices left degraded: nic-cx6" in err.value.message
    assert ds.devices.degraded == {"nic-cx6"}
    state = device_state(ds, "nic-cx6")
    assert state["oper-status"] == "DEGRADED"
    assert state["oper-status-reason"].startswith("reconcile failed: ")
    assert "the device broke" in state["oper-status-reason"]
    assert "oper-status-reason" not in device_state(ds, "tor-tf1")

    backend.made["nic-cx6"].breaks_after = None  # repaired: the next commit reconciles it
    ds.commit([Edit.update(MTU.format("nic-cx6/2"), 9100)])
    state = device_state(ds, "nic-cx6")
    assert state["oper-status"] == "UP" and "oper-status-reason" not in state
    held = ds.devices.drivers["nic-cx6"].applied()
    assert held == ds.running.intents["nic-cx6"]


# ----------------------------------------------------------------------- 3. at start


def start_with(
    engine: SchemaEngine, tmp_path: Path, setup: dict[str, Callable[[RecordingHardware], None]]
) -> tuple[Datastore, RecordingBackend]:
    backend = RecordingBackend(setup=setup)
    return build(engine, tmp_path / "state", FakeClock(), recording_registry(backend)), backend


def test_a_device_whose_reconcile_fails_at_start_is_degraded_not_up(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    ds, backend = start_with(engine, tmp_path, {"tor-tf1": lambda h: h.fail_port("tor-tf1/3")})
    try:
        state = device_state(ds, "tor-tf1")
        assert state["oper-status"] == "DEGRADED"
        assert "reconcile failed" in state["oper-status-reason"]
        assert "port tor-tf1/3" in state["oper-status-reason"]
        assert port_status(ds, "tor-tf1/3") == "NOT_PRESENT", "served as the hardware holds it"
        assert device_state(ds, "nic-cx6")["oper-status"] == "UP"

        backend.made["tor-tf1"].clear_faults()
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)])
        assert device_state(ds, "tor-tf1")["oper-status"] == "UP"
        assert port_status(ds, "tor-tf1/3") == "UP"
        assert ds.devices.drivers["tor-tf1"].applied() == ds.running.intents["tor-tf1"]
    finally:
        ds.stop()


def test_a_device_that_cannot_be_opened_is_down_with_the_reason_and_retried(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    ds, backend = start_with(engine, tmp_path, {"nic-cx6": lambda h: h.set_available(False)})
    try:
        state = device_state(ds, "nic-cx6")
        assert state["oper-status"] == "DOWN"
        assert "device nic-cx6 is unavailable" in state["oper-status-reason"]
        with pytest.raises(DatastoreError) as err:
            ds.commit([Edit.update(MTU.format("nic-cx6/1"), 9100)])
        assert err.value.kind is ErrorKind.UNAVAILABLE
        backend.made["nic-cx6"].set_available(True)
        ds.commit([Edit.update(MTU.format("nic-cx6/1"), 9100)])
        assert device_state(ds, "nic-cx6")["oper-status"] == "UP"
        assert ds.devices.drivers["nic-cx6"].applied() == ds.running.intents["nic-cx6"]
    finally:
        ds.stop()


def test_a_degraded_device_is_repaired_by_reconcile_and_undone_by_reconcile(
    ds: Datastore, backend: RecordingBackend
) -> None:
    ds.devices.mark_degraded(["nic-cx6"], "told so")
    assert device_state(ds, "nic-cx6")["oper-status-reason"] == "told so"
    before_tree, before_hw = ds.running.tree, hw(ds)
    backend.made["tor-tf1"].fail_operation(0)
    backend.log.clear()
    events: list[object] = []
    ds.devices.drivers["nic-cx6"].add_event_listener(events.append)
    edits = [Edit.update(MTU.format("nic-cx6/1"), 9100), Edit.update(MTU.format("tor-tf1/1"), 9100)]
    with pytest.raises(DatastoreError):
        ds.commit(edits)
    assert not [e for e in events if isinstance(e, DeviceEvent)], "the status flapped"
    assert [c[1] for c in backend.log if c[0] == "nic-cx6"] == [
        "read_config",  # the repair reads the hardware back ...
        "program",  # ... and programs the new intent
        "read_config",  # the undo reconciles to the running configuration again
        "program",
    ]
    assert ds.running.tree is before_tree and hw(ds) == before_hw
    state = device_state(ds, "nic-cx6")
    assert state["oper-status"] == "DEGRADED", "a failed commit leaves the mark as it was"
    assert state["oper-status-reason"] == "told so"
    ds.commit([Edit.update(MTU.format("nic-cx6/1"), 9100)])
    assert "oper-status-reason" not in device_state(ds, "nic-cx6"), "a kept change lifts it"
