"""Edits refuse values with two list entries of the same keys and paths whose keys hold
characters no YANG string may; refused commits change nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.json_text import MAX_JSON_DEPTH
from agent.schema.path import DataPath
from tests.datastore.harness import build, hw

P = DataPath.parse
Tree = dict[str, Any]


@pytest.fixture(scope="module")
def ops(engine: SchemaEngine) -> TreeOps:
    return TreeOps(engine.nav)


@pytest.fixture
def ds(engine: SchemaEngine, tmp_path: Path) -> Iterator[Datastore]:
    datastore = build(engine, tmp_path / "state", FakeClock())
    yield datastore
    datastore.stop()


def port(name: str, mtu: int = 1500) -> Tree:
    return {"name": name, "config": {"name": name, "device": "tor-tf1", "index": 30, "mtu": mtu}}


def refused(call: Any, *args: Any) -> str:
    """The message of the INVALID DatastoreError ``call(*args)`` raises."""
    with pytest.raises(DatastoreError) as excinfo:
        call(*args)
    assert excinfo.value.kind is ErrorKind.INVALID, excinfo.value
    return excinfo.value.message


# --- duplicate entries in a value -------------------------------------------------------


@pytest.mark.parametrize("merge", [False, True], ids=["replace", "update"])
def test_two_entries_with_one_key_are_refused(ops: TreeOps, site: Tree, merge: bool) -> None:
    edit = ops.update if merge else ops.replace
    value = [port("a", 1500), port("b"), port("a", 9000)]
    message = refused(edit, site, P("/ports/port"), value)
    assert message == (
        "/ports/port[name=a]: list 'port' has two entries with the key name='a' [key]"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("/ports", {"port": [port("a"), port("a")]}),
        ("/edge-ports:ports", {"port": [port("a"), port("a")]}),
        ("/", {"edge-ports:ports": {"port": [port("a"), port("a")]}}),
    ],
)
def test_duplicates_are_found_below_the_edited_node(
    ops: TreeOps, site: Tree, path: str, value: Any
) -> None:
    for edit in (ops.replace, ops.update):
        assert "/ports/port[name=a]: list 'port'" in refused(edit, site, P(path), value)


def test_duplicates_in_a_nested_list_are_refused(ops: TreeOps, site: Tree) -> None:
    sl = copy.deepcopy(site["edge-slices:slices"]["slice"][0])
    member = sl["members"]["member"][0]
    sl["members"]["member"].append(copy.deepcopy(member))
    name, key = sl["name"], member["port"]
    where = f"/slices/slice[name={name}]/members/member[port={key}]"
    for path, value in (
        (f"/slices/slice[name={name}]", sl),
        ("/slices/slice", [sl]),
        (f"/slices/slice[name={name}]/members", sl["members"]),
    ):
        message = refused(ops.replace, site, P(path), value)
        assert message.startswith(f"{where}: list 'member' has two entries with the key port=")


def test_distinct_entries_and_merges_are_fine(ops: TreeOps, site: Tree) -> None:
    tree = ops.replace(site, P("/ports/port"), [port("a"), port("b")])
    tree = ops.update(tree, P("/ports/port"), [port("a", 9000), port("c")])
    names = [p["name"] for p in tree["edge-ports:ports"]["port"]]
    assert names == ["a", "b", "c"]


# --- forbidden characters in path keys --------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\ud800", "\ufffe", "\U0010ffff"])
def test_path_keys_with_forbidden_characters_are_refused(
    ops: TreeOps, site: Tree, char: str
) -> None:
    key = f"tor-tf1/1{char}"
    calls = [
        lambda: ops.replace(site, P(f"/ports/port[name={key}]"), port(key)),
        lambda: ops.update(site, P(f"/ports/port[name={key}]/config/mtu"), 1500),
        lambda: ops.delete(site, P(f"/ports/port[name={key}]")),
        lambda: ops.delete(site, P(f"/slices/slice[name=*]/members/member[port={key}]")),
    ]
    for call in calls:
        message = refused(call)
        assert message.endswith("[character]") and f"U+{ord(char):04X}" in message
        assert char not in message


def test_path_keys_with_allowed_control_characters_pass(ops: TreeOps, site: Tree) -> None:
    assert ops.delete(site, P("/ports/port[name=a\tb\x7f]")) == site


# --- whole commits ----------------------------------------------------------------------


def test_a_refused_commit_changes_nothing(ds: Datastore) -> None:
    before, version, hardware = ds.running.tree, ds.running.version, hw(ds)
    ports = copy.deepcopy(before["edge-ports:ports"]["port"])
    ports.append(copy.deepcopy(ports[0]))
    ports[-1]["config"]["mtu"] = 1600
    attempts = [
        [Edit.replace("/ports/port", ports)],
        [Edit.update("/ports/port[name=tor-tf1/1]/config/description", "a\x00b")],
        [Edit.update("/ports/port[name=tor-tf1/1]/config/mtu", 1600), Edit.delete("/x[k=\x00]")],
    ]
    for edits in attempts:
        with pytest.raises(DatastoreError) as excinfo:
            ds.commit(edits)
        assert excinfo.value.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND)
    assert ds.running.tree is before and ds.running.version == version
    assert hw(ds) == hardware


def test_nul_in_a_committed_value_is_refused_with_its_rule(ds: Datastore) -> None:
    with pytest.raises(DatastoreError) as excinfo:
        ds.commit([Edit.update("/ports/port[name=tor-tf1/1]/config/description", "x\x00")])
    assert excinfo.value.kind is ErrorKind.INVALID and excinfo.value.op_index == 0
    assert "/ports/port[name=tor-tf1/1]/config/description" in excinfo.value.message
    assert "[character]" in excinfo.value.message


def test_values_as_deep_as_the_limit_are_refused_not_crashed(ds: Datastore) -> None:
    deep: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    for edit in (
        Edit.update("/ports/port[name=tor-tf1/1]/config/description", deep),
        Edit.update("/ports/port[name=tor-tf1/1]/config", {"mtu": deep}),
        Edit.replace("/ports/port[name=tor-tf1/1]/config", {"name": "tor-tf1/1", "x": deep}),
        Edit.replace("/", {"edge-ports:ports": {"port": deep}}),
    ):
        with pytest.raises(DatastoreError) as excinfo:
            ds.commit([edit])
        assert excinfo.value.kind is ErrorKind.INVALID
    # Unknown members alone are no change to the data the schema knows: nothing happens.
    result = ds.commit([Edit.replace("/", {**ds.running.tree, "edge-ports:gadget": deep})])
    assert result.changes == () and ds.running.version == 1
