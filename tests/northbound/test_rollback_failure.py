"""A commit-confirmed rollback that fails stays pending, is audited and retried."""

from __future__ import annotations

import time

from agent.security.audit import read_audit_log
from tests.northbound.harness import AgentThread, Client, commit_ext

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def _wait(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_a_failed_rollback_stays_pending_and_is_retried(
    agent: AgentThread, admin: Client, state_dir
) -> None:
    before = agent.agent.datastore.running.version
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("risky", "commit", 0.2)])
    hardware = agent.hardware("tor-tf1")
    hardware.fail_port("tor-tf1/1")  # the rollback must touch this port: it fails
    rollbacks = lambda: [r for r in read_audit_log(state_dir / "audit") if r.rpc == "rollback"]  # noqa: E731
    _wait(lambda: any(r.outcome.value == "failed" for r in rollbacks()))
    pending = agent.agent.datastore.pending
    assert pending is not None and pending.commit_id == "risky"  # not dropped
    assert "tor-tf1" in agent.agent.datastore.devices.degraded
    failed = next(r for r in rollbacks() if r.outcome.value == "failed")
    assert "stays pending" in failed.message and failed.version == before + 1
    hardware.clear_faults()
    _wait(lambda: agent.agent.datastore.pending is None)
    assert any(r.outcome.value == "ok" for r in rollbacks())
    answer = admin.get(MTU).notification[0].update[0].val.json_val
    assert answer == b"9000"  # back to what it was before the unconfirmed commit
    assert "tor-tf1" not in agent.agent.datastore.devices.degraded
