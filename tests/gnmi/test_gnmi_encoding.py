"""Encoding RFC 7951 data into TypedValues: JSON, JSON_IETF and PROTO."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import grpc
import pytest
from gnmi_fake_schema import FakeSchema

from agent.clock import FakeClock
from agent.gnmi.encoding import (
    SUPPORTED_ENCODINGS,
    Encoding,
    encode_updates,
    encode_value,
    parse_encoding,
)
from agent.gnmi.errors import GnmiError
from agent.gnmi.json_value import JsonTextError, dump_json, load_json
from agent.gnmi.paths import to_gnmi_path
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.timestamps import new_notification, timestamp_ns
from agent.schema.path import DataPath

SCHEMA = FakeSchema()
P = DataPath.parse
PORT = {
    "name": "eth1/0",
    "config": {
        "name": "eth1/0",
        "mtu": 9000,
        "enabled": True,
        "fec": "rs",
        "offset": "-9007199254740993",
        "loss-budget": "92233720368547758.07",
        "allowed-vlans": [10, 20],
        "auto-negotiate": [None],
    },
    "state": {
        "counters": {"in-octets": "18446744073709551615", "in-errors": "0"},
        "edge-slices:slices": ["gold", "silver"],
    },
}
TREE = {
    "edge-ports:ports": {"port": [PORT]},
    "edge-platform:platform": {
        "devices": {"device": [{"name": "sw1", "config": {"name": "sw1", "chipset": "tofino2"}}]}
    },
}


def ietf(path: str, value: object) -> object:
    typed = encode_value(P(path), value, Encoding.JSON_IETF, SCHEMA)
    assert typed.WhichOneof("value") == "json_ietf_val"
    return json.loads(typed.json_ietf_val, parse_float=Decimal)


def plain(path: str, value: object) -> object:
    typed = encode_value(P(path), value, Encoding.JSON, SCHEMA)
    assert typed.WhichOneof("value") == "json_val"
    return json.loads(typed.json_val, parse_float=Decimal)


def proto_updates(path: str, value: object, prefix: str = "/", **kw: bool) -> dict[str, object]:
    updates = encode_updates(P(path), value, Encoding.PROTO, SCHEMA, prefix=P(prefix), **kw)
    result = {}
    for update in updates:
        elems = "/".join(
            e.name + "".join(f"[{k}={v}]" for k, v in sorted(e.key.items()))
            for e in update.path.elem
        )
        result[elems] = update.val
    return result


# --- encodings on offer ---------------------------------------------------------------


def test_supported_encodings() -> None:
    assert [parse_encoding(e) for e in (0, 4, 2)] == [
        Encoding.JSON,
        Encoding.JSON_IETF,
        Encoding.PROTO,
    ]
    assert set(SUPPORTED_ENCODINGS) == {Encoding.JSON, Encoding.JSON_IETF, Encoding.PROTO}


@pytest.mark.parametrize("value", [Encoding.BYTES, Encoding.ASCII, 5, 99, -1])
def test_other_encodings_are_unimplemented(value: int) -> None:
    with pytest.raises(GnmiError) as excinfo:
        parse_encoding(value)
    assert excinfo.value.code == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(GnmiError):
        encode_value(P("/ports/port[name=a]/config/mtu"), 1, value, SCHEMA)


# --- JSON_IETF ------------------------------------------------------------------------


def test_json_ietf_root_follows_rfc7951() -> None:
    result = ietf("/", TREE)
    assert set(result) == {"edge-ports:ports", "edge-platform:platform"}
    port = result["edge-ports:ports"]["port"][0]
    config = port["config"]
    assert config["mtu"] == 9000
    assert config["offset"] == "-9007199254740993"
    assert config["loss-budget"] == "92233720368547758.07"
    assert config["allowed-vlans"] == [10, 20]
    assert config["auto-negotiate"] == [None]
    assert port["state"]["counters"]["in-octets"] == "18446744073709551615"
    # the augmenting module's member is qualified, its parent's members are not
    assert port["state"]["edge-slices:slices"] == ["gold", "silver"]
    device = result["edge-platform:platform"]["devices"]["device"][0]
    assert device["config"]["chipset"] == "edge-types:tofino2"


def test_json_ietf_qualifies_the_members_of_a_subtree_value() -> None:
    result = ietf("/ports/port[name=eth1/0]/config", PORT["config"])
    assert result["edge-ports:mtu"] == 9000
    assert result["edge-ports:loss-budget"] == "92233720368547758.07"
    entry = ietf("/ports/port[name=eth1/0]", PORT)
    assert set(entry) == {"edge-ports:name", "edge-ports:config", "edge-ports:state"}
    assert "mtu" in entry["edge-ports:config"]


def test_json_ietf_list_path_gives_an_array_of_entries() -> None:
    result = ietf("/ports/port", [PORT])
    assert isinstance(result, list) and result[0]["edge-ports:name"] == "eth1/0"


def test_json_ietf_accepts_integers_for_64_bit_leaves() -> None:
    counters = {"in-octets": 2**64 - 1, "in-errors": 0}
    result = ietf("/ports/port[name=x]/state/counters", counters)
    assert result == {"edge-ports:in-octets": str(2**64 - 1), "edge-ports:in-errors": "0"}


@pytest.mark.parametrize(
    ("path", "value", "text"),
    [
        ("/ports/port[name=x]/config/mtu", 9000, b"9000"),
        ("/ports/port[name=x]/config/name", "eth1/0", b'"eth1/0"'),
        ("/ports/port[name=x]/state/counters/in-octets", "42", b'"42"'),
        ("/ports/port[name=x]/config/loss-budget", "2.50", b'"2.5"'),
        ("/ports/port[name=x]/config/enabled", False, b"false"),
        ("/platform/devices/device[name=a]/config/chipset", "e810", b'"edge-types:e810"'),
    ],
)
def test_json_ietf_leaf_values(path: str, value: object, text: bytes) -> None:
    assert encode_value(P(path), value, Encoding.JSON_IETF, SCHEMA).json_ietf_val == text


# --- JSON -----------------------------------------------------------------------------


def test_json_root_is_unqualified_with_numbers() -> None:
    result = plain("/", TREE)
    assert set(result) == {"ports", "platform"}
    port = result["ports"]["port"][0]
    assert port["config"]["offset"] == -9007199254740993
    assert port["config"]["loss-budget"] == Decimal("92233720368547758.07")
    assert port["state"]["counters"]["in-octets"] == 2**64 - 1
    assert port["state"]["slices"] == ["gold", "silver"]
    assert result["platform"]["devices"]["device"][0]["config"]["chipset"] == "tofino2"


def test_json_keeps_every_digit_of_decimal64() -> None:
    typed = encode_value(P("/ports/port[name=x]/config/loss-budget"), "0.10", 0, SCHEMA)
    assert typed.json_val == b"0.1"
    big = encode_value(
        P("/ports/port[name=x]/config/loss-budget"), "-92233720368547758.08", 0, SCHEMA
    )
    assert big.json_val == b"-92233720368547758.08"


def test_json_leaf_values() -> None:
    assert plain("/ports/port[name=x]/state/counters/in-octets", "7") == 7
    assert plain("/platform/devices/device[name=a]/config/chipset", "edge-types:e810") == "e810"
    assert plain("/ports/port[name=x]/config/allowed-vlans", [1, 2]) == [1, 2]


def test_json_keeps_module_names_where_two_members_would_collide() -> None:
    tree = {"edge-ports:ports": {}, "edge-slices:ports": {}}
    assert plain("/", tree) == {"edge-ports:ports": {}, "edge-slices:ports": {}}


def test_leaves_unknown_to_the_schema_pass_through() -> None:
    value = {"mtu": 1500, "vendor-extra": "x"}
    assert plain("/ports/port[name=x]/config", value) == value


def test_a_bad_stored_value_is_internal() -> None:
    with pytest.raises(GnmiError) as excinfo:
        encode_value(P("/ports/port[name=x]/config"), {"mtu": "jumbo"}, Encoding.JSON, SCHEMA)
    assert excinfo.value.code == grpc.StatusCode.INTERNAL
    assert "/ports/port[name=x]/config/mtu" in excinfo.value.message


# --- PROTO ----------------------------------------------------------------------------


def test_proto_flattens_a_subtree_into_one_update_per_leaf() -> None:
    result = proto_updates("/ports", {"port": [PORT]}, prefix="/ports")
    base = "port[name=eth1/0]"
    assert set(result) == {
        f"{base}/name",
        f"{base}/config/name",
        f"{base}/config/mtu",
        f"{base}/config/enabled",
        f"{base}/config/fec",
        f"{base}/config/offset",
        f"{base}/config/loss-budget",
        f"{base}/config/allowed-vlans",
        f"{base}/config/auto-negotiate",
        f"{base}/state/counters/in-octets",
        f"{base}/state/counters/in-errors",
        f"{base}/state/slices",
    }
    assert result[f"{base}/config/mtu"] == gnmi_pb2.TypedValue(uint_val=9000)
    assert result[f"{base}/config/enabled"] == gnmi_pb2.TypedValue(bool_val=True)
    assert result[f"{base}/config/fec"] == gnmi_pb2.TypedValue(string_val="rs")
    assert result[f"{base}/config/offset"] == gnmi_pb2.TypedValue(int_val=-9007199254740993)
    assert result[f"{base}/config/auto-negotiate"] == gnmi_pb2.TypedValue(bool_val=True)
    assert result[f"{base}/state/counters/in-octets"] == gnmi_pb2.TypedValue(uint_val=2**64 - 1)
    vlans = result[f"{base}/config/allowed-vlans"].leaflist_val.element
    assert [e.uint_val for e in vlans] == [10, 20]
    slices = result[f"{base}/state/slices"].leaflist_val.element
    assert [e.string_val for e in slices] == ["gold", "silver"]


def test_proto_paths_are_absolute_without_a_prefix() -> None:
    result = proto_updates("/ports/port[name=eth1/0]/state/counters", PORT["state"]["counters"])
    assert set(result) == {
        "ports/port[name=eth1/0]/state/counters/in-octets",
        "ports/port[name=eth1/0]/state/counters/in-errors",
    }


def test_proto_decimal64_as_double_or_decimal() -> None:
    path = "/slices/slice[name=s]/config/latency-ms"
    assert proto_updates(path, "1.25")[path[1:]] == gnmi_pb2.TypedValue(double_val=1.25)
    decimal = proto_updates(path, "1.25", decimal_val=True)[path[1:]].decimal_val
    assert (decimal.digits, decimal.precision) == (1250, 3)


def test_proto_identity_binary_and_list_keys() -> None:
    tree = {
        "device": [{"name": "sw 1", "config": {"chipset": "edge-types:stratix10-dx"}}],
    }
    result = proto_updates("/platform/devices", tree)
    key = "platform/devices/device[name=sw 1]"
    assert result[f"{key}/config/chipset"] == gnmi_pb2.TypedValue(string_val="stratix10-dx")
    blob = base64.b64encode(b"\x00\xffid").decode()
    eeprom = proto_updates("/ports/port[name=a]/state/eeprom", blob)
    assert eeprom["ports/port[name=a]/state/eeprom"].bytes_val == b"\x00\xffid"


def test_proto_nested_lists_get_all_their_keys() -> None:
    tree = {"slice": [{"name": "gold", "members": {"member": [{"port": "eth1/0"}]}}]}
    result = proto_updates("/slices", tree)
    assert "slices/slice[name=gold]/members/member[port=eth1/0]/port" in result


def test_proto_single_leaf_and_empty_container() -> None:
    typed = encode_value(P("/slices/slice[name=s]/config/sst"), 1, Encoding.PROTO, SCHEMA)
    assert typed == gnmi_pb2.TypedValue(uint_val=1)
    assert encode_updates(P("/ports/port[name=x]/config"), {}, Encoding.PROTO, SCHEMA) == []
    with pytest.raises(ValueError):
        encode_value(P("/ports/port[name=x]/config"), {"mtu": 1}, Encoding.PROTO, SCHEMA)


def test_proto_infers_types_of_unknown_leaves() -> None:
    result = proto_updates("/ports/port[name=x]/config", {"vendor-a": -1, "vendor-b": 2})
    assert result["ports/port[name=x]/config/vendor-a"] == gnmi_pb2.TypedValue(int_val=-1)
    assert result["ports/port[name=x]/config/vendor-b"] == gnmi_pb2.TypedValue(uint_val=2)


def test_proto_list_entry_without_its_key_is_internal() -> None:
    with pytest.raises(GnmiError) as excinfo:
        proto_updates("/ports", {"port": [{"config": {"mtu": 1}}]})
    assert excinfo.value.code == grpc.StatusCode.INTERNAL


def test_json_updates_carry_the_path_relative_to_the_prefix() -> None:
    (update,) = encode_updates(
        P("/ports/port[name=eth1/0]/config/mtu"),
        9000,
        Encoding.JSON,
        SCHEMA,
        prefix=P("/ports/port[name=eth1/0]"),
    )
    assert update.path == to_gnmi_path(P("/config/mtu"))
    assert update.val.json_val == b"9000"


# --- JSON text helpers ----------------------------------------------------------------


def test_json_text_round_trip_keeps_decimals_exact() -> None:
    value = load_json(b'{"a":[1,2.50,"x",null,true],"b":1e2}')
    assert value == {"a": [1, Decimal("2.50"), "x", None, True], "b": Decimal("1e2")}
    assert dump_json(value) == b'{"a":[1,2.50,"x",null,true],"b":100}'
    assert dump_json({"k": "ü"}) == '{"k":"ü"}'.encode()


@pytest.mark.parametrize("text", [b'{"a":1,"a":2}', b"NaN", b"[1,", b"\xff", b""])
def test_bad_json_text_is_refused(text: bytes) -> None:
    with pytest.raises(JsonTextError):
        load_json(text)


# --- timestamps -----------------------------------------------------------------------


def test_timestamps_come_from_the_clock_and_are_never_zero() -> None:
    clock = FakeClock(start_ns=1_700_000_000_123_456_789)
    assert timestamp_ns(clock) == 1_700_000_000_123_456_789
    clock.advance(ns=1)
    assert timestamp_ns(clock) == 1_700_000_000_123_456_790
    assert timestamp_ns(FakeClock(start_ns=0)) == 1


def test_new_notification_is_stamped() -> None:
    clock = FakeClock(start_ns=5_000)
    update = gnmi_pb2.Update(path=to_gnmi_path(P("/a")), val=gnmi_pb2.TypedValue(uint_val=1))
    notification = new_notification(
        clock,
        prefix=gnmi_pb2.Path(target="t"),
        updates=[update],
        deletes=[to_gnmi_path(P("/b"))],
        atomic=True,
    )
    assert notification.timestamp == 5_000
    assert notification.prefix.target == "t"
    assert list(notification.update) == [update]
    assert notification.delete[0].elem[0].name == "b"
    assert notification.atomic
    assert new_notification(FakeClock(start_ns=0)).timestamp == 1
