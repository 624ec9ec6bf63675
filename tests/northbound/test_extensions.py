"""Set extensions: commit-confirmed and master arbitration."""

from __future__ import annotations

import json
import time

import grpc

from agent.gnmi.pb import gnmi_ext_pb2
from tests.northbound.harness import AgentThread, Client, arbitration_ext, code_of, commit_ext

MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def mtu(client: Client) -> int:
    value = json.loads(client.get(MTU).notification[0].update[0].val.json_val)
    assert isinstance(value, int)
    return value


def wait_for(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_confirmed_commit_is_kept(agent: AgentThread, admin: Client) -> None:
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("c1", "commit", 600)])
    assert mtu(admin) == 1500
    assert agent.agent.datastore.pending is not None
    response = admin.set(extension=[commit_ext("c1", "confirm")])
    assert not response.response and response.timestamp > 0
    assert agent.agent.datastore.pending is None
    assert mtu(admin) == 1500


def test_cancel_rolls_back_now(agent: AgentThread, admin: Client) -> None:
    before = agent.hardware("tor-tf1").hw_snapshot()
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("c2", "commit")])
    admin.set(extension=[commit_ext("c2", "cancel")])
    assert mtu(admin) == 9000
    assert agent.hardware("tor-tf1").hw_snapshot() == before


def test_unconfirmed_commit_rolls_back_on_time(agent: AgentThread, admin: Client) -> None:
    before = agent.hardware("tor-tf1").hw_snapshot()
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("c3", "commit", 0.3)])
    assert mtu(admin) == 1500
    assert wait_for(lambda: mtu(admin) == 9000)
    assert agent.agent.datastore.pending is None
    assert agent.hardware("tor-tf1").hw_snapshot() == before


def test_set_rollback_duration(agent: AgentThread, admin: Client) -> None:
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("c4", "commit", 600)])
    admin.set(extension=[commit_ext("c4", "set_rollback_duration", 0.2)])
    assert wait_for(lambda: mtu(admin) == 9000)
    code, _ = code_of(lambda: admin.set(extension=[commit_ext("c4", "confirm")]))
    assert code is grpc.StatusCode.FAILED_PRECONDITION  # nothing pending any more


def test_commit_confirmed_errors(admin: Client) -> None:
    code, _ = code_of(lambda: admin.set(extension=[commit_ext("nope", "confirm")]))
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    admin.set(update=[(MTU, b"1500")], extension=[commit_ext("c5", "commit", 600)])
    code, details = code_of(lambda: admin.set(update=[(MTU, b"1600")]))
    assert code is grpc.StatusCode.FAILED_PRECONDITION and "c5" in details
    code, _ = code_of(
        lambda: admin.set(update=[(MTU, b"1600")], extension=[commit_ext("c6", "commit")])
    )
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    code, _ = code_of(lambda: admin.set(extension=[commit_ext("other", "confirm")]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    code, _ = code_of(lambda: admin.set(extension=[commit_ext("c5", "set_rollback_duration", 0)]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    code, _ = code_of(
        lambda: admin.set(update=[(MTU, b"1600")], extension=[commit_ext("c5", "confirm")])
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT  # confirm carries no operations
    code, _ = code_of(lambda: admin.set(extension=[commit_ext("", "commit")]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT  # an id is required
    no_action = gnmi_ext_pb2.Extension(commit=gnmi_ext_pb2.Commit(id="c5"))
    code, _ = code_of(lambda: admin.set(extension=[no_action]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    admin.set(extension=[commit_ext("c5", "confirm")])
    assert mtu(admin) == 1500


def test_master_arbitration(admin: Client) -> None:
    admin.set(extension=[arbitration_ext(5)])  # an empty Set claims mastership
    code, details = code_of(
        lambda: admin.set(update=[(MTU, b"1500")], extension=[arbitration_ext(3)])
    )
    assert code is grpc.StatusCode.PERMISSION_DENIED
    assert "5" in details  # the highest election id is named
    assert mtu(admin) == 9000
    admin.set(update=[(MTU, b"1500")], extension=[arbitration_ext(5)])
    admin.set(update=[(MTU, b"1600")], extension=[arbitration_ext(2**64 + 1)])  # 128-bit ids
    code, _ = code_of(lambda: admin.set(update=[(MTU, b"1700")], extension=[arbitration_ext(5)]))
    assert code is grpc.StatusCode.PERMISSION_DENIED
    # roles are arbitrated separately; no extension is accepted
    admin.set(update=[(MTU, b"1700")], extension=[arbitration_ext(1, role="backup")])
    admin.set(update=[(MTU, b"1800")])
    assert mtu(admin) == 1800


def test_arbitration_without_election_id_is_invalid(admin: Client) -> None:
    bare = gnmi_ext_pb2.Extension(master_arbitration=gnmi_ext_pb2.MasterArbitration())
    code, _ = code_of(lambda: admin.set(update=[(MTU, b"1500")], extension=[bare]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
