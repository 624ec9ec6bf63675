"""The service-core and datastore pieces the NETCONF writes stand on: validation without
side effects, follow-up and confirming commits, validate-only writes, the candidate."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.northbound.set import _code_name
from agent.schema.engine import SchemaEngine
from agent.security.audit import AuditLog
from agent.security.users import Role, User
from agent.service.candidate import Candidate
from agent.service.errors import Kind, ServiceError
from agent.service.locks import RUNNING, LockHolder
from agent.service.views import FULL_VIEW
from agent.service.writes import CommitAction, CommitRequest, WriteRequest, WriteService
from tests.datastore.harness import build, hw

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"
MTU3 = "/ports/port[name=tor-tf1/3]/config/mtu"
NS = 1_000_000_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ds(engine: SchemaEngine, tmp_path: Path, clock: FakeClock) -> Iterator[Datastore]:
    made = build(engine, tmp_path / "state", clock)
    yield made
    made.stop()


def mtu(ds: Datastore, port: str = "tor-tf1/1") -> Any:
    return ds.ops.get(ds.running.tree, Edit.update(f"/ports/port[name={port}]/config/mtu", 0).path)


def test_validate_checks_everything_and_applies_nothing(ds: Datastore) -> None:
    running, before = ds.running, hw(ds)
    changes = ds.validate([Edit.update(MTU, 1600)])
    assert changes and ds.running is running and hw(ds) == before
    with pytest.raises(DatastoreError) as refused:
        ds.validate([Edit.update(MTU, 16000)])
    assert refused.value.kind is ErrorKind.HARDWARE and refused.value.op_index == 0
    with pytest.raises(DatastoreError) as invalid:
        ds.validate([Edit.update("/ports/port[name=tor-tf1/1]/config/device", "nowhere")])
    assert invalid.value.kind is ErrorKind.INVALID
    assert ds.validate([Edit.update(MTU, 9000)]) == ()
    assert ds.running is running and hw(ds) == before


def test_validate_of_a_new_device_opens_nothing_for_good(ds: Datastore) -> None:
    drivers = dict(ds.devices.drivers)
    device = {
        "name": "extra",
        "config": {"name": "extra", "chipset": "edge-types:tofino1", "backend": "mock"},
    }
    ds.validate([Edit.update("/platform/devices/device[name=extra]", device)])
    assert dict(ds.devices.drivers) == drivers


def test_a_follow_up_commit_keeps_the_rollback_target(ds: Datastore, clock: FakeClock) -> None:
    first = ds.running.version
    ds.commit([Edit.update(MTU, 1600)], confirm=("a", 10 * NS))
    with pytest.raises(DatastoreError) as refused:
        ds.commit([Edit.update(MTU3, 1700)])
    assert refused.value.kind is ErrorKind.CONFLICT
    ds.commit([Edit.update(MTU3, 1700)], confirm=("b", 30 * NS), follows="a")
    pending = ds.pending
    assert pending is not None and pending.commit_id == "b"
    assert pending.previous_version == first
    clock.advance(31)
    ds.expire_pending()
    assert mtu(ds) == 9000 and mtu(ds, "tor-tf1/3") == 9000


def test_a_follow_up_without_changes_moves_only_the_deadline(
    ds: Datastore, clock: FakeClock
) -> None:
    ds.commit([Edit.update(MTU, 1600)], confirm=("a", 10 * NS))
    version = ds.running.version
    result = ds.commit([], confirm=("a", 60 * NS), follows="a")
    assert result.changes == () and ds.running.version == version
    clock.advance(30)
    assert ds.expire_pending() is None and mtu(ds) == 1600


def test_a_confirming_commit(ds: Datastore) -> None:
    ds.commit([Edit.update(MTU, 1600)], confirm=("a", 10 * NS))
    ds.commit([Edit.update(MTU3, 1700)], follows="a")
    assert ds.pending is None and mtu(ds, "tor-tf1/3") == 1700
    with pytest.raises(DatastoreError) as refused:
        ds.commit([Edit.update(MTU3, 1800)], follows="a")
    assert refused.value.kind is ErrorKind.CONFLICT  # nothing pending any more


def test_a_wrong_follow_up_id(ds: Datastore) -> None:
    ds.commit([Edit.update(MTU, 1600)], confirm=("a", 10 * NS))
    with pytest.raises(DatastoreError):
        ds.commit([Edit.update(MTU3, 1700)], follows="b")
    assert ds.pending is not None and ds.pending.commit_id == "a"


def write_service(ds: Datastore, tmp_path: Path, clock: FakeClock) -> WriteService:
    return WriteService(ds, AuditLog.in_state_dir(tmp_path / "audit-dir", clock=clock), clock)


def request(*edits: Edit, **fields: Any) -> WriteRequest:
    return WriteRequest(User("admin", Role.ADMIN), FULL_VIEW, edits, (), **fields)


def test_validate_only_writes(ds: Datastore, tmp_path: Path, clock: FakeClock) -> None:
    writes = write_service(ds, tmp_path, clock)
    writes.locks.lock(RUNNING, LockHolder("netconf:9", "admin", "NETCONF session 9"))
    running = ds.running
    outcome = asyncio.run(
        writes.write(request(Edit.update(MTU, 1600), validate_only=True), _code_name)
    )
    assert outcome.version is None and ds.running is running
    with pytest.raises(ServiceError) as refused:
        asyncio.run(writes.write(request(Edit.update(MTU, 16000), validate_only=True), _code_name))
    assert refused.value.kind is Kind.ABORTED and refused.value.op_index == 0
    with pytest.raises(ServiceError) as locked:
        asyncio.run(writes.write(request(Edit.update(MTU, 1600)), _code_name))
    assert locked.value.kind is Kind.LOCKED


def test_confirm_with_edits_commits_and_confirms(
    ds: Datastore, tmp_path: Path, clock: FakeClock
) -> None:
    writes = write_service(ds, tmp_path, clock)
    commit = CommitRequest("a", CommitAction.COMMIT, 10 * NS)
    asyncio.run(writes.write(request(Edit.update(MTU, 1600), commit=commit), _code_name))
    confirm = CommitRequest("a", CommitAction.CONFIRM)
    asyncio.run(writes.write(request(Edit.update(MTU3, 1700), commit=confirm), _code_name))
    assert ds.pending is None and mtu(ds) == 1600 and mtu(ds, "tor-tf1/3") == 1700


def test_the_candidate_follows_running_until_changed(ds: Datastore) -> None:
    candidate = Candidate(ds, ds.schema.nav)
    assert candidate.tree is ds.running.tree and not candidate.changed
    changed = ds.ops.update(ds.running.tree, Edit.update(MTU, 1600).path, 1600)
    candidate.set(changed, "netconf:1")
    assert candidate.changed and candidate.changed_by == {"netconf:1"}
    ds.commit([Edit.update(MTU3, 1700)])
    assert candidate.tree is changed  # a change of running does not touch it
    candidate.set(ds.running.tree, "netconf:2")  # equal to running: unchanged again
    assert not candidate.changed and candidate.changed_by == frozenset()
    candidate.set(changed, "netconf:1")
    ds.commit([Edit.replace("/", changed)])
    candidate.settle()
    assert not candidate.changed and candidate.tree is ds.running.tree
