"""Tenant views: what a tenant sees, and its edits evaluated in its view."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.service.views import FULL_VIEW, TenantView

A, B = "operator-a", "operator-b"


@pytest.fixture(scope="module")
def ops(engine: SchemaEngine) -> TreeOps:
    return TreeOps(engine.nav)


def names(tree: dict[str, Any], top: str, item: str) -> set[str]:
    return {e["name"] for e in tree.get(top, {}).get(item, [])}


def slices(tree: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in tree["edge-slices:slices"]["slice"]}


def apply(ops: TreeOps, tree: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    for edit in edits:
        if edit.kind.value == "delete":
            tree = ops.delete(tree, edit.path)
        else:
            tree = ops.replace(tree, edit.path, edit.value)
    return tree


def test_a_tenant_sees_its_slices_ports_and_entry_only(site: dict) -> None:
    shown = TenantView.of(A, site).project(site)
    assert set(shown) == {"edge-slices:slices", "edge-ports:ports", "edge-tenants:tenants"}
    assert names(shown, "edge-slices:slices", "slice") == {"embb", "urllc"}
    assert names(shown, "edge-tenants:tenants", "tenant") == {A}
    delegated = set(site["edge-tenants:tenants"]["tenant"][0]["config"]["ports"])
    assert names(shown, "edge-ports:ports", "port") == delegated
    other = TenantView.of(B, site).project(site)
    assert names(other, "edge-slices:slices", "slice") == {"miot"}


def test_visibility_by_path(site: dict) -> None:
    view = TenantView.of(A, site)
    assert view.visible(DataPath.parse("/slices/slice[name=embb]/state/counters"))
    assert not view.visible(DataPath.parse("/slices/slice[name=miot]/state/counters"))
    assert view.visible(DataPath.parse("/ports/port[name=tor-tf1/1]/state"))
    assert not view.visible(DataPath.parse("/ports/port[name=tor-tf1/2/0]/state"))
    assert not view.visible(DataPath.parse("/platform/devices/device[name=tor-tf1]/state"))
    assert view.visible(DataPath.parse("/tenants/tenant[name=operator-a]/state"))
    assert not view.visible(DataPath.parse("/tenants/tenant[name=operator-b]/state"))


def test_views_of_all_tenants_never_overlap_on_slices(site: dict) -> None:
    tenants = [t["name"] for t in site["edge-tenants:tenants"]["tenant"]]
    seen: list[str] = []
    for tenant in tenants:
        seen += names(TenantView.of(tenant, site).project(site), "edge-slices:slices", "slice")
    owned = {s["name"] for s in site["edge-slices:slices"]["slice"] if s["config"].get("tenant")}
    assert sorted(seen) == sorted(owned)


def test_a_replace_of_slices_replaces_only_own_slices(ops: TreeOps, site: dict) -> None:
    view = TenantView.of(A, site)
    embb = copy.deepcopy(slices(site)["embb"])
    embb["config"]["description"] = "only this one"
    edits, sources = view.site_edits(
        ops, site, [Edit.replace("/edge-slices:slices", {"slice": [embb]})]
    )
    after = apply(ops, site, edits)
    assert set(slices(after)) == {"embb", "miot"}  # urllc (A's) removed, miot (B's) kept
    assert slices(after)["miot"] == slices(site)["miot"]
    assert slices(after)["embb"]["config"]["description"] == "only this one"
    assert sources == [0] * len(edits)


def test_a_new_slice_belongs_to_its_creator(ops: TreeOps, site: dict) -> None:
    view = TenantView.of(A, site)
    new = {
        "name": "video",
        "config": {"name": "video", "sst": 1, "vlan-id": 444},
        "members": {"member": [{"port": "tor-tf1/1", "config": {"port": "tor-tf1/1"}}]},
    }
    edits, _ = view.site_edits(ops, site, [Edit.update("/slices/slice[name=video]", new)])
    after = apply(ops, site, edits)
    assert slices(after)["video"]["config"]["tenant"] == A


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (Edit.update("/slices/slice[name=embb]/config/tenant", B), "another tenant"),
        (Edit.update("/ports/port[name=tor-tf1/1]/config/mtu", 1600), "read-only"),
        (Edit.update("/tenants/tenant[name=operator-a]/config/max-slices", 99), "read-only"),
        (
            Edit.update(
                "/slices/slice[name=embb]/members/member[port=tor-tf1/2/0]",
                {"port": "tor-tf1/2/0", "config": {"port": "tor-tf1/2/0"}},
            ),
            "not delegated",
        ),
        (Edit.update("/slices/slice[name=miot]/config/description", "mine now"), "not available"),
    ],
)
def test_writes_outside_the_view_are_refused(ops: TreeOps, site: dict, edit, message) -> None:
    view = TenantView.of(A, site)
    with pytest.raises(DatastoreError) as refused:
        view.site_edits(ops, site, [edit])
    assert refused.value.kind is ErrorKind.DENIED and message in refused.value.message
    assert B not in refused.value.message
    assert "miot" not in view.redact(refused.value.message)


def test_the_diff_is_authorized_whatever_the_edits(ops: TreeOps, site: dict) -> None:
    view = TenantView.of(A, site)
    after = ops.update(site, DataPath.parse("/slices/slice[name=miot]/config/priority"), 5)
    from agent.datastore.diff import diff_trees

    changes = diff_trees(site, after, ops.nav)
    with pytest.raises(DatastoreError) as refused:
        view.authorize(site, after, changes)
    assert refused.value.kind is ErrorKind.DENIED and "miot" not in refused.value.message
    mine = ops.update(site, DataPath.parse("/slices/slice[name=embb]/config/priority"), 5)
    view.authorize(site, mine, diff_trees(site, mine, ops.nav))


def test_an_edit_in_the_view_equals_the_same_edit_on_the_site(ops: TreeOps, site: dict) -> None:
    view = TenantView.of(A, site)
    edit = Edit.update("/slices/slice[name=urllc]/config/priority", 6)
    edits, _ = view.site_edits(ops, site, [edit])
    assert apply(ops, site, edits) == ops.update(site, edit.path, 6)


def test_the_full_view_is_the_identity(ops: TreeOps, site: dict) -> None:
    edit = Edit.delete("/slices/slice[name=miot]")
    assert FULL_VIEW.project(site) is site
    assert FULL_VIEW.site_edits(ops, site, [edit]) == ([edit], [0])
