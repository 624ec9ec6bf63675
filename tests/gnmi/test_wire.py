"""Subscribe's messages assembled as bytes: the same messages the generated classes make."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.gnmi import wire
from agent.gnmi.encoding import encode_value
from agent.gnmi.errors import GnmiError
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.schema_info import CachedSchema
from agent.gnmi.typed_values import JSON, JSON_IETF, PROTO, typed_value, value_encoder
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath

COUNTER = DataPath.parse("/ports/port[name=tor-tf1/1]/state/counters/in-octets")


def container_elems() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [("ports", ()), ("port", (("name", "tor-tf1/1"),)), ("state", ()), ("counters", ())]


def path_msg(*names: str, target: str = "", origin: str = "") -> object:
    elems = [
        gnmi_pb2.PathElem(name="ports"),
        gnmi_pb2.PathElem(name="port", key={"name": "tor-tf1/1"}),
    ]
    elems += [gnmi_pb2.PathElem(name=n) for n in names]
    return gnmi_pb2.Path(elem=elems, target=target, origin=origin)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_varints_are_protobufs(value: int) -> None:
    assert b"\x18" + wire.varint(value) == gnmi_pb2.TypedValue(uint_val=value).SerializeToString()


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_negative_varints_are_ten_bytes_as_in_protobuf(value: int) -> None:
    assert b"\x10" + wire.varint(value) == gnmi_pb2.TypedValue(int_val=value).SerializeToString()


@given(
    st.integers(min_value=1, max_value=2**63 - 1),
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=20),
    st.integers(min_value=1, max_value=2**32 - 1),
)
def test_a_notification_is_what_serialize_to_string_gives(
    timestamp: int, values: list[int], duplicates: int
) -> None:
    container = wire.path_elems(container_elems())
    leaf = wire.LeafUpdate(wire.leaf_path(container, "in-octets"))
    updates = [leaf.varint_update(3, value) for value in values]
    updates[-1] = wire.with_duplicates(updates[-1], duplicates)
    deleted = wire.path_message(container)
    encoded = wire.notification(
        timestamp, wire.path_message(target="dc1", origin="openconfig"), updates, [deleted]
    )
    expected = gnmi_pb2.SubscribeResponse()
    notification = expected.update
    notification.timestamp = timestamp
    notification.prefix.CopyFrom(gnmi_pb2.Path(target="dc1", origin="openconfig"))
    for value in values:
        notification.update.add(
            path=path_msg("state", "counters", "in-octets")
        ).val.uint_val = value
    notification.update[-1].duplicates = duplicates
    notification.delete.append(path_msg("state", "counters"))
    assert encoded == expected.SerializeToString()


def test_sync_response() -> None:
    assert gnmi_pb2.SubscribeResponse.FromString(wire.SYNC_RESPONSE).sync_response


def test_typed_updates_carry_any_typed_value() -> None:
    leaf = wire.LeafUpdate(wire.leaf_path(wire.path_elems(container_elems()), "x"))
    typed = gnmi_pb2.TypedValue(string_val="ä" * 200)
    update = gnmi_pb2.Notification.FromString(leaf.update(typed.SerializeToString())).update[0]
    assert update.val == typed and update.path == path_msg("state", "counters", "x")


@pytest.mark.parametrize("encoding", [JSON, JSON_IETF, PROTO])
@pytest.mark.parametrize(
    ("path", "values"),
    [
        (str(COUNTER), [0, 2**64 - 1, "18446744073709551615", "7"]),
        ("/ports/port[name=a]/config/mtu", [1514, 9216, "1500"]),
        ("/ports/port[name=a]/config/enabled", [True, False, "true"]),
        ("/ports/port[name=a]/state/oper-status", ["UP", "LOWER_LAYER_DOWN"]),
        ("/ports/port[name=a]/config/description", ["uplink", "", "ünïcode"]),
        ("/platform/devices/device[name=d]/config/chipset", ["edge-types:tofino2"]),
        ("/slices/slice[name=s]/config/max-rate-bps", ["1000000", 5]),
    ],
)
def test_values_encode_as_get_encodes_them(
    engine: SchemaEngine, path: str, values: list[object], encoding: int
) -> None:
    where = DataPath.parse(path)
    leaf = engine.leaf_type(where)
    assert leaf is not None
    encoder = value_encoder(leaf, encoding, where)
    for value in values:
        expected = encode_value(where, value, encoding, CachedSchema(engine))  # type: ignore[arg-type]
        assert gnmi_pb2.TypedValue.FromString(encoder.encode(value)) == expected
        assert typed_value(value, leaf, encoding, where) == expected


@pytest.mark.parametrize("encoding", [JSON, JSON_IETF, PROTO])
def test_a_stored_value_that_does_not_fit_is_internal(engine: SchemaEngine, encoding: int) -> None:
    where = DataPath.parse("/ports/port[name=a]/config/mtu")
    leaf = engine.leaf_type(where)
    assert leaf is not None
    with pytest.raises(GnmiError) as raised:
        value_encoder(leaf, encoding, where).encode(2**40)
    assert raised.value.code.name == "INTERNAL"


def test_proto_integers_offer_their_varint_field(engine: SchemaEngine) -> None:
    counter = value_encoder(engine.leaf_type(COUNTER), PROTO, COUNTER)
    assert (counter.varint_field, counter.low, counter.high) == (3, 0, 2**64 - 1)
    mtu = DataPath.parse("/ports/port[name=a]/config/mtu")
    assert value_encoder(engine.leaf_type(mtu), JSON, mtu).varint_field == 0
