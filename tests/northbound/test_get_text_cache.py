"""Get answers built from cached configuration text stay fresh and stay in their view.

Real gRPC to an in-process agent on the default site; operator-a (user tenant-a) holds
slices embb and urllc, operator-b slice miot.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from agent.gnmi.json_value import dump_json
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.schema_info import CachedSchema
from agent.gnmi.tree_codec import encode_tree
from agent.schema.path import DataPath
from tests.northbound.harness import AgentThread

JSON, JSON_IETF = gnmi_pb2.JSON, gnmi_pb2.JSON_IETF
CONFIG, ALL = gnmi_pb2.GetRequest.CONFIG, gnmi_pb2.GetRequest.ALL


def text_of(response: Any) -> bytes:
    update = response.notification[0].update[0]
    return bytes(update.val.json_ietf_val or update.val.json_val)


def descriptions(text: bytes) -> dict[str, str | None]:
    tree = json.loads(text)
    inner = tree.get("edge-slices:slices", tree)
    entries = inner.get("slice") or inner.get("edge-slices:slice") or []
    return {s["name"]: s.get("config", {}).get("description") for s in entries}


def test_views_never_share_answers_and_commits_show_at_once(client_for) -> None:
    admin, tenant_a, tenant_b = client_for("admin"), client_for("tenant-a"), client_for("tenant-b")
    for round_ in range(3):
        admin.set(
            update=[
                ("/slices/slice[name=embb]/config/description", f'"embb {round_}"'.encode()),
                ("/slices/slice[name=miot]/config/description", f'"miot {round_}"'.encode()),
            ]
        )
        for encoding in (JSON, JSON_IETF):
            for _ in range(2):  # the second Get of each is answered from the caches
                seen_admin = descriptions(text_of(admin.get("/slices", encoding=encoding)))
                seen_a = descriptions(text_of(tenant_a.get("/slices", encoding=encoding)))
                seen_b = descriptions(text_of(tenant_b.get("/slices", encoding=encoding)))
                assert set(seen_admin) == {"embb", "urllc", "miot"}
                assert set(seen_a) == {"embb", "urllc"}
                assert set(seen_b) == {"miot"}
                assert seen_admin["embb"] == seen_a["embb"] == f"embb {round_}"
                assert seen_admin["miot"] == seen_b["miot"] == f"miot {round_}"


def test_a_get_with_state_after_a_commit_shows_the_new_configuration(
    client_for, agent: AgentThread
) -> None:
    admin = client_for("admin")
    for mtu in (9100, 9200, 9100):
        admin.set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", str(mtu).encode())])
        tree = json.loads(text_of(admin.get("/ports", encoding=JSON_IETF, type=ALL)))
        port = next(p for p in tree["edge-ports:port"] if p["name"] == "tor-tf1/1")
        assert port["config"]["mtu"] == mtu
        assert port["state"]["mtu"] == mtu, "the hardware runs what was committed"
        others = [p for p in tree["edge-ports:port"] if p["name"] != "tor-tf1/1"]
        assert all("state" in p and "config" in p for p in others)


def test_the_configuration_answer_is_the_generic_encoders(client_for, agent: AgentThread) -> None:
    admin = client_for("admin")
    admin.set(update=[("/ports/port[name=tor-tf1/1]/config/description", b'"warm"')])
    admin.get("/ports", encoding=JSON_IETF, type=CONFIG)  # fills the text caches
    admin.set(update=[("/ports/port[name=tor-tf1/1]/config/description", b'"changed"')])
    schema = CachedSchema(agent.agent.schema)
    running = agent.agent.datastore.running.tree
    for encoding, ietf in ((JSON, False), (JSON_IETF, True)):
        answer = text_of(admin.get("/ports", encoding=encoding, type=CONFIG))
        expected = dump_json(
            encode_tree(DataPath.parse("/ports"), running["edge-ports:ports"], schema, ietf=ietf)
        )
        assert answer == expected
        assert b'"changed"' in answer and b'"warm"' not in answer


def test_an_answer_outlives_commits_elsewhere_and_follows_its_own_slice(
    client_for, agent: AgentThread, monkeypatch: Any
) -> None:
    """A tenant's encoded answer is kept while another tenant commits, and is made anew
    when its own slice changes or leaves its view."""
    from agent.northbound import get as get_module

    built: list[str] = []
    original = get_module.GetHandler._updates_of

    def counting(self: Any, query: Any, q: Any, tree: Any) -> Any:
        built.append(str(q.path))
        return original(self, query, q, tree)

    monkeypatch.setattr(get_module.GetHandler, "_updates_of", counting)
    admin, tenant_a, tenant_b = client_for("admin"), client_for("tenant-a"), client_for("tenant-b")
    miot = "/slices/slice[name=miot]/config/description"
    assert text_of(tenant_b.get(miot, type=CONFIG)) == b'"Massive IoT for city sensors"'
    tenant_a.set(update=[("/slices/slice[name=embb]/config/description", b'"a commits"')])
    admin.set(update=[("/ports/port[name=tor-tf1/1]/config/mtu", b"9100")])
    assert text_of(tenant_b.get(miot, type=CONFIG)) == b'"Massive IoT for city sensors"'
    assert len(built) == 1, "the commits elsewhere kept B's answer"
    admin.set(update=[(miot, b'"changed"')])
    assert text_of(tenant_b.get(miot, type=CONFIG)) == b'"changed"'
    assert len(built) == 2
    port = "/ports/port[name=ipu-e2k/1]/config/name"
    assert text_of(tenant_b.get(port, type=CONFIG)) == b'"ipu-e2k/1"'
    assert text_of(tenant_b.get(port, type=CONFIG)) == b'"ipu-e2k/1"'
    admin.set(delete=["/slices/slice[name=miot]/members/member[port=ipu-e2k/1]"])
    assert text_of(tenant_b.get(port, type=CONFIG)) == b'"ipu-e2k/1"'
    kept = b'["tor-tf1/2/0", "tor-tf1/2/1", "nic-cx6/1"]'  # the port is no longer delegated
    admin.set(replace=[("/tenants/tenant[name=operator-b]/config/ports", kept)])
    try:
        tenant_b.get(port, type=CONFIG)
    except grpc.RpcError as err:
        assert err.code() is grpc.StatusCode.NOT_FOUND, err
    else:
        raise AssertionError("the port left B's view but B still reads it")
