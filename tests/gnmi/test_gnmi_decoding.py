"""Decoding Set values (TypedValue) into RFC 7951 data for a target path."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from gnmi_fake_schema import FakeSchema
from hypothesis import given
from hypothesis import strategies as st

from agent.gnmi.encoding import Encoding, decode_update, decode_value, encode_value
from agent.gnmi.errors import GnmiError
from agent.gnmi.pb import gnmi_pb2
from agent.schema.path import DataPath, PathElem

SCHEMA = FakeSchema()
P = DataPath.parse
MTU = "/ports/port[name=eth1/0]/config/mtu"
DESCRIPTION = "/ports/port[name=eth1/0]/config/description"
CHIPSET = "/platform/devices/device[name=sw1]/config/chipset"
LOSS = "/ports/port[name=eth1/0]/config/loss-budget"
VLANS = "/ports/port[name=eth1/0]/config/allowed-vlans"


def decode(path: str | DataPath, **value: object) -> object:
    where = P(path) if isinstance(path, str) else path
    return decode_value(where, gnmi_pb2.TypedValue(**value), SCHEMA)


def refused(path: str, code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT, **value):
    with pytest.raises(GnmiError) as excinfo:
        decode(path, **value)
    assert excinfo.value.code == code, excinfo.value
    return excinfo.value.message


# --- whole trees ----------------------------------------------------------------------


def test_json_ietf_tree_is_kept_in_rfc7951_form() -> None:
    text = {
        "edge-ports:ports": {
            "port": [
                {
                    "name": "eth1/0",
                    "config": {"mtu": 9000, "offset": "-5", "loss-budget": "2.50"},
                    "state": {"edge-slices:slices": ["gold"]},
                }
            ]
        }
    }
    result = decode("/", json_ietf_val=json.dumps(text).encode())
    port = result["edge-ports:ports"]["port"][0]
    assert port["config"] == {"mtu": 9000, "offset": "-5", "loss-budget": "2.5"}
    assert port["state"] == {"edge-slices:slices": ["gold"]}


def test_json_tree_gets_module_names_where_rfc7951_wants_them() -> None:
    text = {
        "ports": {
            "port": [
                {
                    "name": "eth1/0",
                    "config": {"offset": -5, "loss-budget": 2.5},
                    "state": {"slices": ["gold"], "counters": {"in-octets": 2**64 - 1}},
                }
            ]
        },
        "platform": {"devices": {"device": [{"name": "sw1", "config": {"chipset": "e810"}}]}},
    }
    result = decode("/", json_val=json.dumps(text).encode())
    port = result["edge-ports:ports"]["port"][0]
    assert port["config"] == {"offset": "-5", "loss-budget": "2.5"}
    assert port["state"]["edge-slices:slices"] == ["gold"]
    assert port["state"]["counters"]["in-octets"] == str(2**64 - 1)
    device = result["edge-platform:platform"]["devices"]["device"][0]
    assert device["config"]["chipset"] == "edge-types:e810"


def test_qualified_names_inside_one_module_are_unqualified() -> None:
    text = b'{"edge-ports:config": {"edge-ports:mtu": 1500}, "edge-ports:name": "eth1/0"}'
    result = decode("/ports/port[name=eth1/0]", json_ietf_val=text)
    assert result == {"config": {"mtu": 1500}, "name": "eth1/0"}


def test_container_subtree() -> None:
    text = b'{"mtu": "9000", "enabled": "true", "fec": "rs", "allowed-vlans": [1, "2"]}'
    result = decode("/ports/port[name=eth1/0]/config", json_val=text)
    assert result == {"mtu": 9000, "enabled": True, "fec": "rs", "allowed-vlans": [1, 2]}


def test_list_path_takes_an_array_or_one_entry() -> None:
    entries = decode("/slices/slice", json_val=b'[{"name": "gold", "config": {"sst": 1}}]')
    assert entries == [{"name": "gold", "config": {"sst": 1}}]
    one = decode("/slices/slice", json_val=b'{"name": "gold"}')
    assert one == [{"name": "gold"}]


def test_entry_key_must_agree_with_the_path_key() -> None:
    ok = decode("/ports/port[name=eth1/0]", json_val=b'{"name": "eth1/0"}')
    assert ok == {"name": "eth1/0"}
    message = refused("/ports/port[name=eth1/0]", json_val=b'{"name": "eth2/0"}')
    assert "contradicts" in message


def test_unknown_member_is_refused_naming_the_path() -> None:
    message = refused("/ports/port[name=eth1/0]/config", json_val=b'{"mtu": 1, "speedy": 2}')
    assert "/ports/port[name=eth1/0]/config/speedy" in message


def test_member_with_the_wrong_module_is_refused() -> None:
    message = refused("/ports/port[name=a]", json_ietf_val=b'{"edge-slices:config": {}}')
    assert "edge-slices" in message


@pytest.mark.parametrize(
    "text",
    [
        b'{"mtu": 1, "mtu": 2}',
        b'{"mtu": 1, "edge-ports:mtu": 2}',
        b"{not json",
        b"[]",
        b'"text"',
        b'{"mtu": {"x": 1}}',
        b'{"allowed-vlans": 5}',
    ],
)
def test_malformed_subtrees_are_refused(text: bytes) -> None:
    refused("/ports/port[name=a]/config", json_val=text)


def test_paths_the_schema_lacks_are_not_found() -> None:
    refused("/ports/port[name=a]/nothing", grpc.StatusCode.NOT_FOUND, json_val=b"{}")
    refused("/ports/port[name=a]/nothing", grpc.StatusCode.NOT_FOUND, uint_val=1)


# --- leaves ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        (MTU, b"1500", 1500),
        (MTU, b'"1500"', 1500),
        (MTU, b'{"mtu": 1500}', 1500),
        (MTU, b'{"edge-ports:mtu": 1500}', 1500),
        ("/ports/port[name=a]/state/counters/in-octets", b"18446744073709551615", str(2**64 - 1)),
        ("/ports/port[name=a]/state/counters/in-octets", b'"42"', "42"),
        ("/ports/port[name=a]/config/offset", b"-9223372036854775808", str(-(2**63))),
        (LOSS, b"2.5", "2.5"),
        (LOSS, b'"2.50"', "2.5"),
        (LOSS, b"3", "3.0"),
        (LOSS, b"-0.0", "0.0"),
        (LOSS, b"92233720368547758.07", "92233720368547758.07"),
        ("/ports/port[name=a]/config/enabled", b"false", False),
        ("/ports/port[name=a]/config/auto-negotiate", b"[null]", [None]),
        ("/ports/port[name=a]/config/flags", b'"a  b"', "a b"),
        (CHIPSET, b'"tofino1"', "edge-types:tofino1"),
        (CHIPSET, b'"edge-types:tofino1"', "edge-types:tofino1"),
        (VLANS, b"[10, 20]", [10, 20]),
        (VLANS, b'["10"]', [10]),
        (VLANS, b"10", [10]),
        ("/slices/slice[name=s]/config/tags", b"[]", []),
    ],
)
def test_json_leaf_values(path: str, text: bytes, expected: object) -> None:
    assert decode(path, json_val=text) == expected
    assert decode(path, json_ietf_val=text) == expected


@pytest.mark.parametrize(
    ("path", "raw", "expected"),
    [
        (DESCRIPTION, b"hello", "hello"),
        (DESCRIPTION, b"hello world", "hello world"),
        (DESCRIPTION, b"123", "123"),
        (DESCRIPTION, b"true", "true"),
        (DESCRIPTION, b"[draft] uplink", "[draft] uplink"),
        (DESCRIPTION, b'"quoted"', "quoted"),
        (DESCRIPTION, "Zürich/1".encode(), "Zürich/1"),
        ("/ports/port[name=a]/config/speed", b"100G", "100G"),
        ("/ports/port[name=a]/config/fec", b"fc", "fc"),
        (CHIPSET, b"tofino2", "edge-types:tofino2"),
        (CHIPSET, b"edge-types:e810", "edge-types:e810"),
        ("/slices/slice[name=s]/config/tags", b"gold", ["gold"]),
        ("/ports/port[name=a]/config/native-vlan", b"auto", "auto"),
    ],
)
def test_pygnmi_raw_text_for_string_like_leaves(path: str, raw: bytes, expected: object) -> None:
    assert decode(path, json_val=raw) == expected


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        (MTU, b"abc"),
        (MTU, b"15OO"),
        (LOSS, b"two"),
        ("/ports/port[name=a]/config/enabled", b"yes"),
        ("/ports/port[name=a]/config/speed", b"42G"),
        (CHIPSET, b"tofino9"),
        (CHIPSET, b"edge-ports:tofino1"),
    ],
)
def test_raw_text_that_does_not_fit_the_type_is_refused(path: str, raw: bytes) -> None:
    message = refused(path, json_val=raw)
    assert path.rsplit("/", 1)[-1] in message


@pytest.mark.parametrize(
    ("path", "text", "why"),
    [
        (MTU, b"65536", "out of range"),
        (MTU, b"-1", "out of range"),
        (MTU, b"1.5", "uint16"),
        (MTU, b"true", "uint16"),
        ("/ports/port[name=a]/config/trim", b"-129", "out of range"),
        ("/ports/port[name=a]/state/counters/in-octets", b"-1", "out of range"),
        ("/ports/port[name=a]/state/counters/in-octets", b"18446744073709551616", "range"),
        (LOSS, b"2.505", "fraction digits"),
        (LOSS, b"92233720368547758.08", "out of range"),
        (LOSS, b'"1e3"', "decimal64"),
        ("/ports/port[name=a]/config/auto-negotiate", b"false", "empty"),
        ("/ports/port[name=a]/state/eeprom", b'"not base64!"', "base64"),
        (VLANS, b"[1, 70000]", "out of range"),
        (DESCRIPTION, b'{"other": 1}', "string"),
    ],
)
def test_bad_leaf_values_are_invalid_argument(path: str, text: bytes, why: str) -> None:
    message = refused(path, json_val=text)
    assert why in message
    assert message.startswith(path)


def test_union_members_are_chosen_by_json_type_first() -> None:
    path = "/ports/port[name=a]/config/native-vlan"
    assert decode(path, json_val=b"5") == 5
    assert decode(path, json_val=b'"5"') == "5"
    assert decode(path, uint_val=5) == 5
    assert decode(path, string_val="trunk") == "trunk"


# --- scalar TypedValues ---------------------------------------------------------------


def test_scalar_values() -> None:
    assert decode(MTU, uint_val=9000) == 9000
    assert decode(MTU, int_val=9000) == 9000
    assert decode(MTU, string_val="9000") == 9000
    assert decode(MTU, double_val=9000.0) == 9000
    assert decode("/ports/port[name=a]/config/offset", int_val=-(2**63)) == str(-(2**63))
    assert decode("/ports/port[name=a]/state/counters/in-octets", uint_val=2**64 - 1) == str(
        2**64 - 1
    )
    assert decode("/ports/port[name=a]/config/enabled", bool_val=False) is False
    assert decode("/ports/port[name=a]/config/auto-negotiate", bool_val=True) == [None]
    assert decode(DESCRIPTION, string_val="uplink to core") == "uplink to core"
    assert decode(CHIPSET, string_val="connectx-7") == "edge-types:connectx-7"


def test_decimal64_from_double_float_and_decimal_val() -> None:
    assert decode(LOSS, double_val=2.5) == "2.5"
    assert decode(LOSS, double_val=0.1) == "0.1"
    assert decode(LOSS, float_val=0.1) == "0.1"
    assert decode(LOSS, decimal_val=gnmi_pb2.Decimal64(digits=-1234, precision=2)) == "-12.34"
    assert decode(LOSS, decimal_val=gnmi_pb2.Decimal64(digits=25, precision=0)) == "25.0"
    assert decode(LOSS, int_val=3) == "3.0"
    refused(LOSS, decimal_val=gnmi_pb2.Decimal64(digits=12345, precision=4))
    refused(LOSS, double_val=float("nan"))
    refused(LOSS, double_val=float("inf"))


def test_leaflist_val() -> None:
    array = gnmi_pb2.ScalarArray(
        element=[gnmi_pb2.TypedValue(uint_val=10), gnmi_pb2.TypedValue(string_val="20")]
    )
    assert decode(VLANS, leaflist_val=array) == [10, 20]
    nested = gnmi_pb2.ScalarArray(element=[gnmi_pb2.TypedValue(leaflist_val=array)])
    refused(VLANS, leaflist_val=nested)
    refused(VLANS, leaflist_val=gnmi_pb2.ScalarArray(element=[gnmi_pb2.TypedValue(int_val=-1)]))


def test_bytes_val_for_binary_leaves_only() -> None:
    eeprom = "/ports/port[name=a]/state/eeprom"
    assert decode(eeprom, bytes_val=b"\x00\x01") == base64.b64encode(b"\x00\x01").decode()
    refused(DESCRIPTION, bytes_val=b"hello")


def test_scalars_refused_for_the_wrong_type() -> None:
    refused(MTU, int_val=-1)
    refused(MTU, bool_val=True)
    refused(DESCRIPTION, uint_val=5)
    refused("/ports/port[name=a]/config/enabled", string_val="yes")
    message = refused("/ports/port[name=a]/config", uint_val=5)
    assert "JSON" in message
    refused(MTU)  # no value at all


@pytest.mark.parametrize(
    "value",
    [
        {"ascii_val": "mtu 1500"},
        {"proto_bytes": b"\x08\x01"},
        {"any_val": {}},
    ],
)
def test_other_value_kinds_are_unimplemented(value: dict[str, object]) -> None:
    refused(MTU, grpc.StatusCode.UNIMPLEMENTED, **value)


def test_deprecated_update_value_field() -> None:
    legacy = gnmi_pb2.Update(value=gnmi_pb2.Value(value=b"1500", type=gnmi_pb2.JSON))
    assert decode_update(P(MTU), legacy, SCHEMA) == 1500
    ietf = gnmi_pb2.Update(value=gnmi_pb2.Value(value=b'"7"', type=gnmi_pb2.JSON_IETF))
    assert decode_update(P("/ports/port[name=a]/state/counters/in-errors"), ietf, SCHEMA) == "7"
    current = gnmi_pb2.Update(val=gnmi_pb2.TypedValue(uint_val=1))
    assert decode_update(P(MTU), current, SCHEMA) == 1
    with pytest.raises(GnmiError) as excinfo:
        decode_update(P(MTU), gnmi_pb2.Update(value=gnmi_pb2.Value(value=b"x", type=1)), SCHEMA)
    assert excinfo.value.code == grpc.StatusCode.UNIMPLEMENTED


def test_values_cannot_be_set_at_wildcards() -> None:
    message = refused("/ports/port[name=*]/config/mtu", uint_val=1)
    assert "wildcard" in message
    refused("/ports/.../mtu", json_val=b"1")


def test_origin_qualified_target_path() -> None:
    path = DataPath((PathElem("ports", (), "edge-ports"), *P("/port[name=a]/config").elems))
    assert decode(path, json_val=b'{"mtu": 1}') == {"mtu": 1}


# --- encode then decode ---------------------------------------------------------------


def _canonical_hundredths(n: int) -> str:
    sign = "-" if n < 0 else ""
    whole, cents = divmod(abs(n), 100)
    return f"{sign}{whole}.{cents:02d}".rstrip("0").rstrip(".") + (".0" if cents == 0 else "")


_config = st.fixed_dictionaries(
    {},
    optional={
        "mtu": st.integers(0, 2**16 - 1),
        "offset": st.integers(-(2**63), 2**63 - 1).map(str),
        "loss-budget": st.integers(-(2**63), 2**63 - 1).map(_canonical_hundredths),
        "description": st.text(max_size=20),
        "enabled": st.booleans(),
        "allowed-vlans": st.lists(st.integers(0, 4095), max_size=4),
    },
)


@given(_config, st.sampled_from([Encoding.JSON, Encoding.JSON_IETF]))
def test_encoded_config_decodes_to_the_same_data(config: dict, encoding: Encoding) -> None:
    path = P("/ports/port[name=eth1/0]/config")
    typed = encode_value(path, config, encoding, SCHEMA)
    assert decode_value(path, typed, SCHEMA) == config


def test_canonical_hundredths_helper() -> None:
    assert [_canonical_hundredths(n) for n in (0, 5, -250, 1000, -1)] == [
        "0.0",
        "0.05",
        "-2.5",
        "10.0",
        "-0.01",
    ]
