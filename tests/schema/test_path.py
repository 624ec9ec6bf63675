"""The internal path type: gNMI path-convention strings, keys with special characters."""

from __future__ import annotations

import pytest

from agent.schema.path import DataPath, PathElem, PathSyntaxError


@pytest.mark.parametrize(
    "key",
    ["eth1/0", "a:b", "with space", "x=y", "br]acket", "back\\slash", "*", ""],
)
def test_key_values_round_trip(key: str) -> None:
    path = DataPath.root().child("ports").child("port", name=key).child("config").child("mtu")
    assert DataPath.parse(str(path)) == path
    assert path.elems[1].key_map == {"name": key}


def test_module_qualifiers_and_wildcards() -> None:
    path = DataPath.parse("/edge-ports:ports/port[name=*]/.../mtu")
    assert path.elems[0] == PathElem("ports", (), "edge-ports")
    assert path.is_wildcard
    assert path.without_modules() == DataPath.parse("/ports/port[name=*]/.../mtu")
    assert not DataPath.parse("/ports/port[name=a]").is_wildcard


def test_keys_are_order_independent() -> None:
    assert DataPath.parse("/a/b[x=1][y=2]") == DataPath.parse("/a/b[y=2][x=1]")


def test_root_and_prefix_relations() -> None:
    assert DataPath.parse("/") == DataPath.root() and str(DataPath.root()) == "/"
    leaf = DataPath.parse("/slices/slice[name=s]/config/sst")
    assert leaf.startswith(DataPath.parse("/slices/slice[name=s]"))
    assert not leaf.startswith(DataPath.parse("/slices/slice[name=t]"))
    assert leaf.parent == DataPath.parse("/slices/slice[name=s]/config")


@pytest.mark.parametrize("bad", ["/a//b", "/a[k]", "/a[k=v", "/a[=v]", "/a[k=1][k=2]", "/a[k=v]x"])
def test_malformed_paths_are_refused(bad: str) -> None:
    with pytest.raises(PathSyntaxError):
        DataPath.parse(bad)
