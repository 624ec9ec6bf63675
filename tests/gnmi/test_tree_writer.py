"""TreeWriter writes exactly what the generic encoder writes, and reuses the text of
configuration subtrees it has seen, by object identity only."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from gnmi_fake_schema import FakeSchema
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.gnmi.errors import GnmiError
from agent.gnmi.json_value import dump_json
from agent.gnmi.tree_codec import encode_tree
from agent.gnmi.tree_writer import TreeWriter
from agent.schema.path import DataPath

SCHEMA = FakeSchema()
P = DataPath.parse


def config_only(path: DataPath) -> bool:
    return path.elems[-1].name == "config"


def generic(path: DataPath, value: Any, ietf: bool) -> str | GnmiError:
    try:
        return dump_json(encode_tree(path, value, SCHEMA, ietf=ietf)).decode("utf-8")
    except GnmiError as err:
        return err


def written(writer: TreeWriter, path: DataPath, value: Any, ietf: bool) -> str | GnmiError:
    try:
        return writer.text(path, value, ietf=ietf)
    except GnmiError as err:
        return err


def same(a: str | GnmiError, b: str | GnmiError) -> bool:
    if isinstance(a, GnmiError) or isinstance(b, GnmiError):
        return (
            isinstance(a, GnmiError)
            and isinstance(b, GnmiError)
            and (a.code, a.message) == (b.code, b.message)
        )
    return a == b


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    st.sampled_from([0, 1, 255, 256, 65535, 65536, -1, 2**63, 2**64 - 1, 2**64]),
    st.sampled_from(["0", "007", "+5", "-5", "18446744073709551615", "18446744073709551616"]),
    st.sampled_from(["10G", "rs", "UP", "tofino2", "edge-types:tofino2", "x:y:z", "a b"]),
    st.sampled_from(["1.5", "92233720368547758.07", "AAEC", "!!", "bit1  bit2"]),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.just([None]),
    st.lists(st.integers(0, 70000), max_size=3),
    st.lists(st.text(max_size=3), max_size=3),
)
VALID = {
    "name": st.text(max_size=6),
    "device": st.text(max_size=6),
    "index": st.integers(0, 2**32 - 1),
    "enabled": st.booleans(),
    "mtu": st.integers(0, 65535),
    "description": st.text(max_size=12),
    "speed": st.sampled_from(["10G", "25G", "100G", "400G"]),
    "fec": st.sampled_from(["none", "rs", "fc"]),
    "allowed-vlans": st.lists(st.integers(0, 65535), max_size=3),
    "auto-negotiate": st.just([None]),
    "loss-budget": st.sampled_from(["1.5", "0.25", "-3.0"]),
    "native-vlan": st.one_of(st.integers(0, 65535), st.text(max_size=4)),
    "offset": st.integers(-(2**63), 2**63 - 1).map(str),
    "trim": st.integers(-128, 127),
    "flags": st.sampled_from(["", "a", "a b"]),
    "oper-status": st.sampled_from(["UP", "DOWN"]),
    "eeprom": st.sampled_from(["", "AAEC"]),
    "slices": st.lists(st.text(max_size=3), max_size=3),
    "in-octets": st.integers(0, 2**64 - 1).map(str),
    "in-errors": st.integers(0, 2**64 - 1),
}


def leaf_value(leaf: str) -> st.SearchStrategy[Any]:
    """Mostly values of the leaf's type, sometimes anything."""
    valid = VALID.get(leaf, SCALARS)
    return st.one_of(valid, valid, valid, valid, valid, valid, valid, valid, valid, SCALARS)


PORT_LEAVES = [
    "name",
    "device",
    "index",
    "enabled",
    "mtu",
    "description",
    "speed",
    "fec",
    "allowed-vlans",
    "auto-negotiate",
    "loss-budget",
    "native-vlan",
    "offset",
    "trim",
    "flags",
    "unknown-leaf",
    "edge-slices:name",
]
STATE_LEAVES = ["oper-status", "eeprom", "slices"]


@st.composite
def port_trees(draw: st.DrawFn) -> dict[str, Any]:
    ports = []
    for n in range(draw(st.integers(0, 3))):
        config = {
            leaf: draw(leaf_value(leaf)) for leaf in draw(st.lists(st.sampled_from(PORT_LEAVES)))
        }
        state = {
            leaf: draw(leaf_value(leaf)) for leaf in draw(st.lists(st.sampled_from(STATE_LEAVES)))
        }
        counters = {
            leaf: draw(leaf_value(leaf))
            for leaf in draw(st.lists(st.sampled_from(["in-octets", "in-errors"])))
        }
        if counters:
            state["counters"] = counters
        entry: dict[str, Any] = {"name": f"p{n}", "config": config}
        if state:
            entry["state"] = state
        ports.append(entry)
    return {"edge-ports:ports": {"port": ports}}


