"""The value encoder: a leaf's value -> its serialized TypedValue, in JSON, JSON_IETF or
PROTO, for Get and Subscribe alike.

``value_encoder(leaf, encoding, where)`` compiles what one leaf type needs once. Values
may be in RFC 7951 form (the datastore's: 64-bit integers as decimal strings) or typed
(driver state: integers as ints). The common cases take a short path (integers in range,
booleans, plain strings); everything else goes through the general conversions of
``agent.gnmi.scalars`` and ``agent.gnmi.tree_codec.json_leaf``, so both paths give what
``agent.gnmi.encoding.encode_value`` gives (a test checks every leaf of the site). A
stored value that does not fit its type is INTERNAL, as in Get.

PROTO integers are also offered as (TypedValue field, range) so that an Update can be
assembled around the value's varint directly (``agent.gnmi.wire.LeafUpdate``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from agent.gnmi.errors import GnmiError
from agent.gnmi.json_value import dump_json
from agent.gnmi.leaf_values import INT_RANGES, WIDE_INTS
from agent.gnmi.pb import TypedValueMsg, gnmi_pb2
from agent.gnmi.scalars import leaf_typed_value, untyped_typed_value
from agent.gnmi.tree_codec import json_leaf
from agent.gnmi.wire import field, varint
from agent.schema.leaf_types import UNSIGNED_INTS, BaseType, LeafType
from agent.schema.path import DataPath

JSON: Final[int] = gnmi_pb2.JSON
PROTO: Final[int] = gnmi_pb2.PROTO
JSON_IETF: Final[int] = gnmi_pb2.JSON_IETF

_UINT_VAL, _INT_VAL = 3, 2
_JSON_VAL, _JSON_IETF_VAL = 10, 11
_BOOLEANS: Final = MappingProxyType(
    {
        PROTO: (b"\x20\x00", b"\x20\x01"),
        JSON: (field(_JSON_VAL, b"false"), field(_JSON_VAL, b"true")),
        JSON_IETF: (field(_JSON_IETF_VAL, b"false"), field(_JSON_IETF_VAL, b"true")),
    }
)

Encode = Callable[[Any], bytes]


@dataclass(frozen=True, slots=True)
class ValueEncoder:
    """How the values of one leaf become TypedValues in one encoding.

    ``encode(value)`` gives the serialized TypedValue. ``varint_field`` is set for PROTO
    integers: an int value in ``low..high`` is the varint of TypedValue field
    ``varint_field`` (uint_val or int_val).
    """

    encode: Encode
    varint_field: int = 0
    low: int = 0
    high: int = -1


def value_encoder(leaf: LeafType | None, encoding: int, where: DataPath) -> ValueEncoder:
    """The encoder of ``leaf``'s values (None: a leaf the schema does not know, encoded
    from its Python type) in ``encoding`` (JSON, JSON_IETF or PROTO)."""
    general = _general(leaf, encoding, where)
    if leaf is None or leaf.is_list:
        return ValueEncoder(general)
    base = leaf.base
    if base in INT_RANGES:
        low, high = INT_RANGES[base]
        if encoding == PROTO:
            number = _UINT_VAL if base in UNSIGNED_INTS else _INT_VAL
            return ValueEncoder(_proto_int(number, low, high, general), number, low, high)
        quoted = encoding == JSON_IETF and base in WIDE_INTS
        tag = _JSON_IETF_VAL if encoding == JSON_IETF else _JSON_VAL
        return ValueEncoder(_json_int(tag, quoted, low, high, general))
    if base is BaseType.BOOLEAN:
        return ValueEncoder(_boolean(encoding, general))
    if encoding == PROTO and base is BaseType.STRING:
        return ValueEncoder(_proto_string(general))
    if encoding == PROTO and base is BaseType.ENUMERATION:
        return ValueEncoder(_proto_string(general, frozenset(leaf.enum_names)))
    return ValueEncoder(general)


def typed_value(value: Any, leaf: LeafType | None, encoding: int, where: DataPath) -> TypedValueMsg:
    """The TypedValue message of one value (what ``value_encoder`` encodes)."""
    return gnmi_pb2.TypedValue.FromString(value_encoder(leaf, encoding, where).encode(value))


def _proto_int(number: int, low: int, high: int, general: Encode) -> Encode:
    tag = bytes((number << 3,))

    def encode(value: Any) -> bytes:
        if type(value) is int and low <= value <= high:
            return tag + varint(value)
        return general(value)

    return encode


def _json_int(tag: int, quoted: bool, low: int, high: int, general: Encode) -> Encode:
    head = bytes((tag << 3 | 2,))
    template = b'"%d"' if quoted else b"%d"

    def encode(value: Any) -> bytes:
        if type(value) is int and low <= value <= high:
            text = template % value
            return head + bytes((len(text),)) + text
        return general(value)

    return encode


def _boolean(encoding: int, general: Encode) -> Encode:
    choices = _BOOLEANS[encoding]

    def encode(value: Any) -> bytes:
        if type(value) is bool:
            return choices[value]
        return general(value)

    return encode


def _proto_string(general: Encode, allowed: frozenset[str] = frozenset()) -> Encode:
    def encode(value: Any) -> bytes:
        if type(value) is str and (not allowed or value in allowed):
            return field(1, value.encode("utf-8"))
        return general(value)

    return encode


def _general(leaf: LeafType | None, encoding: int, where: DataPath) -> Encode:
    """Any value, through the wire layer's general conversions."""
    if encoding == PROTO:

        def proto(value: Any) -> bytes:
            try:
                if leaf is None:
                    message = untyped_typed_value(value, where)
                else:
                    message = leaf_typed_value(value, leaf, where)
            except GnmiError as err:
                raise _stored(err) from err
            data: bytes = message.SerializeToString()
            return data

        return proto
    ietf = encoding == JSON_IETF
    number = _JSON_IETF_VAL if ietf else _JSON_VAL

    def text(value: Any) -> bytes:
        converted = value if leaf is None else json_leaf(value, leaf, where, ietf=ietf)
        return field(number, dump_json(converted))

    return text


def _stored(err: GnmiError) -> GnmiError:
    if err.code.name == "INTERNAL":
        return err
    return GnmiError.internal(f"cannot encode stored value: {err.message}")
