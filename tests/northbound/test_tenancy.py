"""Tenancy over real gRPC: tenants see and change only their own slices.

The default site has two tenants: operator-a (slices embb and urllc) and operator-b
(slice miot); users tenant-a and tenant-b are bound to them.
"""

from __future__ import annotations

import json
import threading
import time

import grpc
import pytest

from agent.gnmi.pb import gnmi_pb2
from agent.security.audit import read_audit_log
from tests.northbound.harness import TIMEOUT, AgentThread, Client, code_of, path

JSON_IETF = gnmi_pb2.JSON_IETF


def tree_of(response: gnmi_pb2.GetResponse) -> dict:
    update = response.notification[0].update[0]
    return json.loads(update.val.json_ietf_val or update.val.json_val)


def slice_names(tree: dict) -> set[str]:
    """The slice names in a tree of the root or of /slices."""
    inner = tree.get("edge-slices:slices", tree)
    return {s["name"] for s in inner.get("slice") or inner.get("edge-slices:slice") or []}


def test_a_tenant_gets_only_its_view(client_for) -> None:
    tree = tree_of(client_for("tenant-a").get("/", encoding=JSON_IETF))
    assert set(tree) == {"edge-slices:slices", "edge-ports:ports", "edge-tenants:tenants"}
    assert slice_names(tree) == {"embb", "urllc"}
    assert {t["name"] for t in tree["edge-tenants:tenants"]["tenant"]} == {"operator-a"}
    delegated = set(tree["edge-tenants:tenants"]["tenant"][0]["config"]["ports"])
    assert {p["name"] for p in tree["edge-ports:ports"]["port"]} == delegated
    b = tree_of(client_for("tenant-b").get("/", encoding=JSON_IETF))
    assert slice_names(b) == {"miot"}


def test_another_tenants_slice_does_not_exist(client_for) -> None:
    tenant = client_for("tenant-a")
    code, _details = code_of(lambda: tenant.get("/slices/slice[name=miot]/config"))
    assert code is grpc.StatusCode.NOT_FOUND
    wildcard = tenant.get("/slices/slice[name=*]/config/name")
    names = {u.val.json_val for u in wildcard.notification[0].update}
    assert names == {b'"embb"', b'"urllc"'}
    code, _ = code_of(lambda: tenant.get("/platform"))
    assert code is grpc.StatusCode.NOT_FOUND


def test_a_tenant_may_change_its_slice_but_not_anothers(client_for, agent: AgentThread) -> None:
    tenant = client_for("tenant-a")
    admin = client_for("admin")
    tenant.set(update=[("/slices/slice[name=embb]/config/description", b'"mine"')])
    assert tree_of(admin.get("/slices/slice[name=embb]/config/description")) == "mine"
    before = agent.agent.datastore.running
    code, details = code_of(
        lambda: tenant.set(update=[("/slices/slice[name=miot]/config/description", b'"x"')])
    )
    assert code is grpc.StatusCode.PERMISSION_DENIED
    reason = details.split("): ", 1)[1]  # after the echo of the client's own operation
    assert "miot" not in reason and "operator-b" not in details
    assert agent.agent.datastore.running.version == before.version


def test_a_tenants_replace_of_slices_leaves_others_untouched(client_for) -> None:
    tenant, admin = client_for("tenant-a"), client_for("admin")
    config = gnmi_pb2.GetRequest.CONFIG
    miot = tree_of(admin.get("/slices/slice[name=miot]", encoding=JSON_IETF, type=config))
    embb = tree_of(admin.get("/slices/slice[name=embb]", encoding=JSON_IETF, type=config))
    only = embb.get("edge-slices:slice", [embb])[0]
    tenant.set(replace=[("/slices", json.dumps({"slice": [only]}).encode())])
    after = tree_of(admin.get("/slices", encoding=JSON_IETF, type=config))
    assert slice_names(after) == {"embb", "miot"}  # urllc (A's) replaced away, miot kept
    assert tree_of(admin.get("/slices/slice[name=miot]", encoding=JSON_IETF, type=config)) == miot


