"""`edge-agent checkpoints` and `edge-agent restore-checkpoint` on real state directories,
and the [persistence] settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, PersistenceSettings, settings_from_mapping
from agent.datastore.journal_format import read_segment
from agent.datastore.persist_bench import sample_tree
from agent.datastore.persistence import ConfigStore, CorruptJournalError
from tests.conftest import ROOT

TREES = {v: sample_tree(4, generation=v, label="commands") for v in range(1, 6)}


def edge_agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def state(tmp_path: Path) -> Path:
    store = ConfigStore(tmp_path / "state")
    store.save(1, TREES[1], {"origin": "initial"})
    for version in range(2, 6):
        store.commit(version, TREES[version], {"user": "admin"}).result(timeout=10)
    store.close()
    return tmp_path / "state"


def test_checkpoints_lists_checkpoints_and_the_journal(state: Path) -> None:
    done = edge_agent("checkpoints", "--state-dir", str(state))

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("checkpoint 1: saved ") and "(origin=initial)" in lines[0]
    assert lines[1] == "journal 00000001.log: versions 2..5"


def test_a_damaged_journal_is_reported_and_a_restore_gets_the_agent_going(state: Path) -> None:
    segment = state / "journal" / "00000001.log"
    frame = read_segment(segment.read_bytes()).frames[1]
    data = bytearray(segment.read_bytes())
    data[frame.offset + 60] ^= 0x01
    segment.write_bytes(bytes(data))
    with pytest.raises(CorruptJournalError) as caught:
        ConfigStore(state).load()
    assert "edge-agent restore-checkpoint" in str(caught.value)

    listed = edge_agent("checkpoints", "--state-dir", str(state))
    assert listed.returncode == 1
    assert f"at byte {frame.offset}" in listed.stdout and "a valid frame follows" in listed.stdout

    restored = edge_agent("restore-checkpoint", "1", "--state-dir", str(state))
    assert restored.returncode == 0, restored.stderr
    assert "version 1 restored as version 6" in restored.stdout
    snapshot = ConfigStore(state).load()
    assert snapshot is not None
    assert (snapshot.version, snapshot.tree, snapshot.meta) == (6, TREES[1], {"restored_from": 1})


def test_restore_of_a_journal_version(state: Path) -> None:
    assert edge_agent("restore-checkpoint", "3", "--state-dir", str(state)).returncode == 0
    snapshot = ConfigStore(state).load()
    assert snapshot is not None and (snapshot.version, snapshot.tree) == (6, TREES[3])


def test_restore_of_a_version_that_is_not_kept_changes_nothing(state: Path) -> None:
    before = sorted(p.name for p in state.rglob("*"))

    done = edge_agent("restore-checkpoint", "9", "--state-dir", str(state))

    assert done.returncode == 1 and "version 9 is neither a checkpoint" in done.stderr
    assert sorted(p.name for p in state.rglob("*")) == before


def test_persistence_settings(tmp_path: Path) -> None:
    assert settings_from_mapping({}, base_dir=tmp_path).persistence == PersistenceSettings()
    table = {"mode": "rewrite", "checkpoint_records": 50, "keep_checkpoints": 5}
    settings = settings_from_mapping({"persistence": table}, base_dir=tmp_path)
    assert settings.persistence == PersistenceSettings("rewrite", 50, 8 << 20, 5)
    for bad, message in (
        ({"mode": "sync"}, "persistence.mode 'sync': use one of journal, rewrite"),
        ({"checkpoint_bytes": 0}, "checkpoint_bytes"),
        ({"every": 1}, "every"),
    ):
        with pytest.raises(ConfigError, match=message):
            settings_from_mapping({"persistence": bad}, base_dir=tmp_path)
