"""ConfigStore in the JOURNAL mode: records, group commit, replay, torn tails, damage,
background checkpoints, pruning, write failures."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.journal import JournalUnavailable, JournalWriteFailed
from agent.datastore.journal_format import FRAME_HEAD, FRAME_MAGIC, read_segment
from agent.datastore.persist_bench import sample_tree
from agent.datastore.persistence import (
    CheckpointNotFoundError,
    CheckpointPolicy,
    ConfigStore,
    CorruptJournalError,
    PendingConfirm,
    PersistMode,
    StaleVersionError,
)

BASE = sample_tree(6, label="journal")


def with_mtu(tree: dict[str, Any], port: int, mtu: int) -> dict[str, Any]:
    """``tree`` with one port's mtu changed, sharing everything else (copy on write)."""
    ports = list(tree["edge-ports:ports"]["port"])
    entry = ports[port]
    ports[port] = {**entry, "config": {**entry["config"], "mtu": mtu}}
    return {**tree, "edge-ports:ports": {"port": ports}}


def trees(count: int) -> dict[int, dict[str, Any]]:
    """Version -> tree: version 1 is BASE, each later one changes one mtu."""
    made = {1: BASE}
    for version in range(2, count + 1):
        made[version] = with_mtu(made[version - 1], version % 6, 1000 + version)
    return made


def started(state_dir: Path, **kwargs: Any) -> ConfigStore:
    store = ConfigStore(state_dir, clock=FakeClock(), **kwargs)
    store.save(1, BASE, {"origin": "initial"})
    return store


def committed(store: ConfigStore, versions: range, made: dict[int, dict[str, Any]]) -> None:
    for version in versions:
        store.commit(version, made[version], {"n": version}).result(timeout=10)


def settled(store: ConfigStore) -> None:
    """Every commit durable, every checkpoint asked for written, rotations done."""
    store.sync()
    store.wait_for_checkpoints()
    store.sync()


def segments(store: ConfigStore) -> list[Path]:
    return sorted(store.journal_dir.glob("*.log"))


def reloaded(state_dir: Path, **kwargs: Any) -> Any:
    snapshot = ConfigStore(state_dir, **kwargs).load()
    assert snapshot is not None
    return snapshot


@pytest.fixture
def made() -> dict[int, dict[str, Any]]:
    return trees(40)


# -- records and replay -------------------------------------------------------------------