def test_read_only_parts_of_the_view_cannot_change(client_for) -> None:
    tenant = client_for("tenant-a")
    for leaf, value in (
        ("/ports/port[name=tor-tf1/1]/config/mtu", b"1600"),
        ("/tenants/tenant[name=operator-a]/config/max-slices", b"99"),
    ):
        code, details = code_of(lambda leaf=leaf, value=value: tenant.set(update=[(leaf, value)]))
        assert code is grpc.StatusCode.PERMISSION_DENIED
        assert "read-only" in details


def test_a_slice_over_the_quota_is_refused_naming_it(client_for) -> None:
    tenant = client_for("tenant-b")  # max-slices 4, has 1
    codes = []
    for i in range(4):
        new = {
            "name": f"iot{i}",
            "config": {"name": f"iot{i}", "sst": 3, "vlan-id": 700 + i},
            "members": {"member": [{"port": "tor-tf1/2/1", "config": {"port": "tor-tf1/2/1"}}]},
        }
        try:
            tenant.set(update=[(f"/slices/slice[name=iot{i}]", json.dumps(new).encode())])
            codes.append("OK")
        except grpc.RpcError as err:
            codes.append(err.code().name)
            details = err.details()
    assert codes == ["OK", "OK", "OK", "INVALID_ARGUMENT"]
    assert "max-slices" in details


def test_tenants_writes_and_refusals_are_audited(client_for, state_dir) -> None:
    tenant = client_for("tenant-a")
    tenant.set(update=[("/slices/slice[name=embb]/config/description", b'"audited"')])
    code_of(lambda: tenant.set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"1600")]))
    records = [r for r in read_audit_log(state_dir / "audit") if r.user == "tenant-a"]
    assert [r.outcome.value for r in records[-2:]] == ["ok", "denied"]
    assert all(r.tenant == "operator-a" for r in records[-2:])
    assert records[-2].version is not None and records[-2].operations
    assert records[-1].peer


def _stream(client: Client, path_text: str, got: list, stop: threading.Event):
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            subscription=[gnmi_pb2.Subscription(path=path(path_text), mode=gnmi_pb2.ON_CHANGE)],
            mode=gnmi_pb2.SubscriptionList.STREAM,
        )
    )
    call = client.stub.Subscribe(iter([request] + [None] * 0), metadata=client.metadata, timeout=30)

    def read() -> None:
        try:
            for response in call:
                got.append(response)
                if stop.is_set():
                    break
        except grpc.RpcError:
            pass

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return call, thread


def _paths(responses: list, kind: str) -> set[str]:
    out = set()
    for response in responses:
        if not response.HasField("update"):
            continue
        items = (
            response.update.delete if kind == "delete" else [u.path for u in response.update.update]
        )
        for item in items:
            out.add(
                "/"
                + "/".join(
                    e.name + "".join(f"[{k}={v}]" for k, v in sorted(e.key.items()))
                    for e in item.elem
                )
            )
    return out


