"""The datastore on the journal: concurrent commits share a sync, each is published and
answered only once durable, a failed sync takes config and hardware back to the last
durable commit; a start trusts only trees saved under its own schema stamp."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.changes import CommitEvent
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.journal_format import read_segment
from agent.datastore.persist_format import validation_stamp
from agent.datastore.persistence import ConfigStore
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.datastore.harness import build, default_site, fresh_hw, hw

MTU = "/ports/port[name={}]/config/mtu"
PORTS = [p["name"] for p in default_site()["edge-ports:ports"]["port"]][:8]


class HeldSync:
    """fdatasync that blocks the first call until ``release``; counts every call."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self._real = os.fdatasync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            self.release.wait(10)
        self._real(fd)


def mtu(ds: Datastore, port: str) -> Any:
    return ds.ops.get(ds.running.tree, DataPath.parse(MTU.format(port)))


def frames(state_dir: Path) -> list[list[int]]:
    found = []
    for segment in sorted((state_dir / "journal").glob("*.log")):
        content = read_segment(segment.read_bytes())
        found += [[r.version for r in f.records] for f in content.frames]
    return found


def test_commits_during_a_sync_share_the_next_and_are_published_once_durable(
    ds: Datastore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[CommitEvent] = []
    ds.subscribe(events.append)
    held = HeldSync()
    monkeypatch.setattr(os, "fdatasync", held)

    first = ds.commit([Edit.update(MTU.format(PORTS[0]), 9100)], wait=False)
    assert held.started.wait(10)
    later = [
        ds.commit([Edit.update(MTU.format(port), 9100 + n)], wait=False)
        for n, port in enumerate(PORTS[1:], start=1)
    ]
    # Applied and running, not yet durable: nothing published, nothing answered.
    assert ds.running.version == 9 and mtu(ds, PORTS[7]) == 9107
    assert events == [] and not any(r.durable and r.durable.done() for r in [first, *later])
    held.release.set()

    results = [r.durable.result(timeout=10) for r in [first, *later] if r.durable]
    assert results == list(range(2, 10))
    assert [e.version for e in events] == list(range(2, 10))
    assert frames(tmp_path / "state") == [[2], list(range(3, 10))]
    assert held.calls == 2


def test_concurrent_writers_each_get_their_own_version(
    engine: SchemaEngine, ds: Datastore, tmp_path: Path, clock: FakeClock
) -> None:
    versions: list[int] = []

    def writer(port: str) -> None:
        for n in range(10):
            versions.append(ds.commit([Edit.update(MTU.format(port), 9101 + n)]).version)

    threads = [threading.Thread(target=writer, args=(port,)) for port in PORTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(versions) == list(range(2, 82))
    assert [v for frame in frames(tmp_path / "state") for v in frame] == list(range(2, 82))
    ds.stop()
    again = build(engine, tmp_path / "state", clock, site={})
    try:
        assert again.running.version == 81
        assert all(mtu(again, port) == 9110 for port in PORTS)
        assert hw(again) == fresh_hw(again, clock)
    finally:
        again.stop()


def test_a_failed_sync_takes_config_and_hardware_back_to_the_last_durable_commit(
    engine: SchemaEngine,
    ds: Datastore,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ds.commit([Edit.update(MTU.format(PORTS[0]), 9100)])
    before_tree, before_hw = ds.running.tree, hw(ds)
    events: list[CommitEvent] = []
    ds.subscribe(events.append)
    real = os.fdatasync
    held = threading.Event()

    def failing(fd: int) -> None:
        held.wait(10)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    staged = [ds.commit([Edit.update(MTU.format(port), 9150)], wait=False) for port in PORTS[1:4]]
    assert hw(ds) != before_hw  # applied, waiting for the sync
    held.set()
    for result in staged:
        assert result.durable is not None
        with pytest.raises(DatastoreError) as caught:
            result.durable.result(timeout=10)
        assert caught.value.kind is ErrorKind.STORAGE
        assert "Input/output error" in caught.value.message
    monkeypatch.setattr(os, "fdatasync", real)

    assert ds.running.version == 2 and ds.running.tree is before_tree
    assert hw(ds) == before_hw and events == []
    assert ds.commit([Edit.update(MTU.format(PORTS[5]), 9190)]).version == 3
    ds.stop()
    again = build(engine, tmp_path / "state", clock, site={})
    try:
        assert again.running.version == 3 and mtu(again, PORTS[1]) != 9150
        assert mtu(again, PORTS[5]) == 9190 and hw(again) == fresh_hw(again, clock)
    finally:
        again.stop()


def test_a_commit_refused_by_a_stopped_journal_is_undone(
    ds: Datastore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_hw = hw(ds)

    def failing(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdatasync", failing)
    with pytest.raises(DatastoreError, match="No space left") as caught:
        ds.commit([Edit.update(MTU.format(PORTS[0]), 9100)])
    assert caught.value.kind is ErrorKind.STORAGE
    with pytest.raises(DatastoreError, match="No space left"):  # the journal cannot recover
        ds.commit([Edit.update(MTU.format(PORTS[1]), 9100)])
    assert ds.running.version == 1 and hw(ds) == before_hw


def _saved_invalid_site(state_dir: Path, stamp: str) -> None:
    """A state directory whose tree breaks a schema rule (a description too long)."""
    site = default_site()
    site["edge-ports:ports"]["port"][0]["config"]["description"] = "x" * 300
    store = ConfigStore(state_dir)
    store.load(validated_by=stamp)
    store.save(1, site)


def test_a_start_validates_what_another_schema_saved(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    _saved_invalid_site(tmp_path / "state", "another schema")
    with pytest.raises(DatastoreError, match="is not valid"):
        build(engine, tmp_path / "state", clock, site={})


def test_a_start_trusts_what_its_own_schema_validated(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    # Only the agent writes its state directory, and it saves nothing it did not
    # validate; the checksums prove the bytes are the ones it wrote.
    _saved_invalid_site(tmp_path / "state", validation_stamp(engine.modules))
    ds = build(engine, tmp_path / "state", clock, site={})
    ds.stop()


def test_a_start_under_a_new_stamp_checkpoints_at_once(
    engine: SchemaEngine, tmp_path: Path, clock: FakeClock
) -> None:
    state = tmp_path / "state"
    store = ConfigStore(state)
    store.load(validated_by="older agent")
    store.save(1, default_site())
    ds = build(engine, state, clock, site={})
    ds.stop()
    snapshot = ConfigStore(state).load()
    assert snapshot is not None and snapshot.validated_by == validation_stamp(engine.modules)
