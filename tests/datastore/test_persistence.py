"""ConfigStore: round trip, on-disk layout, corruption detection, checkpoints, restore."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.persist_bench import measure, sample_tree
from agent.datastore.persistence import (
    CheckpointNotFoundError,
    ConfigStore,
    CorruptConfigError,
    CorruptFileError,
    StaleVersionError,
)


def tree(generation: int) -> dict[str, Any]:
    return sample_tree(4, generation=generation, label="unit")


def saved(state_dir: Path, versions: range, **kwargs: Any) -> ConfigStore:
    store = ConfigStore(state_dir, **kwargs)
    for version in versions:
        store.save(version, tree(version), {"commit": f"c{version}"})
    return store


def checkpoint_versions(store: ConfigStore) -> list[int]:
    return sorted(int(p.stem) for p in store.checkpoint_dir.glob("*.json"))


def snapshot_files(state_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(state_dir)): p.read_bytes()
        for p in sorted(state_dir.rglob("*"))
        if p.is_file()
    }


# -- round trip and layout ----------------------------------------------------------------


def test_new_state_directory_loads_as_none(tmp_path: Path) -> None:
    assert ConfigStore(tmp_path / "absent").load() is None
    assert not (tmp_path / "absent").exists()
    (tmp_path / "empty").mkdir()
    assert ConfigStore(tmp_path / "empty").load() is None


def test_save_then_load_returns_version_tree_and_meta(tmp_path: Path) -> None:
    clock = FakeClock()
    store = ConfigStore(tmp_path / "state", clock=clock)
    header = store.save(7, tree(7), {"commit": "c7", "user": "admin"})

    snapshot = ConfigStore(tmp_path / "state").load()

    assert snapshot is not None
    assert snapshot.version == 7
    assert snapshot.tree == tree(7)
    assert snapshot.meta == {"commit": "c7", "user": "admin"}
    assert snapshot.checkpoint == header and snapshot.replayed == 0
    assert header.saved_at_ns == snapshot.saved_at_ns == clock.now_ns()
    canonical = json.dumps(tree(7), sort_keys=True, separators=(",", ":")).encode()
    assert header.config_sha256 == hashlib.sha256(canonical).hexdigest()


def test_file_is_a_header_line_and_the_canonical_tree(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 2))
    header_line, tree_line, rest = store.current_path.read_bytes().split(b"\n")

    header = json.loads(header_line)
    assert rest == b""
    assert header["format"] == "edge-agent/config/1"
    assert header["version"] == 1
    assert json.loads(tree_line) == tree(1)
    assert header["config_sha256"] == hashlib.sha256(tree_line).hexdigest()
    assert header["config_bytes"] == len(tree_line)
    assert store.current_path.stat().st_mode & 0o777 == 0o600


def test_checkpoint_is_an_independent_copy_of_the_current_file(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    checkpoint = store.checkpoint_path(2)

    assert checkpoint.name == "00000002.json"
    assert checkpoint.read_bytes() == store.current_path.read_bytes()
    assert checkpoint.stat().st_ino != store.current_path.stat().st_ino


def test_versions_must_increase(tmp_path: Path) -> None:
    store = saved(tmp_path, range(3, 4))
    before = snapshot_files(tmp_path)

    for version in (3, 2):
        with pytest.raises(StaleVersionError, match="not above stored version 3"):
            store.save(version, tree(version))

    assert snapshot_files(tmp_path) == before


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}])
def test_unserialisable_tree_writes_nothing(tmp_path: Path, bad: dict[str, Any]) -> None:
    store = saved(tmp_path, range(1, 2))
    before = snapshot_files(tmp_path)

    with pytest.raises((TypeError, ValueError)):
        store.save(2, bad)

    assert snapshot_files(tmp_path) == before


# -- corruption of the current file -------------------------------------------------------


def _flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def _format_9(data: bytes) -> bytes:
    return data.replace(b"edge-agent/config/1", b"edge-agent/config/9", 1)


CORRUPTIONS = {
    "truncated in tree": (lambda d: d[: len(d) // 2], "truncated"),
    "truncated after header": (lambda d: d[: d.index(b"\n")], "truncated"),
    "truncated in header": (lambda d: d[:40], "configuration header is not JSON"),
    "flipped byte in tree": (lambda d: _flip(d, len(d) - 30), "tree checksum mismatch"),
    "flipped byte in header": (lambda d: _flip(d, d.index(b'"version":') + 10), "header checksum"),
    "garbage": (lambda d: os.urandom(4096), "configuration header is not JSON"),
    "plain JSON config": (lambda d: json.dumps(tree(1)).encode(), "no format marker"),
    "empty file": (lambda d: b"", "empty file"),
    "wrong format version": (_format_9, "unsupported format 'edge-agent/config/9'"),
    "appended data": (lambda d: d + b"{}\n", "size mismatch"),
}


@pytest.mark.parametrize("damage", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_damaged_current_file_raises_naming_file_problem_and_checkpoint(
    tmp_path: Path, damage: str
) -> None:
    store = saved(tmp_path, range(1, 4))
    corrupt, problem = CORRUPTIONS[damage]
    store.current_path.write_bytes(corrupt(store.current_path.read_bytes()))
    before = snapshot_files(tmp_path)

    with pytest.raises(CorruptConfigError) as caught:
        ConfigStore(tmp_path).load()

    message = str(caught.value)
    assert str(store.current_path) in message
    assert problem in message
    assert f"version 3 ({store.checkpoint_path(3)})" in message
    assert "edge-agent restore-checkpoint 3" in message
    assert caught.value.path == store.current_path
    assert caught.value.restore_from is not None
    assert caught.value.restore_from.version == 3
    assert snapshot_files(tmp_path) == before  # nothing repaired, replaced or removed


def test_unreadable_current_file_raises(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 2))
    store.current_path.unlink()
    store.current_path.mkdir()

    with pytest.raises(CorruptConfigError, match="cannot be read: Is a directory"):
        store.load()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_raises(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    store.current_path.chmod(0)
    try:
        with pytest.raises(CorruptConfigError, match="cannot be read: Permission denied") as c:
            store.load()
        assert c.value.restore_from is not None and c.value.restore_from.version == 2
    finally:
        store.current_path.chmod(0o600)


def test_every_truncation_is_detected(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 2))
    data = store.current_path.read_bytes()
    for length in range(len(data)):
        store.current_path.write_bytes(data[:length])
        with pytest.raises(CorruptConfigError):
            store.load()


def test_every_single_bit_flip_is_detected(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 2))
    data = store.current_path.read_bytes()
    for index in range(len(data)):
        for mask in (0x01, 0x20):
            store.current_path.write_bytes(_flip(data, index, mask))
            with pytest.raises(CorruptConfigError):
                store.load()


def test_message_names_newest_valid_checkpoint_when_newer_ones_are_damaged(
    tmp_path: Path,
) -> None:
    store = saved(tmp_path, range(1, 4))
    store.current_path.write_bytes(b"")
    store.checkpoint_path(3).write_bytes(b"{")

    with pytest.raises(CorruptConfigError, match=r"version 2 \(") as caught:
        store.load()

    assert caught.value.restore_from is not None
    assert caught.value.restore_from.path == store.checkpoint_path(2)


def test_message_without_any_valid_checkpoint(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 2))
    store.current_path.write_bytes(b"")
    store.checkpoint_path(1).write_bytes(b"")

    with pytest.raises(CorruptConfigError, match="no valid checkpoint") as caught:
        store.load()

    assert caught.value.restore_from is None


def test_missing_current_file_with_checkpoints_is_not_a_new_site(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    store.current_path.unlink()

    with pytest.raises(CorruptConfigError, match="missing, but checkpoints or a journal exist"):
        store.load()


# -- crash leftovers ----------------------------------------------------------------------


def test_leftover_temp_files_are_ignored_and_removed(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    leftovers = [
        tmp_path / ".tmp-running.json.x1y2",
        store.checkpoint_dir / ".tmp-00000003.json.abcd",
    ]
    for path in leftovers:
        path.write_bytes(b'{"format": "edge-agent/config/1", "vers')

    snapshot = store.load()

    assert snapshot is not None and snapshot.version == 2
    assert not any(path.exists() for path in leftovers)
    assert checkpoint_versions(store) == [1, 2]


def test_temp_files_alone_are_a_new_site(tmp_path: Path) -> None:
    (tmp_path / ".tmp-running.json.x1y2").write_bytes(b"partial")

    assert ConfigStore(tmp_path).load() is None
    assert list(tmp_path.iterdir()) == []


def test_missing_checkpoint_of_current_commit_is_rewritten_on_load(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 3))
    store.checkpoint_path(2).unlink()  # as a crash between the two renames leaves it

    snapshot = store.load()

    assert snapshot is not None and snapshot.version == 2
    assert store.checkpoint_path(2).read_bytes() == store.current_path.read_bytes()


def test_save_over_a_damaged_current_file_continues_above_the_checkpoints(
    tmp_path: Path,
) -> None:
    store = saved(tmp_path, range(1, 4))
    store.current_path.write_bytes(b"garbage")

    with pytest.raises(StaleVersionError):
        store.save(3, tree(3))
    store.save(4, tree(4))

    snapshot = store.load()
    assert snapshot is not None and snapshot.version == 4 and snapshot.tree == tree(4)


# -- checkpoints and restore --------------------------------------------------------------


def test_pruning_keeps_the_newest_n(tmp_path: Path) -> None:
    store = saved(tmp_path / "three", range(1, 8), keep=3)
    assert checkpoint_versions(store) == [5, 6, 7]
    assert store.load_checkpoint(5).tree == tree(5)

    store = saved(tmp_path / "default", range(1, 13))
    assert checkpoint_versions(store) == [10, 11, 12]


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ConfigStore(tmp_path, keep=0)


def test_list_checkpoints_reports_each_with_its_problem(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 4))
    store.checkpoint_path(2).write_bytes(store.checkpoint_path(2).read_bytes()[:-5])
    store.checkpoint_path(3).write_bytes(store.checkpoint_path(1).read_bytes())

    infos = store.list_checkpoints()

    assert [i.version for i in infos] == [1, 2, 3]
    assert [i.valid for i in infos] == [True, False, False]
    assert infos[0].header is not None and infos[0].header.meta == {"commit": "c1"}
    assert infos[1].problem is not None and "truncated" in infos[1].problem
    assert infos[2].problem == "holds version 1"


def test_restore_checkpoint_saves_it_as_a_new_version(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 5), keep=10)

    header = store.restore_checkpoint(2)

    assert header.version == 5
    assert header.meta == {"restored_from": 2}
    snapshot = ConfigStore(tmp_path).load()
    assert snapshot is not None
    assert (snapshot.version, snapshot.tree) == (5, tree(2))
    assert checkpoint_versions(store) == [1, 2, 3, 4, 5]
    assert store.load_checkpoint(5).tree == tree(2)


def test_restore_checkpoint_recovers_a_damaged_current_file(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 4))
    store.current_path.write_bytes(b"\x00" * 100)
    with pytest.raises(CorruptConfigError):
        store.load()

    store.restore_checkpoint(3)

    snapshot = store.load()
    assert snapshot is not None
    assert (snapshot.version, snapshot.tree) == (4, tree(3))


def test_restore_of_missing_or_damaged_checkpoint_changes_nothing(tmp_path: Path) -> None:
    store = saved(tmp_path, range(1, 4))
    store.checkpoint_path(2).write_bytes(b"")
    before = snapshot_files(tmp_path)

    with pytest.raises(CheckpointNotFoundError):
        store.restore_checkpoint(9)
    with pytest.raises(CorruptFileError, match="empty file"):
        store.restore_checkpoint(2)
    with pytest.raises(CheckpointNotFoundError):
        store.load_checkpoint(9)

    assert snapshot_files(tmp_path) == before


# -- measurement helper -------------------------------------------------------------------


def test_measure_reports_figures_for_the_tree_it_saved(tmp_path: Path) -> None:
    figures = measure(tmp_path, ports=50, rounds=2)

    snapshot = ConfigStore(tmp_path).load()
    assert snapshot is not None and snapshot.version == 2
    assert len(snapshot.tree["edge-ports:ports"]["port"]) == 50
    assert figures.ports == 50 and figures.rounds == 2
    assert figures.file_bytes == (tmp_path / "running.json").stat().st_size
