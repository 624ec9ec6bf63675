"""Set over a real gRPC channel: results, semantics, all-or-nothing, codes, roles, audit."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from agent.gnmi.pb import gnmi_ext_pb2, gnmi_pb2
from agent.schema.engine import SchemaEngine
from agent.security.audit import read_audit_log
from tests.northbound.harness import (
    AgentThread,
    Client,
    agent_settings,
    code_of,
    path,
    path_str,
    update_msg,
)

PORT = "/ports/port[name=tor-tf1/1]"
MTU = f"{PORT}/config/mtu"


def get_value(client: Client, text: str) -> object:
    updates = client.get(text).notification[0].update
    assert len(updates) == 1
    return json.loads(updates[0].val.json_val)


def absent(client: Client, text: str) -> bool:
    code, _ = code_of(lambda: client.get(text))
    return code is grpc.StatusCode.NOT_FOUND


def test_update_a_leaf(agent: AgentThread, admin: Client) -> None:
    response = admin.set(update=[(MTU, b"1500")])
    assert response.timestamp > 0
    assert [(path_str(r.path), r.op) for r in response.response] == [
        (MTU, gnmi_pb2.UpdateResult.UPDATE)
    ]
    assert get_value(admin, MTU) == 1500
    ports = {p.name: p for p in agent.hardware("tor-tf1").hw_snapshot().ports}
    assert ports["tor-tf1/1"].mtu == 1500  # the hardware runs it
    assert get_value(admin, f"{PORT}/state/mtu") == 1500


def test_one_result_per_operation_in_request_order(admin: Client) -> None:
    desc = f"{PORT}/config/description"
    response = admin.set(
        delete=[desc],
        replace=[("/ports/port[name=tor-tf1/3]/config/description", b'"legacy"')],
        update=[(MTU, b"1600"), (desc, b'"new uplink"')],
    )
    assert [(path_str(r.path), r.op) for r in response.response] == [
        (desc, gnmi_pb2.UpdateResult.DELETE),
        ("/ports/port[name=tor-tf1/3]/config/description", gnmi_pb2.UpdateResult.REPLACE),
        (MTU, gnmi_pb2.UpdateResult.UPDATE),
        (desc, gnmi_pb2.UpdateResult.UPDATE),
    ]
    # deletes run first, then replaces, then updates: the description is set, not deleted
    assert get_value(admin, desc) == "new uplink"


def test_prefix_is_applied_and_echoed(admin: Client) -> None:
    request = gnmi_pb2.SetRequest(
        prefix=path(PORT, target="edge-1"), update=[update_msg("/config/mtu", b"1700")]
    )
    response = admin.set_request(request)
    assert response.prefix.target == "edge-1"
    assert path_str(response.response[0].path) == "/config/mtu"
    assert get_value(admin, MTU) == 1700


def test_json_ietf_and_raw_text_values(admin: Client) -> None:
    admin.set(
        update=[(f"{PORT}/config", b'{"edge-ports:mtu": 1800, "description": "x"}')], ietf=True
    )
    assert get_value(admin, MTU) == 1800
    admin.set(update=[(f"{PORT}/config/description", b"plain text")])  # as pygnmi sends it
    assert get_value(admin, f"{PORT}/config/description") == "plain text"


def test_replace_drops_what_it_does_not_give(admin: Client) -> None:
    config = {"name": "tor-tf1/1", "device": "tor-tf1", "index": 1, "speed": "100G"}
    admin.set(replace=[(f"{PORT}/config", json.dumps(config).encode())])
    assert absent(admin, MTU)
    assert absent(admin, f"{PORT}/config/description")
    assert get_value(admin, f"{PORT}/state/mtu") == 1514  # back to the default


def test_replace_a_list_removes_entries_not_given(admin: Client) -> None:
    members = "/slices/slice[name=miot]/members/member"
    kept = [{"port": "nic-cx6/1", "config": {"port": "nic-cx6/1"}}]
    admin.set(replace=[(members, json.dumps(kept).encode())])
    got = admin.get(f"{members}[port=*]/config/port").notification[0].update
    assert [json.loads(u.val.json_val) for u in got] == ["nic-cx6/1"]


def test_replace_an_entry_with_nothing_is_invalid(admin: Client) -> None:
    code, _ = code_of(lambda: admin.set(replace=[(PORT, b"{}")]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT


def test_update_merges_and_never_deletes(admin: Client) -> None:
    admin.set(update=[(f"{PORT}/config", b'{"mtu": 2000}')])
    assert get_value(admin, MTU) == 2000
    assert get_value(admin, f"{PORT}/config/description") == "uplink to spine-tf2/1"


def test_delete_is_recursive_expands_wildcards_and_accepts_absent_data(admin: Client) -> None:
    admin.set(delete=["/ports/port[name=*]/config/description"])
    got = admin.get("/ports/port[name=*]/config/description").notification[0].update
    assert not got
    response = admin.set(delete=["/ports/port[name=tor-tf1/1]/config/lag-group"])
    assert len(response.response) == 1
    admin.set(delete=["/slices/slice[name=miot]"])
    assert absent(admin, "/slices/slice[name=miot]")


@pytest.mark.parametrize(
    ("op", "text", "value"),
    [
        ("update", "/ports/port/config/mtu", b"1500"),  # key missing
        ("update", PORT, b'{"name": "other", "config": {"mtu": 1500}}'),  # key contradicts
        ("update", MTU, b'"abc"'),
        ("update", MTU, b"99999"),
        ("update", MTU, b"20"),  # below the model's range
        ("replace", "/ports/port[name=*]/config/mtu", b"1500"),  # wildcard in a replace
    ],
)
def test_invalid_argument(admin: Client, op: str, text: str, value: bytes) -> None:
    before = admin.get("/", type=1).notification[0].update[0].val.json_val
    code, details = code_of(lambda: admin.set(**{op: [(text, value)]}))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"operation 0 ({op} ")
    assert admin.get("/", type=1).notification[0].update[0].val.json_val == before


def test_bad_value_names_the_leaf(admin: Client) -> None:
    code, details = code_of(lambda: admin.set(update=[(MTU, b"99999")]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert "/ports/port[name=tor-tf1/1]/config/mtu" in details


def test_unknown_path_is_not_found(admin: Client) -> None:
    for op in ("update", "replace"):
        code, details = code_of(lambda op=op: admin.set(**{op: [(f"{PORT}/config/warp", b"9")]}))
        assert code is grpc.StatusCode.NOT_FOUND
        assert "warp" in details
    code, _ = code_of(lambda: admin.set(delete=["/ports/port[name=x]/flux"]))
    assert code is grpc.StatusCode.NOT_FOUND


def test_driver_refusal_aborts_everything(agent: AgentThread, admin: Client) -> None:
    hw_before = agent.hardware("tor-tf1").hw_snapshot()
    code, details = code_of(
        lambda: admin.set(
            update=[(MTU, b"1500"), ("/ports/port[name=tor-tf1/3]/config/speed", b'"400G"')]
        )
    )
    assert code is grpc.StatusCode.ABORTED
    assert details.startswith("operation 1 (update /ports/port[name=tor-tf1/3]/config/speed)")
    assert "400G" in details and "tofino1" in details
    assert get_value(admin, MTU) == 9000  # the first operation did not happen
    assert agent.hardware("tor-tf1").hw_snapshot() == hw_before


def test_failure_while_applying_is_undone(agent: AgentThread, admin: Client) -> None:
    before = {d: agent.hardware(d).hw_snapshot() for d in ("tor-tf1", "spine-tf2")}
    agent.hardware("spine-tf2").fail_operation(0)
    code, details = code_of(
        lambda: admin.set(
            update=[(MTU, b"1500"), ("/ports/port[name=spine-tf2/1]/config/mtu", b"1500")]
        )
    )
    assert code is grpc.StatusCode.ABORTED
    assert "nothing was applied" in details
    assert get_value(admin, MTU) == 9000
    assert {d: agent.hardware(d).hw_snapshot() for d in before} == before


def test_union_replace_is_unimplemented(admin: Client) -> None:
    request = gnmi_pb2.SetRequest(union_replace=[update_msg(MTU, b"1500")])
    code, _ = code_of(lambda: admin.set_request(request))
    assert code is grpc.StatusCode.UNIMPLEMENTED


def test_unsupported_value_encoding_is_unimplemented(admin: Client) -> None:
    update = gnmi_pb2.Update(path=path(MTU), val=gnmi_pb2.TypedValue(ascii_val="1500"))
    code, details = code_of(lambda: admin.set_request(gnmi_pb2.SetRequest(update=[update])))
    assert code is grpc.StatusCode.UNIMPLEMENTED
    assert details.startswith("operation 0 (update /ports/port[name=tor-tf1/1]/config/mtu)")


def test_empty_set_is_fine(admin: Client) -> None:
    response = admin.set_request(gnmi_pb2.SetRequest())
    assert response.timestamp > 0 and not response.response


def test_extensions_that_do_not_apply_to_set(admin: Client) -> None:
    depth = gnmi_ext_pb2.Extension(depth=gnmi_ext_pb2.Depth(level=1))
    code, _ = code_of(lambda: admin.set(update=[(MTU, b"1500")], extension=[depth]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    history = gnmi_ext_pb2.Extension(history=gnmi_ext_pb2.History(snapshot_time=1))
    code, _ = code_of(lambda: admin.set(update=[(MTU, b"1500")], extension=[history]))
    assert code is grpc.StatusCode.UNIMPLEMENTED


def test_roles_and_audit(agent: AgentThread, client_for, state_dir: Path) -> None:
    code, details = code_of(lambda: client_for("reader").set(update=[(MTU, b"1500")]))
    assert code is grpc.StatusCode.PERMISSION_DENIED and "read-only" in details
    code, details = code_of(lambda: client_for("tenant-a").set(update=[(MTU, b"1500")]))
    assert code is grpc.StatusCode.PERMISSION_DENIED and "tenant" in details
    code, _ = code_of(lambda: client_for(None).set(update=[(MTU, b"1500")]))
    assert code is grpc.StatusCode.UNAUTHENTICATED
    code, _ = code_of(lambda: client_for("admin", "wrong").set(update=[(MTU, b"1500")]))
    assert code is grpc.StatusCode.UNAUTHENTICATED
    admin = client_for("admin")
    assert get_value(admin, MTU) == 9000
    admin.set(update=[(MTU, b"1500")])
    code_of(lambda: admin.set(update=[(MTU, b"99999")]))

    records = [r for r in read_audit_log(state_dir / "audit") if r.rpc == "/gnmi.gNMI/Set"]
    assert [(r.user, r.outcome.value, r.code) for r in records] == [
        ("reader", "denied", "PERMISSION_DENIED"),
        ("tenant-a", "denied", "PERMISSION_DENIED"),
        (None, "denied", "UNAUTHENTICATED"),
        ("admin", "denied", "UNAUTHENTICATED"),
        ("admin", "ok", "OK"),
        ("admin", "failed", "INVALID_ARGUMENT"),
    ]
    assert [(o.action, o.path) for o in records[4].operations] == [("update", MTU)]


def test_large_messages_both_ways(admin: Client) -> None:
    # a request above gRPC's 4 MiB default is read and answered on its merits
    big = json.dumps("x" * (5 * 1024 * 1024)).encode()
    code, details = code_of(lambda: admin.set(update=[(f"{PORT}/config/description", big)]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert "config/description" in details and len(details) < 8192  # quoted, but shortened
    # and a response above 4 MiB reaches the client
    request = gnmi_pb2.GetRequest(path=[path("/")] * 800, type=1)
    response = admin.get_request(request)
    assert len(response.notification) == 800
    assert response.ByteSize() > 4 * 1024 * 1024


def test_restart_keeps_the_last_commit(engine: SchemaEngine, state_dir: Path) -> None:
    first = AgentThread(agent_settings(state_dir), schema=engine).start()
    try:
        client = Client(first.target)
        client.set(update=[(MTU, b"1500")])
        client.close()
    finally:
        first.stop()
    second = AgentThread(agent_settings(state_dir), schema=engine).start()
    try:
        client = Client(second.target)
        assert get_value(client, MTU) == 1500
        ports = {p.name: p for p in second.hardware("tor-tf1").hw_snapshot().ports}
        assert ports["tor-tf1/1"].mtu == 1500
        client.close()
    finally:
        second.stop()
