"""Tenants over a real gRPC channel: Capabilities lists the module, Get reads a tenant's
state and usage, and a Set over a quota is refused with the quota named."""

from __future__ import annotations

import json

import grpc

from agent.gnmi.pb import gnmi_pb2
from tests.northbound.harness import Client, code_of, path, path_str

JSON, PROTO, JSON_IETF = 0, 2, 4
OPERATIONAL = 3
A = "/tenants/tenant[name=operator-a]"
B = "/tenants/tenant[name=operator-b]"


def value(response: gnmi_pb2.GetResponse) -> object:
    (update,) = response.notification[0].update
    kind = update.val.WhichOneof("value")
    raw = getattr(update.val, kind)
    return json.loads(raw) if kind.startswith("json") else raw


def test_capabilities_list_the_tenants_module(admin: Client) -> None:
    models = {m.name: m for m in admin.capabilities().supported_models}
    assert models["edge-tenants"].version == "2026-12-04"
    assert models["edge-tenants"].organization == "edge-agent"


def test_get_of_a_tenant_state(admin: Client) -> None:
    state = value(admin.get(f"{A}/state"))
    assert isinstance(state, dict)
    assert state["name"] == "operator-a" and state["max-slices"] == 8
    assert state["max-guaranteed-rate-bps"] == 40_000_000_000
    assert (state["slices"], state["subscriptions"], state["set-rate"]) == (2, 0, 0)
    reserved = {r["port"]: r["rate-bps"] for r in state["reserved"]}
    assert reserved["tor-tf1/1"] == 15_000_000_000 and reserved["nic-e810/2"] == 0


def test_get_of_one_reserved_rate_in_proto(admin: Client) -> None:
    where = f"{B}/state/reserved[port=nic-cx6/1]/rate-bps"
    response = admin.get(where, encoding=PROTO)
    assert path_str(response.notification[0].update[0].path) == where
    assert value(response) == 1_000_000_000


def test_operational_data_of_a_tenant_is_its_usage(admin: Client) -> None:
    state = value(admin.get(f"{B}/state", type=OPERATIONAL))
    assert state == {
        "slices": 1,
        "subscriptions": 0,
        "set-rate": 0,
        "reserved": [
            {"port": "tor-tf1/2/0", "rate-bps": 1_000_000_000},
            {"port": "tor-tf1/2/1", "rate-bps": 0},
            {"port": "nic-cx6/1", "rate-bps": 1_000_000_000},
            {"port": "ipu-e2k/1", "rate-bps": 1_000_000_000},
        ],
    }


def test_the_module_is_accepted_as_origin(admin: Client) -> None:
    request = gnmi_pb2.GetRequest(path=[path("/tenants/tenant[name=operator-b]/config/max-slices")])
    request.path[0].origin = "edge-tenants"
    assert value(admin.get_request(request)) == 4
    ietf = value(admin.get(f"{B}/config", encoding=JSON_IETF))
    assert isinstance(ietf, dict) and ietf["edge-tenants:max-set-rate"] == 5


def test_a_set_over_a_quota_is_refused_and_usage_follows_commits(admin: Client) -> None:
    rates = (
        "/slices/slice[name=miot]/config",
        b'{"min-rate-bps": "6000000000", "max-rate-bps": "8000000000"}',
    )
    code, details = code_of(lambda: admin.set(update=[rates]))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert "tenant 'operator-b' would reserve 6000000000 bps" in details
    assert "over its max-guaranteed-rate-bps quota of 5000000000" in details
    admin.set(update=[(f"{B}/config/max-guaranteed-rate-bps", b'"10000000000"')])
    admin.set(update=[rates])
    where = f"{B}/state/reserved[port=ipu-e2k/1]/rate-bps"
    assert value(admin.get(where)) == 6_000_000_000
