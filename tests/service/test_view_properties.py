"""Properties of tenant views over generated edits (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.datastore.edits import Edit, EditKind, gnmi_order
from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.service.views import TenantView

PROPERTIES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def ops(engine: SchemaEngine) -> TreeOps:
    return TreeOps(engine.nav)


def _apply(ops: TreeOps, tree: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    """``edits`` applied as a transaction does: deletes, replaces, updates."""
    for _, edit in gnmi_order(edits):
        if edit.kind is EditKind.DELETE:
            tree = ops.delete(tree, edit.path)
        elif edit.kind is EditKind.REPLACE:
            tree = ops.replace(tree, edit.path, edit.value)
        else:
            tree = ops.update(tree, edit.path, edit.value)
    return tree


def _by_name(tree: dict[str, Any]) -> dict[str, Any]:
    """``tree`` with the slice list as a mapping (its order is not significant)."""
    slices = tree.get("edge-slices:slices", {}).get("slice", [])
    return {**tree, "edge-slices:slices": {s["name"]: s for s in slices}}


def _slice_names(tree: dict[str, Any]) -> list[str]:
    return [s["name"] for s in tree.get("edge-slices:slices", {}).get("slice", [])]


def test_views_cover_the_site_and_never_overlap(site: dict) -> None:
    tenants = [t["name"] for t in site["edge-tenants:tenants"]["tenant"]]
    covered: list[str] = []
    for tenant in tenants:
        shown = TenantView.of(tenant, site).project(site)
        covered += _slice_names(shown)
        assert set(shown) <= {"edge-slices:slices", "edge-ports:ports", "edge-tenants:tenants"}
    unowned = [
        s["name"] for s in site["edge-slices:slices"]["slice"] if not s["config"].get("tenant")
    ]
    assert len(covered) == len(set(covered))  # no slice in two views
    assert sorted(covered + unowned) == sorted(_slice_names(site))  # admins see the rest


leaf_edits = st.tuples(
    st.sampled_from(["description", "priority", "enabled"]),
    st.one_of(st.text(max_size=8), st.integers(0, 7), st.booleans()),
)


@PROPERTIES
@given(
    tenant=st.sampled_from(["operator-a", "operator-b"]),
    picks=st.lists(st.tuples(st.integers(0, 10), leaf_edits, st.booleans()), max_size=4),
)
def test_an_edit_in_a_view_equals_the_same_edit_on_the_site(
    ops: TreeOps, site: dict, tenant, picks
) -> None:
    view = TenantView.of(tenant, site)
    own = sorted(view.slices)
    edits: list[Edit] = []
    for index, (leaf, value), delete in picks:
        name = own[index % len(own)]
        path = DataPath.parse(f"/slices/slice[name={name}]")
        if delete:
            edits.append(Edit.delete(path))
        else:
            edits.append(Edit.update(path.child("config").child(leaf), value))
    site_edits, _ = view.site_edits(ops, site, edits)
    expected = _apply(ops, site, edits)
    for entry in expected.get("edge-slices:slices", {}).get("slice", []):
        if "tenant" not in entry.get("config", {}):  # re-created: it belongs to its creator
            expected = ops.update(
                expected,
                DataPath.parse(f"/slices/slice[name={entry['name']}]/config/tenant"),
                tenant,
            )
    assert _by_name(_apply(ops, site, site_edits)) == _by_name(expected)
    # what others see did not change
    for other in ("operator-a", "operator-b"):
        if other != tenant:
            before = TenantView.of(other, site)
            after_tree = _apply(ops, site, site_edits)
            assert (
                before.project(after_tree)["edge-slices:slices"]
                == before.project(site)["edge-slices:slices"]
            )
