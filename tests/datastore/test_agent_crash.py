"""SIGKILL the agent at random points: the datastore in its commit loop comes up on the
last committed or the in-flight version, never a torn one; the served agent, killed while
several clients' Sets share journal syncs, comes back with every acknowledged Set."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.clock import FakeClock
from agent.datastore.journal_format import read_segment
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.conftest import ROOT
from tests.datastore.agent_crash_writer import LEAF, mtu_for
from tests.datastore.crash_writer import crash_rng
from tests.datastore.harness import build, default_site, fresh_hw, hw
from tests.integration.conftest import ADMIN_PASSWORD, AgentProcess, GnmiCallError, PygnmiWorker

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
    seed, rng = crash_rng()
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


# --- the served agent, killed while concurrent clients' Sets share syncs -----------------

CLIENTS = 6
ROUNDS = 3
DESCRIPTION = "/ports/port[name={}]/config/description"


@dataclass
class ClientLog:
    """One client's Sets on its own port: the last acknowledged value and the one sent
    when the agent died (None: no Set was in flight)."""

    port: str
    acked: str | None = None
    in_flight: str | None = None
    count: int = 0


def _hammer(worker: PygnmiWorker, log: ClientLog, round_: int, stop: threading.Event) -> None:
    """Sets the port's description again and again until the agent stops answering."""
    while not stop.is_set():
        value = f"round {round_} set {log.count}"
        log.in_flight = value
        try:
            worker.call("set", client="admin", update=[[DESCRIPTION.format(log.port), value]])
        except GnmiCallError:
            return  # the agent is gone; ``value`` may or may not have been made durable
        log.acked, log.in_flight = value, None
        log.count += 1


def _described(worker: PygnmiWorker, port: str) -> object:
    reply = worker.call("get", client="admin", path=[DESCRIPTION.format(port)])
    (update,) = reply["notification"][0]["update"]
    return update["val"]


def _multi_record_frames(state_dir: Path) -> int:
    shared = 0
    for segment in (state_dir / "journal").glob("*.log"):
        shared += sum(len(f.records) > 1 for f in read_segment(segment.read_bytes()).frames)
    return shared


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.timeout(400)
def test_every_acknowledged_set_survives_a_kill_during_group_commits(tmp_path: Path) -> None:
    seed, rng = crash_rng()
    state_dir = tmp_path / "state"
    ports = [p["name"] for p in default_site()["edge-ports:ports"]["port"]][:CLIENTS]
    logs = [ClientLog(port) for port in ports]
    workers = [PygnmiWorker() for _ in ports]
    shared = 0
    try:
        for round_ in range(ROUNDS):
            agent = AgentProcess(state_dir).start()
            try:
                for worker in workers:
                    worker.connect("admin", agent, "admin", ADMIN_PASSWORD)
                for log in logs:
                    found = _described(workers[0], log.port)
                    if round_ > 0:  # the last acknowledged value, or a later one in flight
                        assert found in {log.acked, log.in_flight}, (seed, round_, log)
                    log.acked, log.in_flight = str(found), None
                if round_ == ROUNDS - 1:
                    break
                counts = [log.count for log in logs]
                stop = threading.Event()
                threads = [
                    threading.Thread(target=_hammer, args=(w, log, round_, stop), daemon=True)
                    for w, log in zip(workers, logs, strict=True)
                ]
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + 60
                while any(log.count == c for log, c in zip(logs, counts, strict=True)):
                    assert time.monotonic() < deadline, "the clients got no Set through"
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.2, 1.5))
                assert agent.process is not None
                agent.process.send_signal(signal.SIGKILL)
                stop.set()
                for thread in threads:
                    thread.join(90)
            finally:
                agent.stop()
            shared += _multi_record_frames(state_dir)
    finally:
        for worker in workers:
            worker.close()
    sets = sum(log.count for log in logs)
    print(f"\nagent group-commit crash test seed={seed} acknowledged={sets} shared={shared}")