@settings(max_examples=400, deadline=None)
@given(tree=port_trees(), ietf=st.booleans())
def test_the_text_is_the_generic_encoders(tree: dict[str, Any], ietf: bool) -> None:
    writer = TreeWriter(SCHEMA, config_only)
    for path, value in (
        (DataPath.root(), tree),
        (P("/ports"), tree["edge-ports:ports"]),
        (P("/ports/port"), tree["edge-ports:ports"]["port"]),
    ):
        expected = generic(path, value, ietf)
        assert same(written(writer, path, value, ietf), expected)
        assert same(written(writer, path, value, ietf), expected)  # again, from the caches
    for entry in tree["edge-ports:ports"]["port"]:
        path = P(f"/ports/port[name={entry['name']}]/config")
        assert same(
            written(writer, path, entry["config"], ietf), generic(path, entry["config"], ietf)
        )


@settings(max_examples=600, deadline=None)
@given(
    leaf=st.sampled_from(PORT_LEAVES), value=st.one_of(SCALARS, *VALID.values()), ietf=st.booleans()
)
def test_each_leaf_is_written_as_the_generic_encoder_writes_it(
    leaf: str, value: Any, ietf: bool
) -> None:
    writer = TreeWriter(SCHEMA, config_only)
    config = {leaf: value}
    path = P("/ports/port[name=p]/config")
    assert same(written(writer, path, config, ietf), generic(path, config, ietf))
    at = P(f"/ports/port[name=p]/config/{leaf}")
    assert same(written(writer, at, value, ietf), generic(at, value, ietf))


def test_other_modules_and_identities_are_written_as_the_encoding_wants() -> None:
    tree = {
        "edge-platform:platform": {
            "devices": {"device": [{"name": "sw1", "config": {"chipset": "edge-types:tofino2"}}]}
        },
        "edge-ports:ports": {
            "port": [{"name": "p", "state": {"edge-slices:slices": ["gold"], "counters": {}}}]
        },
    }
    writer = TreeWriter(SCHEMA, config_only)
    assert writer.text(DataPath.root(), tree, ietf=True) == (
        '{"edge-platform:platform":{"devices":{"device":[{"name":"sw1","config":'
        '{"chipset":"edge-types:tofino2"}}]}},"edge-ports:ports":{"port":[{"name":"p",'
        '"state":{"edge-slices:slices":["gold"],"counters":{}}}]}}'
    )
    assert writer.text(DataPath.root(), tree, ietf=False) == (
        '{"platform":{"devices":{"device":[{"name":"sw1","config":{"chipset":"tofino2"}}]}},'
        '"ports":{"port":[{"name":"p","state":{"slices":["gold"],"counters":{}}}]}}'
    )


def test_a_value_that_does_not_fit_is_internal_and_names_the_leaf() -> None:
    tree = {
        "port": [{"name": "p1", "config": {"mtu": 9000}}, {"name": "p2", "config": {"mtu": -3}}]
    }
    with pytest.raises(GnmiError) as err:
        TreeWriter(SCHEMA, config_only).text(P("/ports"), tree, ietf=True)
    assert err.value.code.name == "INTERNAL"
    assert "/ports/port/config/mtu: -3 is out of range" in err.value.message


class CountingDict(dict[str, Any]):
    """A dict that counts how often its members are walked."""

    walks = 0

    def items(self) -> Any:
        CountingDict.walks += 1
        return super().items()


def test_the_text_of_a_configuration_subtree_is_reused_for_the_same_object_only() -> None:
    writer = TreeWriter(SCHEMA, config_only)
    config = CountingDict({"mtu": 9000, "description": "uplink", "loss-budget": "1.5"})
    entry = {"name": "p1", "config": config}
    first = writer.text(P("/ports/port"), [entry], ietf=True)
    walks = CountingDict.walks
    fresh_entry = {"name": "p1", "config": config, "state": {"oper-status": "UP"}}
    second = writer.text(P("/ports/port"), [fresh_entry], ietf=True)
    assert CountingDict.walks == walks, "the config object was written from its cached text"
    assert second == generic(P("/ports/port"), [fresh_entry], True)
    assert first == generic(P("/ports/port"), [entry], True)

    edited = copy.copy(config)  # equal content, another object: written again
    edited["mtu"] = 1500
    third = writer.text(P("/ports/port"), [{"name": "p1", "config": edited}], ietf=True)
    assert '"mtu":1500' in third and '"mtu":9000' not in third


def test_nothing_is_cached_without_a_stable_predicate() -> None:
    writer = TreeWriter(SCHEMA)
    config = CountingDict({"mtu": 9000})
    for _ in range(2):
        assert writer.text(P("/ports/port"), [{"name": "p", "config": config}], ietf=False) == (
            '[{"name":"p","config":{"mtu":9000}}]'
        )
    assert CountingDict.walks >= 2


def test_decimals_and_unions_go_through_the_generic_encoder() -> None:
    config = {"loss-budget": Decimal("2.50"), "native-vlan": "10", "allowed-vlans": [1, 2]}
    path = P("/ports/port[name=p]/config")
    for ietf in (False, True):
        assert TreeWriter(SCHEMA).text(path, config, ietf=ietf) == generic(path, config, ietf)
