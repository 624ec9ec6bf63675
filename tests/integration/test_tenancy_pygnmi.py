"""Tenancy on `edge-agent serve` over TLS, driven by pygnmi as an admin and two tenants.

The default site has tenants operator-a (slices embb and urllc) and operator-b (miot);
tenant users alice (operator-a) and bob (operator-b) are added with `edge-agent user add`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import (
    ADMIN_PASSWORD,
    AgentProcess,
    GnmiCallError,
    PygnmiWorker,
    add_user,
)

pytestmark = pytest.mark.integration

ALICE, BOB = "alice-pw-1234", "bob-pw-1234"


@pytest.fixture(scope="module")
def tenancy(
    pygnmi: PygnmiWorker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PygnmiWorker]:
    state_dir = tmp_path_factory.mktemp("tenancy") / "state"
    agent = AgentProcess(state_dir).start()
    try:
        add_user(state_dir, "alice", "tenant", ALICE, tenant="operator-a")
        add_user(state_dir, "bob", "tenant", BOB, tenant="operator-b")
        pygnmi.connect("t-admin", agent, "admin", ADMIN_PASSWORD)
        pygnmi.connect("alice", agent, "alice", ALICE)
        pygnmi.connect("bob", agent, "bob", BOB)
        yield pygnmi
    finally:
        for name in ("t-admin", "alice", "bob"):
            with contextlib.suppress(GnmiCallError):
                pygnmi.call("close", client=name)
        agent.stop()


def get(gnmi: PygnmiWorker, client: str, path: str, **options: Any) -> Any:
    result = gnmi.call("get", client=client, path=[path], encoding="json", **options)
    updates = result["notification"][0].get("update") or []
    return updates[0]["val"] if updates else None


def slice_names(value: Any) -> set[str]:
    inner = value.get("slices", value) if isinstance(value, dict) else {}
    inner = inner.get("edge-slices:slices", inner)
    entries = inner.get("slice") or inner.get("edge-slices:slice") or []
    return {entry["name"] for entry in entries}


def test_a_tenant_sees_only_its_slices_ports_and_entry(tenancy: PygnmiWorker) -> None:
    root = get(tenancy, "alice", "/")  # JSON: member names without modules
    assert set(root) == {"slices", "ports", "tenants"}
    assert slice_names(root["slices"]) == {"embb", "urllc"}
    tenants = root["tenants"]["tenant"]
    assert [t["name"] for t in tenants] == ["operator-a"]
    delegated = set(tenants[0]["config"]["ports"])
    assert {p["name"] for p in root["ports"]["port"]} == delegated
    assert slice_names(get(tenancy, "bob", "/slices")) == {"miot"}
    assert slice_names(get(tenancy, "t-admin", "/slices")) == {"embb", "urllc", "miot"}


def test_another_tenants_slice_is_not_found_and_cannot_be_set(tenancy: PygnmiWorker) -> None:
    with pytest.raises(GnmiCallError) as missing:
        get(tenancy, "alice", "/slices/slice[name=miot]/config")
    assert "no data" in missing.value.details
    before = get(tenancy, "t-admin", "/slices/slice[name=miot]/config/description")
    with pytest.raises(GnmiCallError) as refused:
        tenancy.call(
            "set",
            client="alice",
            update=[["/slices/slice[name=miot]/config/description", "taken"]],
        )
    assert "operator-b" not in refused.value.details
    assert get(tenancy, "t-admin", "/slices/slice[name=miot]/config/description") == before


def test_a_tenant_changes_its_own_slice(tenancy: PygnmiWorker) -> None:
    tenancy.call(
        "set", client="alice", update=[["/slices/slice[name=embb]/config/description", "ours"]]
    )
    assert get(tenancy, "t-admin", "/slices/slice[name=embb]/config/description") == "ours"


def test_a_tenants_replace_of_slices_leaves_the_others(tenancy: PygnmiWorker) -> None:
    miot = get(tenancy, "t-admin", "/slices/slice[name=miot]", datatype="config")
    urllc = get(tenancy, "alice", "/slices/slice[name=urllc]", datatype="config")
    entry = urllc["slice"][0] if "slice" in urllc else urllc
    tenancy.call("set", client="alice", replace=[["/slices", {"slice": [entry]}]])
    assert slice_names(get(tenancy, "t-admin", "/slices")) == {"urllc", "miot"}
    assert get(tenancy, "t-admin", "/slices/slice[name=miot]", datatype="config") == miot


def test_a_slice_over_the_quota_is_refused_naming_it(tenancy: PygnmiWorker) -> None:
    made, refusal = 0, ""
    for i in range(5):  # operator-b may hold 4 slices and holds 1
        new = {
            "name": f"sensor{i}",
            "config": {"name": f"sensor{i}", "sst": 3, "vlan-id": 800 + i},
            "members": {"member": [{"port": "tor-tf1/2/1", "config": {"port": "tor-tf1/2/1"}}]},
        }
        try:
            tenancy.call(
                "set",
                client="bob",
                update=[[f"/slices/slice[name=sensor{i}]", json.loads(json.dumps(new))]],
            )
            made += 1
        except GnmiCallError as err:
            refusal = err.details
            break
    assert made == 3 and "max-slices" in refusal


def test_a_stream_gets_a_delete_when_its_slice_moves_away(tenancy: PygnmiWorker) -> None:
    subscribe = {
        "subscription": [{"path": "/slices/slice/state/oper-status", "mode": "on_change"}],
        "encoding": "json",
    }
    tenancy.call("stream", client="alice", name="alice-status", subscribe=subscribe)
    ports = get(tenancy, "t-admin", "/tenants/tenant[name=operator-b]/config/ports")
    members = get(tenancy, "t-admin", "/slices/slice[name=urllc]/members")
    wanted = sorted(set(ports) | {m["port"] for m in members["member"]})
    tenancy.call(
        "set",
        client="t-admin",
        update=[
            ["/tenants/tenant[name=operator-b]/config/ports", wanted],
            ["/tenants/tenant[name=operator-b]/config/max-guaranteed-rate-bps", "100000000000"],
            ["/tenants/tenant[name=operator-b]/config/max-slices", 16],
            ["/slices/slice[name=urllc]/config/tenant", "operator-b"],
        ],
    )
    for _ in range(50):
        result = tenancy.call("next", name="alice-status", timeout=20)
        gone = ["/" + d["path"].strip("/") for d in (result.get("update") or {}).get("delete", [])]
        if any("urllc" in path for path in gone):
            break
    else:
        raise AssertionError("no delete for the moved slice")
    tenancy.call("unsubscribe", name="alice-status")
    assert "urllc" in slice_names(get(tenancy, "bob", "/slices"))