def test_commits_are_records_replayed_on_load(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    committed(store, range(2, 6), made)

    snapshot = reloaded(tmp_path)

    assert (snapshot.version, snapshot.replayed, snapshot.checkpoint.version) == (5, 4, 1)
    assert snapshot.tree == made[5] and snapshot.meta == {"n": 5}
    assert json.loads(store.current_path.read_bytes().split(b"\n")[1]) == BASE  # not rewritten
    (segment,) = segments(store)
    content = read_segment(segment.read_bytes())
    assert [r.version for r in content.records] == [2, 3, 4, 5]
    assert content.records[0].delta == [
        ["=", ["edge-ports:ports", "port", 2, "config", "mtu"], 1002]
    ]
    assert all(segment.read_bytes()[f.offset :].startswith(FRAME_MAGIC) for f in content.frames)


def test_a_commit_must_follow_the_current_version(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    before = segments(store)

    for version in (1, 3):
        with pytest.raises(StaleVersionError, match="does not follow version 1"):
            store.commit(version, made[2])
    with pytest.raises((TypeError, ValueError)):
        store.commit(2, {**made[2], "x": object()})

    assert segments(store) == before and reloaded(tmp_path).version == 1


def test_no_configuration_yet_refuses_commits(tmp_path: Path, made: Any) -> None:
    store = ConfigStore(tmp_path)
    assert store.load() is None
    with pytest.raises(Exception, match="load\\(\\) or save\\(\\) first"):
        store.commit(1, made[1])


def test_load_continues_the_last_segment(tmp_path: Path, made: Any) -> None:
    committed(started(tmp_path), range(2, 4), made)
    store = ConfigStore(tmp_path)
    store.load()
    committed(store, range(4, 6), made)

    assert len(segments(store)) == 1
    assert reloaded(tmp_path).tree == made[5]


def test_load_version_rebuilds_any_kept_version(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    committed(store, range(2, 9), made)

    for version in (1, 4, 8):
        assert store.load_version(version).tree == made[version]
    with pytest.raises(CheckpointNotFoundError, match="version 9"):
        store.load_version(9)


def test_restore_of_a_journal_version_saves_it_whole(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    committed(store, range(2, 6), made)

    header = store.restore_checkpoint(3)

    assert (header.version, header.meta) == (6, {"restored_from": 3})
    snapshot = reloaded(tmp_path)
    assert (snapshot.version, snapshot.tree, snapshot.replayed) == (6, made[3], 0)
    committed(store, range(7, 8), {7: made[7]})
    assert reloaded(tmp_path).tree == made[7]


# -- group commit ---------------------------------------------------------------------------


def test_records_queued_during_a_sync_share_the_next_one(
    tmp_path: Path, made: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = started(tmp_path)
    real_sync = os.fdatasync
    first_sync_started, release = threading.Event(), threading.Event()
    syncs: list[int] = []

    def slow_first_sync(fd: int) -> None:
        syncs.append(fd)
        if len(syncs) == 1:
            first_sync_started.set()
            release.wait(10)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", slow_first_sync)
    durable = [store.commit(2, made[2])]
    assert first_sync_started.wait(10)
    durable += [store.commit(v, made[v]) for v in range(3, 11)]  # while version 2 syncs
    assert not any(f.done() for f in durable)
    release.set()

    assert [f.result(timeout=10) for f in durable] == list(range(2, 11))
    frames = read_segment(segments(store)[0].read_bytes()).frames
    assert [[r.version for r in f.records] for f in frames] == [[2], list(range(3, 11))]
    assert len(syncs) == 2
    assert reloaded(tmp_path).tree == made[10]


def test_on_durable_runs_in_version_order_before_the_future_resolves(
    tmp_path: Path, made: Any
) -> None:
    store = started(tmp_path)
    seen: list[tuple[int, bool]] = []
    futures: list[Any] = []
    for version in range(2, 12):
        futures.append(
            store.commit(
                version,
                made[version],
                on_durable=lambda v=version: seen.append((v, futures[v - 2].done())),
            )
        )
    store.sync()
    assert seen == [(v, False) for v in range(2, 12)]


# -- torn tails and damage ------------------------------------------------------------------


def test_every_torn_tail_is_dropped_and_the_journal_continues(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    committed(store, range(2, 5), made)
    store.close()
    (segment,) = segments(store)
    data = segment.read_bytes()
    last = read_segment(data).frames[-1]
    for length in range(last.offset, last.end):
        segment.write_bytes(data[:length])
        snapshot = reloaded(tmp_path)
        assert (snapshot.version, snapshot.tree) == (3, made[3]), length
        assert segment.stat().st_size == last.offset  # the torn bytes are cut off
    store = ConfigStore(tmp_path)
    store.load()
    committed(store, range(4, 6), made)
    assert reloaded(tmp_path).tree == made[5]


def test_zeros_after_the_last_frame_are_a_torn_tail(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    committed(store, range(2, 4), made)
    (segment,) = segments(store)
    size = segment.stat().st_size
    with segment.open("ab") as handle:
        handle.write(b"\0" * 4096)  # a file extended without its data, as after power loss

    assert reloaded(tmp_path).version == 3 and segment.stat().st_size == size


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x04
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["payload", "length", "marker", "checksum"])
def test_damage_before_a_valid_frame_names_the_segment_and_byte(
    tmp_path: Path, made: Any, where: str
) -> None:
    store = started(tmp_path)
    committed(store, range(2, 5), made)
    (segment,) = segments(store)
    frame = read_segment(segment.read_bytes()).frames[1]  # version 3, valid ones follow
    offset = {"marker": 1, "length": 6, "checksum": 20, "payload": FRAME_HEAD.size + 5}[where]
    _flip(segment, frame.offset + offset)
    before = segment.read_bytes()

    with pytest.raises(CorruptJournalError) as caught:
        ConfigStore(tmp_path).load()

    assert caught.value.path == segment and caught.value.offset == frame.offset
    message = str(caught.value)
    assert str(segment) in message and f"at byte {frame.offset}" in message
    assert "a valid frame follows" in message and "restore-checkpoint" in message
    assert segment.read_bytes() == before  # nothing cut, nothing repaired


def test_a_missing_segment_is_a_gap_not_a_shorter_history(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path, policy=CheckpointPolicy(every_records=3), keep=5)
    committed(store, range(2, 12), made)
    settled(store)
    store.close()
    running = store.current_path.read_bytes()
    first, second, *_ = segments(store)
    second.unlink()
    (tmp_path / "running.json").write_bytes(
        store.checkpoint_path(1).read_bytes()
    )  # back to the first checkpoint: the journal must bridge 1..11

    with pytest.raises(CorruptJournalError, match="starts after version"):
        ConfigStore(tmp_path).load()
    assert first.exists() and running


def test_a_record_that_does_not_apply_is_damage(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path)
    committed(store, range(2, 4), made)
    store.close()
    bad = {**made[3], "edge-ports:ports": {"port": []}}
    # A checkpoint whose tree is not the one the records were made on.
    ConfigStore(tmp_path / "other").save(1, bad)
    store.current_path.write_bytes((tmp_path / "other" / "running.json").read_bytes())

    with pytest.raises(CorruptJournalError, match="record of version 2 does not apply"):
        ConfigStore(tmp_path).load()


# -- checkpoints in the background, pruning -------------------------------------------------


def test_checkpoints_follow_the_policy_and_old_segments_go(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path, policy=CheckpointPolicy(every_records=4), keep=2)
    committed(store, range(2, 20), made)
    settled(store)

    snapshot = reloaded(tmp_path)
    assert snapshot.tree == made[19] and snapshot.replayed < 4
    kept = sorted(int(p.stem) for p in store.checkpoint_dir.glob("*.json"))
    assert len(kept) == 2 and kept[-1] == snapshot.checkpoint.version
    bases = [int(p.stem) for p in segments(store)]
    assert min(bases) >= kept[0]  # nothing older than the oldest checkpoint is kept
    for version in range(kept[0], 20):
        assert store.load_version(version).tree == made[version]


def test_bytes_trigger_a_checkpoint_too(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path, policy=CheckpointPolicy(every_records=10_000, every_bytes=600))
    committed(store, range(2, 8), made)
    settled(store)
    assert reloaded(tmp_path).checkpoint.version > 1


def test_commits_go_on_while_a_checkpoint_is_written(
    tmp_path: Path, made: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = started(tmp_path, policy=CheckpointPolicy(every_records=2))
    writing, release = threading.Event(), threading.Event()
    write = store._write_checkpoint

    def held_checkpoint(head: Any) -> None:
        writing.set()
        release.wait(10)
        write(head)

    monkeypatch.setattr(store, "_checkpoints", type(store._checkpoints)(held_checkpoint))
    committed(store, range(2, 4), made)
    assert writing.wait(10)
    committed(store, range(4, 12), made)  # durable while the checkpoint is held
    assert reloaded(tmp_path).tree == made[11]
    release.set()
    settled(store)
    assert reloaded(tmp_path).tree == made[11]


def test_a_load_that_replayed_much_asks_for_a_checkpoint(tmp_path: Path, made: Any) -> None:
    committed(started(tmp_path), range(2, 12), made)
    store = ConfigStore(tmp_path, policy=CheckpointPolicy(every_records=5))
    assert store.load() is not None
    committed(store, range(12, 13), made)
    store.wait_for_checkpoints()
    snapshot = reloaded(tmp_path)
    assert snapshot.checkpoint.version == 11 and snapshot.tree == made[12]


def test_the_rollback_target_stays_loadable_while_pending(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path, policy=CheckpointPolicy(every_records=2), keep=1)
    committed(store, range(2, 5), made)
    record = PendingConfirm("c5", version=5, previous_version=4, deadline_wall_ns=1)
    store.commit(5, made[5], pending=record).result(timeout=10)
    committed(store, range(6, 16), made)
    settled(store)

    restarted = ConfigStore(tmp_path)
    snapshot = restarted.load()
    assert snapshot is not None and restarted.resolve_pending(snapshot.version) == record
    assert restarted.load_version(4).tree == made[4]


# -- write failures -------------------------------------------------------------------------


def test_a_failed_sync_fails_its_records_and_stops_the_journal(
    tmp_path: Path, made: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = started(tmp_path)
    committed(store, range(2, 4), made)
    real_sync = os.fdatasync

    def failing_sync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing_sync)
    record = PendingConfirm("c4", version=4, previous_version=3, deadline_wall_ns=1)
    lost = store.commit(4, made[4], pending=record)
    with pytest.raises(JournalWriteFailed, match="Input/output error"):
        lost.result(timeout=10)
    with pytest.raises(JournalUnavailable, match="earlier error"):
        store.commit(5, made[5])
    monkeypatch.setattr(os, "fdatasync", real_sync)

    assert store.recover() == 3
    assert store.failure is None and not store.pending_path.exists()
    committed(store, range(4, 6), {4: made[5], 5: made[6]})
    snapshot = reloaded(tmp_path)
    assert (snapshot.version, snapshot.tree) == (5, made[6])


# -- modes and stamps -----------------------------------------------------------------------


def test_the_rewrite_mode_writes_the_whole_tree_per_commit(tmp_path: Path, made: Any) -> None:
    store = started(tmp_path, mode=PersistMode.REWRITE)
    committed(store, range(2, 5), made)

    assert not store.journal_dir.exists()
    snapshot = reloaded(tmp_path)
    assert (snapshot.version, snapshot.checkpoint.version, snapshot.tree) == (4, 4, made[4])


def test_switching_modes_keeps_every_commit(tmp_path: Path, made: Any) -> None:
    committed(started(tmp_path), range(2, 5), made)
    rewrite = ConfigStore(tmp_path, mode=PersistMode.REWRITE)
    rewrite.load()
    committed(rewrite, range(5, 7), made)
    journal = ConfigStore(tmp_path)
    journal.load()
    committed(journal, range(7, 9), made)

    assert reloaded(tmp_path).tree == made[8]


def test_the_snapshot_names_the_stamp_every_part_was_written_under(
    tmp_path: Path, made: Any
) -> None:
    store = ConfigStore(tmp_path)
    store.load(validated_by="schema-a")
    store.save(1, BASE)
    committed(store, range(2, 4), made)
    assert reloaded(tmp_path).validated_by == "schema-a"

    store = ConfigStore(tmp_path)
    store.load(validated_by="schema-b")
    committed(store, range(4, 5), made)  # a segment written under another stamp
    assert len(segments(store)) == 2
    assert reloaded(tmp_path).validated_by == ""
