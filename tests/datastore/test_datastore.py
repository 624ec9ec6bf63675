"""The transactional datastore over real mock drivers: all or nothing, persisted, confirmed."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.persistence import ConfigStore
from agent.mapping.intents import intents_from_tree
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.datastore.harness import applied, build, fresh_hw, hw
from tests.datastore.test_properties import DEVICES as PROPERTY_DEVICES
from tests.datastore.test_properties import EDITS
from tests.datastore.test_properties import PORTS as PROPERTY_PORTS

MTU = "/ports/port[name={}]/config/mtu"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ds(engine: SchemaEngine, tmp_path: Path, clock: FakeClock) -> Datastore:
    datastore = build(engine, tmp_path / "state", clock)
    yield datastore
    datastore.stop()


def mtu(datastore: Datastore, port: str) -> int:
    return datastore.ops.get(datastore.running.tree, DataPath.parse(MTU.format(port)))


def test_start_programs_every_device(ds: Datastore, clock: FakeClock) -> None:
    assert ds.running.version == 1
    assert len(ds.devices.drivers) == 9
    assert hw(ds) == fresh_hw(ds, clock)
    assert applied(ds, "tor-tf1").ports["tor-tf1/1"].mtu == 9000


def test_commit_changes_config_hardware_disk_and_feed(ds: Datastore, tmp_path: Path) -> None:
    events = []
    ds.subscribe(events.append)
    result = ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)])
    assert result.version == 2 and mtu(ds, "tor-tf1/1") == 9100
    assert applied(ds, "tor-tf1").ports["tor-tf1/1"].mtu == 9100
    saved = ConfigStore(tmp_path / "state").load()
    assert saved is not None and saved.version == 2
    assert [(str(c.path), c.value) for c in events[0].changes] == [(MTU.format("tor-tf1/1"), 9100)]


def test_a_commit_that_changes_nothing_keeps_the_version(ds: Datastore) -> None:
    result = ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9000)])
    assert result.version == 1 and result.changes == ()


def test_schema_refusal_names_the_operation_and_leaves_everything(ds: Datastore) -> None:
    before_tree, before_hw = ds.running.tree, hw(ds)
    with pytest.raises(DatastoreError) as err:
        ds.commit(
            [
                Edit.update(MTU.format("nic-cx6/1"), 9000),
                Edit.update(MTU.format("tor-tf1/1"), 20000),
            ]
        )
    assert err.value.kind is ErrorKind.INVALID and err.value.op_index == 1
    assert "/ports/port[name=tor-tf1/1]/config/mtu" in err.value.message
    assert ds.running.tree is before_tree and hw(ds) == before_hw


def test_driver_refusal_names_the_operation_and_leaves_everything(ds: Datastore) -> None:
    before_tree, before_hw = ds.running.tree, hw(ds)
    with pytest.raises(DatastoreError) as err:
        ds.commit(
            [
                Edit.update(MTU.format("nic-cx6/1"), 9100),
                Edit.update("/ports/port[name=tor-tf1/1]/config/speed", "400G"),
            ]
        )
    assert err.value.kind is ErrorKind.HARDWARE and err.value.op_index == 1
    assert "tor-tf1/1" in err.value.message and "400G" in err.value.message
    assert ds.running.tree is before_tree and hw(ds) == before_hw
    assert mtu(ds, "nic-cx6/1") == 9000


def test_fault_half_way_undoes_every_device(ds: Datastore) -> None:
    before_tree, before_hw = ds.running.tree, hw(ds)
    ds.devices.drivers["tor-tf1"].backend.fail_operation(0)  # type: ignore[attr-defined]
    edits = [Edit.update(MTU.format(p), 9100) for p in ("dpu-bf2/1", "nic-cx6/1", "tor-tf1/1")]
    with pytest.raises(DatastoreError) as err:
        ds.commit(edits)
    assert err.value.kind is ErrorKind.HARDWARE and "nothing was applied" in err.value.message
    assert ds.running.tree is before_tree and hw(ds) == before_hw


def test_storage_failure_undoes_the_hardware(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    ds = build(engine, tmp_path / "s", clock)
    before_hw = hw(ds)

    def broken_commit(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    ds._store.commit = broken_commit  # type: ignore[method-assign]
    with pytest.raises(DatastoreError) as err:
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)])
    assert err.value.kind is ErrorKind.STORAGE and "No space" in err.value.message
    assert hw(ds) == before_hw and mtu(ds, "tor-tf1/1") == 9000


def test_new_and_removed_devices_get_and_lose_drivers(ds: Datastore, clock: FakeClock) -> None:
    device = {"name": "nic-new", "config": {"name": "nic-new", "chipset": "edge-types:e810"}}
    port = {
        "name": "nic-new/1",
        "config": {"name": "nic-new/1", "device": "nic-new", "index": 1, "speed": "25G"},
    }
    ds.commit(
        [
            Edit.update("/platform/devices/device[name=nic-new]", device),
            Edit.update("/ports/port[name=nic-new/1]", port),
        ]
    )
    assert "nic-new" in ds.devices.drivers
    assert applied(ds, "nic-new").ports["nic-new/1"].speed_bps == 25_000_000_000
    ds.commit(
        [
            Edit.delete("/ports/port[name=nic-new/1]"),
            Edit.delete("/platform/devices/device[name=nic-new]"),
        ]
    )
    assert "nic-new" not in ds.devices.drivers
    assert hw(ds) == fresh_hw(ds, clock)


def test_deleting_a_referenced_port_is_refused(ds: Datastore) -> None:
    with pytest.raises(DatastoreError) as err:
        ds.commit([Edit.delete("/ports/port[name=nic-cx6/1]")])
    assert err.value.kind is ErrorKind.INVALID and "nic-cx6/1" in err.value.message


class TestCommitConfirmed:
    def test_not_confirmed_is_reverted_on_time(self, ds: Datastore, clock: FakeClock) -> None:
        before_tree, before_hw = ds.running.tree, hw(ds)
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)], confirm=("c1", 30 * 10**9))
        assert ds.pending is not None and mtu(ds, "tor-tf1/1") == 9100
        clock.advance(29)
        assert ds.expire_pending() is None and mtu(ds, "tor-tf1/1") == 9100
        clock.advance(2)
        result = ds.expire_pending()
        assert result is not None and result.version == 3
        assert ds.running.tree == before_tree and hw(ds) == before_hw and ds.pending is None

    def test_confirmed_is_kept(self, ds: Datastore, clock: FakeClock) -> None:
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)], confirm=("c1", 30 * 10**9))
        ds.confirm_commit("c1")
        clock.advance(60)
        assert ds.expire_pending() is None and mtu(ds, "tor-tf1/1") == 9100

    def test_cancel_reverts_at_once(self, ds: Datastore) -> None:
        before = ds.running.tree
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)], confirm=("c1", 30 * 10**9))
        ds.cancel_commit("c1")
        assert ds.running.tree == before and ds.pending is None

    def test_only_one_pending_and_no_plain_sets_meanwhile(self, ds: Datastore) -> None:
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)], confirm=("c1", 10**9))
        for confirm in (("c2", 10**9), None):
            with pytest.raises(DatastoreError) as err:
                ds.commit([Edit.update(MTU.format("nic-cx6/1"), 9100)], confirm=confirm)
            assert err.value.kind is ErrorKind.CONFLICT
        with pytest.raises(DatastoreError) as err:
            ds.confirm_commit("other")
        assert err.value.kind is ErrorKind.INVALID
        with pytest.raises(DatastoreError) as err:
            ds.set_rollback_timeout("c1", 0)
        assert err.value.kind is ErrorKind.INVALID

    def test_confirm_without_pending_is_a_conflict(self, ds: Datastore) -> None:
        with pytest.raises(DatastoreError) as err:
            ds.cancel_commit("c1")
        assert err.value.kind is ErrorKind.CONFLICT

    def test_set_rollback_timeout_moves_the_deadline(self, ds: Datastore, clock: FakeClock) -> None:
        ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)], confirm=("c1", 10 * 10**9))
        clock.advance(5)
        ds.set_rollback_timeout("c1", 60 * 10**9)
        clock.advance(30)
        assert ds.expire_pending() is None
        clock.advance(31)
        assert ds.expire_pending() is not None and mtu(ds, "tor-tf1/1") == 9000

    def test_restart_while_pending_comes_back_on_the_old_version(
        self, engine: SchemaEngine, tmp_path: Path, clock: FakeClock
    ) -> None:
        first = build(engine, tmp_path / "s", clock)
        before = first.running.tree
        first.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)], confirm=("c1", 600 * 10**9))
        first.stop()
        second = build(engine, tmp_path / "s", clock)
        assert second.running.tree == before and second.pending is None
        assert applied(second, "tor-tf1").ports["tor-tf1/1"].mtu == 9000
        second.stop()
        third = build(engine, tmp_path / "s", clock)  # and it stays there
        assert third.running.tree == before
        third.stop()


def test_restart_keeps_the_last_commit(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    first = build(engine, tmp_path / "s", clock)
    first.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)])
    first.stop()
    second = build(engine, tmp_path / "s", clock, site={})  # the initial site is not used again
    assert second.running.version == 2 and mtu(second, "tor-tf1/1") == 9100
    second.stop()


def test_corrupt_state_is_refused_not_replaced(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    first = build(engine, tmp_path / "s", clock)
    first.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)])
    first.stop()
    running = tmp_path / "s" / "running.json"
    running.write_bytes(running.read_bytes()[:-40])
    with pytest.raises(Exception) as err:
        build(engine, tmp_path / "s", clock)
    assert "running.json" in str(err.value) and "checkpoint" in str(err.value)


MOVES = st.builds(
    lambda port, device, index: Edit.update(
        f"/ports/port[name={port}]/config", {"device": device, "index": index}
    ),
    st.sampled_from(PROPERTY_PORTS),
    st.sampled_from(PROPERTY_DEVICES),
    st.integers(20, 24),
)
WHOLE = st.sampled_from([Edit.delete("/slices"), Edit.delete("/slices/slice")])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(commits=st.lists(st.lists(st.one_of(EDITS, MOVES, WHOLE), min_size=1, max_size=4)))
def test_running_intents_are_those_of_the_running_tree(
    engine: SchemaEngine, commits: list[list[Edit]]
) -> None:
    """Commits derive the intents from the entries they touch; they must equal the
    intents built from the whole running tree, whatever was committed or refused."""
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        ds = build(engine, Path(tmp) / "state", clock)
        try:
            for edits in commits:
                with contextlib.suppress(DatastoreError):
                    ds.commit(edits)
                built = intents_from_tree(ds.running.tree, ds.model)
                assert dict(ds.running.intents) == dict(built)
                assert hw(ds) == fresh_hw(ds, clock)
        finally:
            ds.stop()


def test_a_commit_leaves_the_intents_of_untouched_devices_as_they_were(ds: Datastore) -> None:
    """Planning skips a device whose intent is the same object, so only the touched
    device's driver is asked to validate and apply anything."""
    before = ds.running.intents
    others_hw = {name: snap for name, snap in hw(ds).items() if name != "tor-tf1"}
    ds.commit([Edit.update(MTU.format("tor-tf1/1"), 9100)])
    after = ds.running.intents
    assert after["tor-tf1"] is not before["tor-tf1"]
    assert after["tor-tf1"].ports["tor-tf1/1"].mtu == 9100
    assert all(after[name] is before[name] for name in before if name != "tor-tf1")
    assert {name: snap for name, snap in hw(ds).items() if name != "tor-tf1"} == others_hw
    ds.commit([Edit.update("/ports/port[name=tor-tf1/1]/config/description", "uplink")])
    assert ds.running.intents["tor-tf1"] is after["tor-tf1"], "no driver value changed"
