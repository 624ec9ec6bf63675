"""gNMI Set semantics on configuration trees: replace, update, delete, wildcards, keys."""

from __future__ import annotations

from typing import Any

import pytest

from agent.datastore.diff import ChangeKind, diff_trees
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath

P = DataPath.parse


@pytest.fixture(scope="module")
def ops(engine: SchemaEngine) -> TreeOps:
    return TreeOps(engine.nav)


def port_config(ops: TreeOps, tree: dict[str, Any], name: str) -> Any:
    return ops.get(tree, P(f"/ports/port[name={name}]/config"))


def test_get_and_select_with_wildcards(ops: TreeOps, site: dict) -> None:
    assert ops.get(site, P("/ports/port[name=tor-tf1/1]/config/mtu")) == 9000
    assert ops.get(site, P("/edge-ports:ports/port[name=tor-tf1/1]/config/speed")) == "100G"
    assert len(ops.select(site, P("/ports/port[name=*]/config/mtu"))) == 26
    assert len(ops.select(site, P("/ports/port/config/mtu"))) == 26  # missing key = all
    assert len(ops.select(site, P("/ports/*/config/mtu"))) == 26
    vlans = ops.select(site, P("/.../vlan-id"))
    assert sorted(v for _, v in vlans) == [100, 200, 300]
    assert str(vlans[0][0]) == "/slices/slice[name=embb]/config/vlan-id"
    assert ops.select(site, P("/ports/port[name=absent]")) == []


def test_unknown_schema_node_is_not_found(ops: TreeOps, site: dict) -> None:
    for path in ("/ports/gadget", "/nope", "/ports/*/colour"):
        with pytest.raises(DatastoreError) as err:
            ops.select(site, P(path))
        assert err.value.kind is ErrorKind.NOT_FOUND


def test_update_merges_and_never_deletes(ops: TreeOps, site: dict) -> None:
    new = ops.update(site, P("/ports/port[name=tor-tf1/1]/config"), {"mtu": 9100})
    cfg = port_config(ops, new, "tor-tf1/1")
    assert cfg["mtu"] == 9100 and cfg["speed"] == "100G" and cfg["description"]
    assert port_config(ops, site, "tor-tf1/1")["mtu"] == 9000  # the old tree is untouched
    assert new["edge-slices:slices"] is site["edge-slices:slices"]  # shared, not copied


def test_replace_removes_omitted_leaves(ops: TreeOps, site: dict) -> None:
    value = {"name": "tor-tf1/1", "device": "tor-tf1", "index": 1, "speed": "100G"}
    new = ops.replace(site, P("/ports/port[name=tor-tf1/1]/config"), value)
    assert port_config(ops, new, "tor-tf1/1") == value  # mtu, fec, description gone


def test_replace_of_a_list_removes_entries_not_given(ops: TreeOps, site: dict) -> None:
    one = [s for s in site["edge-slices:slices"]["slice"] if s["name"] == "miot"]
    new = ops.replace(site, P("/slices/slice"), one)
    assert [s["name"] for s in new["edge-slices:slices"]["slice"]] == ["miot"]


def test_update_of_a_list_merges_entries_by_key(ops: TreeOps, site: dict) -> None:
    new = ops.update(site, P("/slices/slice"), [{"name": "miot", "config": {"priority": 3}}])
    names = [s["name"] for s in new["edge-slices:slices"]["slice"]]
    assert names == ["embb", "urllc", "miot"]
    assert ops.get(new, P("/slices/slice[name=miot]/config/priority")) == 3
    assert ops.get(new, P("/slices/slice[name=miot]/config/sst")) == 3


def test_creating_an_entry_fills_its_key(ops: TreeOps, site: dict) -> None:
    new = ops.update(site, P("/slices/slice[name=new]/config"), {"name": "new", "sst": 9})
    entry = ops.get(new, P("/slices/slice[name=new]"))
    assert entry == {"name": "new", "config": {"name": "new", "sst": 9}}


def test_root_replace_and_update(ops: TreeOps, site: dict) -> None:
    assert ops.replace(site, DataPath.root(), {}) == {}
    merged = ops.update({}, DataPath.root(), site)
    assert merged == site


def test_delete_is_recursive_expands_wildcards_and_ignores_absent(ops: TreeOps, site: dict) -> None:
    new = ops.delete(site, P("/slices/slice[name=embb]"))
    assert [s["name"] for s in new["edge-slices:slices"]["slice"]] == ["urllc", "miot"]
    assert ops.delete(site, P("/slices/slice[name=nothing]")) is site
    no_desc = ops.delete(site, P("/ports/port[name=*]/config/description"))
    assert ops.select(no_desc, P("/ports/port/config/description")) == []
    assert ops.delete(site, P("/slices")).get("edge-slices:slices") is None
    assert ops.delete(site, DataPath.root()) == {}


@pytest.mark.parametrize(
    ("path", "value", "kind", "words"),
    [
        ("/ports/port/config/mtu", 1500, ErrorKind.INVALID, "give its key"),
        ("/ports/port[name=x]", {}, ErrorKind.INVALID, "empty value"),
        ("/ports/port[name=x]", {"name": "y"}, ErrorKind.INVALID, "contradicts"),
        ("/ports/port[name=x][colour=red]", {}, ErrorKind.INVALID, "keys"),
        ("/ports/port[name=*]/config/mtu", 1500, ErrorKind.INVALID, "wildcards"),
        ("/ports/nope", 1, ErrorKind.NOT_FOUND, "nope"),
        ("/ports/port[name=x]/config", 5, ErrorKind.INVALID, "container"),
        ("/ports/port[name=x]/config/mtu", {"a": 1}, ErrorKind.INVALID, "leaf"),
        ("/ports/port", {"name": "x"}, ErrorKind.INVALID, "array"),
        ("/ports[name=x]", {}, ErrorKind.INVALID, "not a list"),
    ],
)
def test_bad_edits_are_refused(
    ops: TreeOps, site: dict, path: str, value: Any, kind: ErrorKind, words: str
) -> None:
    with pytest.raises(DatastoreError) as err:
        ops.replace(site, P(path), value)
    assert err.value.kind is kind
    assert words in err.value.message


def test_deleting_a_list_key_leaf_is_refused(ops: TreeOps, site: dict) -> None:
    with pytest.raises(DatastoreError) as err:
        ops.delete(site, P("/ports/port[name=tor-tf1/1]/name"))
    assert err.value.kind is ErrorKind.INVALID


def test_diff_reports_leaf_updates_and_subtree_deletes(
    ops: TreeOps, engine: SchemaEngine, site: dict
) -> None:
    new = ops.update(site, P("/ports/port[name=tor-tf1/1]/config/mtu"), 9100)
    new = ops.delete(new, P("/slices/slice[name=embb]"))
    new = ops.update(new, P("/slices/slice[name=x]/config"), {"name": "x", "sst": 7, "vlan-id": 7})
    changes = {(c.kind, str(c.path), c.value) for c in diff_trees(site, new, engine.nav)}
    assert changes == {
        (ChangeKind.UPDATE, "/ports/port[name=tor-tf1/1]/config/mtu", 9100),
        (ChangeKind.DELETE, "/slices/slice[name=embb]", None),
        (ChangeKind.UPDATE, "/slices/slice[name=x]/name", "x"),
        (ChangeKind.UPDATE, "/slices/slice[name=x]/config/name", "x"),
        (ChangeKind.UPDATE, "/slices/slice[name=x]/config/sst", 7),
        (ChangeKind.UPDATE, "/slices/slice[name=x]/config/vlan-id", 7),
    }
    assert diff_trees(site, site, engine.nav) == ()
