"""SIGKILL at random points of persisting never leaves a torn state directory.

A real writer process (crash_writer.py) commits to the journal (small and tree-sized
records, checkpoints in the background), saves, restores and confirms large
configurations in a loop; the test kills it with SIGKILL after a random delay, then
starts the store the way the agent does and checks the outcome: the last acknowledged
commit or the one in flight, never a torn one. Set EDGE_AGENT_CRASH_SEED to replay a run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent.datastore.persistence import ConfigStore
from agent.durable_files import temp_files

from .crash_writer import KEEP, POLICY, base_trees, crash_rng, tree_for

WRITER = Path(__file__).with_name("crash_writer.py")
PORTS = 10_000
ITERATIONS = 50
MIN_ITERATIONS = 15
BUDGET_S = 25.0
MAX_DELAY_S = 0.07  # about one save of the tree


@dataclass
class History:
    """What the writers announced, across all runs: version -> (stamped version, salt)."""

    content: dict[int, tuple[int, str]] = field(default_factory=dict)
    loaded: int = 0

    def expected_tree(self, bases: tuple[dict[str, Any], dict[str, Any]], version: int) -> Any:
        stamped, salt = self.content[version]
        return tree_for(bases, stamped, salt)


@dataclass
class RunLog:
    last_done: int
    in_flight: int | None = None


def _parse(lines: list[str], start: int, salt: str, history: History) -> RunLog:
    log = RunLog(last_done=start)
    for line in lines:
        word, *args = line.split()
        if word in ("save", "commit"):
            version = int(args[0])
            history.content[version] = (version, salt)
            log.in_flight = version
        elif word == "restore":
            version, source = int(args[0]), int(args[1])
            history.content[version] = history.content[source]
            log.in_flight = version
        elif word == "confirm":
            log.in_flight = None
        elif word == "done" and args[0] != "confirm":
            log.last_done, log.in_flight = int(args[0]), None
    return log


def _run_writer_and_kill(state_dir: Path, salt: str, nth_op: int, delay: float) -> list[str]:
    """Runs a writer, kills it ``delay`` seconds after its ``nth_op``-th write began, and
    returns every line it printed."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(state_dir), str(PORTS), salt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head: list[str] = []
    ops = 0
    while ops < nth_op and (line := proc.stdout.readline()):
        head.append(line.strip())
        ops += line.startswith(("save ", "commit ", "restore "))
    if ops == nth_op:
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
    # Read through the buffered file objects: communicate() would skip what readline()
    # has already buffered. The writer is dead, so both pipes reach end of file.
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"writer died on its own: {head} {err}"
    return head + out.splitlines()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigkill_at_random_points_never_leaves_a_torn_config(tmp_path: Path) -> None:
    seed, rng = crash_rng()
    state_dir = tmp_path / "state"
    bases = base_trees(PORTS)
    history = History()
    outcomes: Counter[str] = Counter()
    began = time.monotonic()
    iterations = 0
    while iterations < ITERATIONS and time.monotonic() - began < BUDGET_S:
        iterations += 1
        salt = f"s{seed}-{iterations}"
        where = f"seed {seed}, iteration {iterations}"
        lines = _run_writer_and_kill(
            state_dir, salt, rng.randint(1, 8), rng.uniform(0, MAX_DELAY_S)
        )
        assert lines[0] == f"loaded {history.loaded or 'none'}", where
        log = _parse(lines[1:], history.loaded, salt, history)

        store = ConfigStore(state_dir, keep=KEEP, policy=POLICY)
        leftovers = _temp_files(store)
        newest_before = max((c.version for c in store.list_checkpoints()), default=0)
        snapshot = store.load()  # must not raise

        version = snapshot.version if snapshot else 0  # None: the first save never landed
        assert version in {log.last_done, log.in_flight}, (where, lines[-3:])
        assert version >= history.loaded, where
        assert _temp_files(store) == [], where
        if snapshot is not None:
            assert snapshot.tree == history.expected_tree(bases, version), where
            # The current file has a valid copy among the checkpoints.
            base = snapshot.checkpoint.version
            assert store.list_checkpoints()[-1].valid, where
            assert store.checkpoint_path(base).read_bytes() == store.current_path.read_bytes()
            outcomes[_check_pending(store, version, bases, history, where)] += 1
            outcomes["replayed records"] += snapshot.replayed

        outcomes["new" if version == log.in_flight else "old"] += 1
        outcomes["temp files left"] += bool(leftovers)
        outcomes["checkpoint rewritten"] += newest_before < (
            snapshot.checkpoint.version if snapshot else 0
        )
        outcomes[f"last line {lines[-1].split()[0]!r}"] += 1
        history.loaded = version

    assert iterations >= MIN_ITERATIONS, f"only {iterations} kills within {BUDGET_S} s"
    print(
        f"\ncrash test seed={seed} kills={iterations} versions<={history.loaded} {dict(outcomes)}"
    )


def _temp_files(store: ConfigStore) -> list[Path]:
    return [
        *temp_files(store.state_dir),
        *temp_files(store.checkpoint_dir),
        *temp_files(store.journal_dir),
    ]


def _check_pending(
    store: ConfigStore,
    version: int,
    bases: tuple[dict[str, Any], dict[str, Any]],
    history: History,
    where: str,
) -> str:
    """Checks the pending record after a restart; returns what was found."""
    record = store.read_pending()
    if record is None:
        return "no pending record"
    if record.version > version:
        # Written just before a save the kill interrupted: stale, and resolved as such.
        assert record.version == version + 1, where
        assert store.resolve_pending(version) is None, where
        assert not store.pending_path.exists(), where
        return "stale pending record"
    assert store.resolve_pending(version) == record, where
    target = store.load_version(record.previous_version)
    assert target.tree == history.expected_tree(bases, record.previous_version), where
    return "pending record with pinned target"
