"""SIGKILL the agent's datastore at random points of its commit loop: the next start
comes up on the last committed or the in-flight version, never a torn one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.clock import FakeClock
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.conftest import ROOT
from tests.datastore.agent_crash_writer import LEAF, mtu_for
from tests.datastore.harness import build, fresh_hw, hw

KILLS = 8


def _run_and_kill(state_dir: Path, delay: float) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.datastore.agent_crash_writer", str(state_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # "loaded V": the writer is up and committing
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    return [first.strip(), *out.splitlines()]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_agent_starts_on_old_or_new_config_after_sigkill(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    seed = int(os.environ.get("EDGE_AGENT_CRASH_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    state_dir = tmp_path / "state"
    outcomes = {"old": 0, "new": 0}
    for kill in range(KILLS):
        lines = _run_and_kill(state_dir, rng.uniform(0.05, 0.6))
        done = [int(line.split()[1]) for line in lines if line.startswith("done ")]
        started = [int(line.split()[1]) for line in lines if line.startswith("commit ")]
        loaded = int(lines[0].split()[1])
        last_done = done[-1] if done else loaded
        in_flight = started[-1] if started and started[-1] not in done else last_done

        clock = FakeClock()
        ds = build(engine, state_dir, clock, site={})  # must start: never a torn state
        try:
            version = ds.running.version
            where = f"seed {seed}, kill {kill}: {lines[-2:]}"
            assert version in {last_done, in_flight}, where
            mtu = ds.ops.get(ds.running.tree, DataPath.parse(LEAF))
            assert mtu == (9000 if version == 1 else mtu_for(version)), where
            assert hw(ds) == fresh_hw(ds, clock), where
            outcomes["new" if version == in_flight != last_done else "old"] += 1
        finally:
            ds.stop()
    print(f"\nagent crash test seed={seed} {outcomes}")
