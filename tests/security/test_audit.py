"""The audit log: JSON lines, rotation, reading back."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import grpc

from agent.clock import FakeClock
from agent.security.audit import (
    MAX_OPERATIONS,
    AuditLog,
    AuditOperation,
    AuditRecord,
    Outcome,
    read_audit_log,
)
from agent.security.users import Role, User


def test_records_are_appended_as_json_lines(state_dir: Path) -> None:
    clock = FakeClock(start_ns=1_700_000_000_123_456_789)
    acme = User("acme", Role.TENANT, "operator-a")
    with AuditLog.in_state_dir(state_dir, clock=clock) as log:
        log.record(
            "/gnmi.gNMI/Set",
            Outcome.OK,
            user=acme,
            peer="ipv4:127.0.0.1:5000",
            operations=[AuditOperation("update", "/slices/slice[name=embb-1]/config/priority")],
        )
        clock.advance(1)
        log.record(
            "/gnmi.gNMI/Set",
            Outcome.DENIED,
            user=acme,
            peer="ipv4:127.0.0.1:5000",
            code=grpc.StatusCode.PERMISSION_DENIED,
            message="slice urllc-2 belongs to another tenant",
            operations=[AuditOperation("delete", "/slices/slice[name=urllc-2]")],
        )
    path = state_dir / "audit" / "audit.log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["time"] == "2023-11-14T22:13:20.123456Z"
    assert first["user"] == "acme" and first["role"] == "tenant"
    assert first["outcome"] == "ok" and first["code"] == "OK"
    assert first["operations"] == [
        {"action": "update", "path": "/slices/slice[name=embb-1]/config/priority"}
    ]

    records = read_audit_log(state_dir / "audit")
    assert [r.outcome for r in records] == [Outcome.OK, Outcome.DENIED]
    assert records[1] == AuditRecord(
        timestamp_ns=1_700_000_001_123_456_789,
        rpc="/gnmi.gNMI/Set",
        outcome=Outcome.DENIED,
        user="acme",
        role="tenant",
        tenant="operator-a",
        peer="ipv4:127.0.0.1:5000",
        code="PERMISSION_DENIED",
        message="slice urllc-2 belongs to another tenant",
        operations=(AuditOperation("delete", "/slices/slice[name=urllc-2]"),),
    )


def test_unauthenticated_refusal_has_no_role(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, clock=FakeClock())
    log.record("/gnmi.gNMI/Get", Outcome.DENIED, user="mallory", code="UNAUTHENTICATED")
    log.close()
    (record,) = read_audit_log(tmp_path)
    assert (record.user, record.role, record.code) == ("mallory", None, "UNAUTHENTICATED")


def test_rotation_keeps_k_files(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, max_bytes=600, keep=2, clock=FakeClock())
    for index in range(40):
        log.record(f"/rpc/{index}", Outcome.OK, user="alice")
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["audit.log", "audit.log.1", "audit.log.2"]
    for name in names:
        assert (tmp_path / name).stat().st_size <= 600
    rpcs = [r.rpc for r in read_audit_log(tmp_path)]
    # The newest records survive, in order, without gaps; the oldest were dropped.
    assert rpcs[-1] == "/rpc/39"
    first = int(rpcs[0].rsplit("/", 1)[1])
    assert first > 0
    assert rpcs == [f"/rpc/{i}" for i in range(first, 40)]


def test_a_new_writer_appends_to_the_existing_file(tmp_path: Path) -> None:
    with AuditLog(tmp_path, clock=FakeClock()) as log:
        log.record("/a", Outcome.OK)
    with AuditLog(tmp_path, clock=FakeClock()) as log:
        log.record("/b", Outcome.FAILED, code="INTERNAL", message="driver fault")
    assert [(r.rpc, r.outcome) for r in read_audit_log(tmp_path)] == [
        ("/a", Outcome.OK),
        ("/b", Outcome.FAILED),
    ]


def test_long_requests_are_summarised(tmp_path: Path) -> None:
    ops = [AuditOperation("update", f"/ports/port[name=p{i}]") for i in range(MAX_OPERATIONS + 5)]
    with AuditLog(tmp_path, clock=FakeClock()) as log:
        log.record("/gnmi.gNMI/Set", Outcome.OK, operations=ops, message="x" * 5000)
    (record,) = read_audit_log(tmp_path)
    assert len(record.operations) == MAX_OPERATIONS
    assert record.omitted_operations == 5
    assert len(record.message) == 1024


def test_write_failure_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    log = AuditLog(blocker / "audit", clock=FakeClock())
    log.record("/gnmi.gNMI/Set", Outcome.OK)
    assert log.write_errors == 1
