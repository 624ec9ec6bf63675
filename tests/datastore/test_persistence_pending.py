"""ConfigStore: the pending commit-confirmed record survives restarts and pins its target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.datastore.persist_bench import sample_tree
from agent.datastore.persistence import (
    CheckpointNotFoundError,
    ConfigStore,
    CorruptFileError,
    PendingConfirm,
)


def tree(generation: int) -> dict[str, Any]:
    return sample_tree(4, generation=generation, label="pending")


def saved(state_dir: Path, versions: range, **kwargs: Any) -> ConfigStore:
    store = ConfigStore(state_dir, **kwargs)
    for version in versions:
        store.save(version, tree(version))
    return store


def checkpoint_versions(store: ConfigStore) -> list[int]:
    return sorted(int(p.stem) for p in store.checkpoint_dir.glob("*.json"))


RECORD = PendingConfirm("commit-1", version=3, previous_version=2, deadline_wall_ns=10**18)


def test_record_round_trips_through_a_new_store(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))

    store.write_pending(RECORD)

    assert store.pending_path.is_file()
    assert ConfigStore(tmp_path).read_pending() == RECORD
    store.clear_pending()
    assert not store.pending_path.exists()
    assert ConfigStore(tmp_path).read_pending() is None
    store.clear_pending()  # clearing twice is fine


def test_save_with_pending_writes_record_and_config(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))

    store.save(3, tree(3), pending=RECORD)

    restarted = ConfigStore(tmp_path)
    snapshot = restarted.load()
    assert snapshot is not None and snapshot.version == 3
    assert restarted.resolve_pending(snapshot.version) == RECORD
    assert restarted.load_checkpoint(RECORD.previous_version).tree == tree(2)


def test_record_for_a_commit_that_never_landed_is_stale(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    store.write_pending(RECORD)  # a crash hit before the save of version 3

    snapshot = ConfigStore(tmp_path).load()

    assert snapshot is not None and snapshot.version == 2
    assert store.resolve_pending(snapshot.version) is None
    assert not store.pending_path.exists()


def test_record_still_applies_after_later_commits(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    store.save(3, tree(3), pending=RECORD)
    store.save(4, tree(4))

    assert store.resolve_pending(4) == RECORD


def test_rollback_target_is_pinned_until_the_record_is_cleared(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3), keep=2)
    store.save(3, tree(3), pending=RECORD)
    for version in range(4, 7):
        store.save(version, tree(version))

    assert checkpoint_versions(store) == [2, 5, 6]
    assert store.load_checkpoint(2).tree == tree(2)

    store.clear_pending()
    store.save(7, tree(7))
    assert checkpoint_versions(store) == [6, 7]


def test_restore_checkpoint_clears_the_record(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    store.save(3, tree(3), pending=RECORD)

    store.restore_checkpoint(2)

    assert store.read_pending() is None


def test_record_needs_its_rollback_target(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    orphan = PendingConfirm("c", version=9, previous_version=8, deadline_wall_ns=1)

    with pytest.raises(CheckpointNotFoundError, match="rollback target version 8"):
        store.write_pending(orphan)
    with pytest.raises(ValueError, match="below version"):
        store.write_pending(PendingConfirm("c", version=2, previous_version=2, deadline_wall_ns=1))
    store.checkpoint_path(2).write_bytes(b"{")
    with pytest.raises(CorruptFileError):
        store.write_pending(RECORD)

    assert not store.pending_path.exists()


def test_save_refuses_a_record_for_another_version(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))

    with pytest.raises(ValueError, match="for version 3, not 4"):
        store.save(4, tree(4), pending=RECORD)

    assert not store.pending_path.exists()
    assert checkpoint_versions(store) == [1, 2]


@pytest.mark.parametrize(
    "damage",
    [lambda d: d[:-10], lambda d: d.replace(b"commit-1", b"commit-2"), lambda d: b""],
    ids=["truncated", "altered", "empty"],
)
def test_damaged_record_raises_naming_the_file(tmp_path: Path, damage: Any) -> None:
    store = saved(tmp_path, range(1, 3))
    store.write_pending(RECORD)
    store.pending_path.write_bytes(damage(store.pending_path.read_bytes()))

    with pytest.raises(CorruptFileError) as caught:
        store.read_pending()

    assert caught.value.path == store.pending_path
    assert str(store.pending_path) in str(caught.value)


def test_damaged_record_suspends_pruning(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3), keep=1)
    store.write_pending(RECORD)
    store.pending_path.write_bytes(b"{")

    store.save(3, tree(3))
    store.save(4, tree(4))

    assert checkpoint_versions(store) == [2, 3, 4]