def _wait(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_streams_follow_a_slice_moved_between_tenants(client_for) -> None:
    a, b, admin = client_for("tenant-a"), client_for("tenant-b"), client_for("admin")
    got_a: list = []
    got_b: list = []
    stop = threading.Event()
    call_a, _ = _stream(a, "/slices/slice/state/oper-status", got_a, stop)
    call_b, _ = _stream(b, "/slices/slice/state/oper-status", got_b, stop)
    try:
        _wait(lambda: any(r.sync_response for r in got_a) and any(r.sync_response for r in got_b))
        assert not any("miot" in p for p in _paths(got_a, "update"))
        assert not any("embb" in p for p in _paths(got_b, "update"))
        ports = "/tenants/tenant[name=operator-b]/config/ports"
        held = json.loads(admin.get(ports).notification[0].update[0].val.json_val)
        members = admin.get("/slices/slice[name=embb]/members/member/config/port")
        wanted = held + [json.loads(u.val.json_val) for u in members.notification[0].update]
        admin.set(
            update=[
                (ports, json.dumps(sorted(set(wanted))).encode()),
                (
                    "/tenants/tenant[name=operator-b]/config/max-guaranteed-rate-bps",
                    b'"100000000000"',
                ),
                ("/slices/slice[name=embb]/config/tenant", b'"operator-b"'),
            ]
        )
        _wait(lambda: "/slices/slice[name=embb]" in _paths(got_a, "delete"))
        _wait(lambda: "/slices/slice[name=embb]/state/oper-status" in _paths(got_b, "update"))
    finally:
        stop.set()
        call_a.cancel()
        call_b.cancel()


def test_a_tenants_stream_quota(agent: AgentThread, client_for) -> None:
    tenant = client_for("tenant-b")  # max-subscriptions 16
    calls = []
    try:
        for _ in range(16):
            got: list = []
            call, _ = _stream(tenant, "/slices/slice/state", got, threading.Event())
            calls.append(call)
            _wait(lambda got=got: any(r.sync_response for r in got))
        got = []
        code, details = code_of(
            lambda: list(
                tenant.stub.Subscribe(
                    iter(
                        [
                            gnmi_pb2.SubscribeRequest(
                                subscribe=gnmi_pb2.SubscriptionList(
                                    subscription=[gnmi_pb2.Subscription(path=path("/slices"))],
                                    mode=gnmi_pb2.SubscriptionList.ONCE,
                                )
                            )
                        ]
                    ),
                    metadata=tenant.metadata,
                    timeout=TIMEOUT,
                )
            )
        )
        assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "max-subscriptions" in details
    finally:
        for call in calls:
            call.cancel()


@pytest.mark.parametrize("user", ["admin", "reader"])
def test_admins_and_operators_see_every_slice(client_for, user: str) -> None:
    tree = tree_of(client_for(user).get("/slices", encoding=JSON_IETF))
    assert slice_names(tree) == {"embb", "urllc", "miot"}


def test_a_tenants_set_rate_quota(client_for) -> None:
    tenant = client_for("tenant-b")  # max-set-rate 5
    codes = []
    for i in range(8):
        try:
            tenant.set(update=[("/slices/slice[name=miot]/config/description", f'"d{i}"'.encode())])
            codes.append("OK")
        except grpc.RpcError as err:
            codes.append(err.code().name)
            details = err.details()
    assert codes[:5] == ["OK"] * 5 and "RESOURCE_EXHAUSTED" in codes
    assert "max-set-rate" in details
    client_for("tenant-a").set(update=[("/slices/slice[name=embb]/config/description", b'"a"')])


POLICY = """
version = 1

[[rule]]
name = "reader-no-descriptions"
principals = ["user:reader"]
path = "/ports/port[name=*]/config/description"
action = "read"
effect = "deny"

[[rule]]
name = "operator-a-fixed-priority"
principals = ["group:tenant:operator-a"]
path = "/slices/slice[name=*]/config/priority"
action = "write"
effect = "deny"
"""


def test_policy_file_rules_apply_on_reload_without_a_restart(
    agent: AgentThread, client_for, state_dir
) -> None:
    reader, tenant = client_for("reader"), client_for("tenant-a")
    described = "/ports/port[name=tor-tf1/1]/config/description"
    client_for("admin").set(update=[(described, b'"uplink"')])
    assert reader.get(described).notification[0].update
    (state_dir / "policy.toml").write_text(POLICY)
    (state_dir / "policy.toml").chmod(0o600)
    time.sleep(0.6)  # longer than the old polling interval: nothing reads the file by itself
    assert reader.get(described).notification[0].update
    agent.run(agent.agent.reload())  # what SIGHUP does
    with pytest.raises(grpc.RpcError) as refused:
        reader.get(described)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    port = reader.get("/ports/port[name=tor-tf1/1]/config").notification[0].update[0]
    assert "description" not in json.loads(port.val.json_val)
    code, details = code_of(
        lambda: tenant.set(update=[("/slices/slice[name=embb]/config/priority", b"5")])
    )
    assert code is grpc.StatusCode.PERMISSION_DENIED and "operator-a-fixed-priority" in details
    tenant.set(update=[("/slices/slice[name=embb]/config/description", b'"still fine"')])


def test_a_tenants_usage_shows_its_streams_and_writes(client_for) -> None:
    tenant = client_for("tenant-b")
    tenant.set(update=[("/slices/slice[name=miot]/config/description", b'"counted"')])
    got: list = []
    call, _ = _stream(tenant, "/slices/slice/state", got, threading.Event())
    try:
        _wait(lambda: any(r.sync_response for r in got))
        state = "/tenants/tenant[name=operator-b]/state"
        usage = tree_of(client_for("admin").get(state))
        assert usage["subscriptions"] == 1 and usage["set-rate"] >= 1 and usage["slices"] == 1
    finally:
        call.cancel()
