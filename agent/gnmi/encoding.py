"""TypedValue encoding and decoding for Get, Subscribe and Set (gNMI spec 2.3).

Encoding (values the agent sends), from RFC 7951 data at a path:

- JSON: one json_val per path; unqualified member names, 64-bit numbers and decimal64
  as JSON numbers, identities without module.
- JSON_IETF: one json_ietf_val per path per RFC 7951 (qualified members at the top and
  at module boundaries, 64-bit numbers and decimal64 as strings, qualified identities).
- PROTO: one Update per leaf with a scalar TypedValue (see ``agent.gnmi.scalars``);
  containers and lists are flattened.
- BYTES, ASCII and unknown encodings: UNIMPLEMENTED.

Decoding (values a client sets) yields RFC 7951 data for the target path from json_val,
json_ietf_val, scalar values, leaflist_val, decimal_val, double/float_val and bytes_val
(binary leaves); ascii_val, any_val and proto_bytes are UNIMPLEMENTED.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

import grpc

from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.json_value import JsonTextError, JsonValue, dump_json, load_json
from agent.gnmi.leaf_values import leaf_from_text, normalise_leaf
from agent.gnmi.paths import to_gnmi_path
from agent.gnmi.pb import TypedValueMsg, UpdateMsg, gnmi_pb2
from agent.gnmi.scalars import leaf_typed_value, scalar_python_value, untyped_typed_value
from agent.gnmi.schema_info import SchemaInfo, cached
from agent.gnmi.tree_codec import decode_tree, encode_tree, iter_leaves
from agent.gnmi.tree_writer import TreeWriter
from agent.schema.leaf_types import LeafType
from agent.schema.path import DataPath


class Encoding(IntEnum):
    """gnmi.Encoding values."""

    JSON = 0
    BYTES = 1
    PROTO = 2
    ASCII = 3
    JSON_IETF = 4


SUPPORTED_ENCODINGS: Final = (Encoding.JSON, Encoding.JSON_IETF, Encoding.PROTO)
"""What Capabilities lists, in order of preference."""


def parse_encoding(value: int) -> Encoding:
    """The requested encoding if we support it; UNIMPLEMENTED otherwise."""
    try:
        encoding = Encoding(value)
    except ValueError:
        raise GnmiError.unimplemented(f"unknown encoding {value}") from None
    if encoding not in SUPPORTED_ENCODINGS:
        supported = ", ".join(e.name for e in SUPPORTED_ENCODINGS)
        raise GnmiError.unimplemented(
            f"encoding {encoding.name} is not supported; use one of {supported}"
        )
    return encoding


def encode_value(
    path: DataPath,
    value: JsonValue,
    encoding: int,
    schema: SchemaInfo,
    *,
    decimal_val: bool = False,
) -> TypedValueMsg:
    """The TypedValue of the RFC 7951 ``value`` at ``path``.

    JSON and JSON_IETF take any node; PROTO takes a leaf or leaf-list only (use
    :func:`encode_updates` for subtrees; ValueError otherwise). ``decimal_val`` selects the
    deprecated Decimal64 over double_val for decimal64 leaves in PROTO.
    """
    chosen = parse_encoding(encoding)
    schema = cached(schema)
    if chosen is Encoding.PROTO:
        leaf = schema.leaf_type(path)
        if leaf is None and _is_subtree(value):
            raise ValueError(f"{path}: PROTO encodes leaves only; use encode_updates")
        return _proto_leaf(path, leaf, value, decimal_val)
    text = dump_json(encode_tree(path, value, schema, ietf=chosen is Encoding.JSON_IETF))
    if chosen is Encoding.JSON_IETF:
        return gnmi_pb2.TypedValue(json_ietf_val=text)
    return gnmi_pb2.TypedValue(json_val=text)


def encode_updates(
    path: DataPath,
    value: JsonValue,
    encoding: int,
    schema: SchemaInfo,
    *,
    prefix: DataPath | None = None,
    decimal_val: bool = False,
    writer: TreeWriter | None = None,
) -> list[UpdateMsg]:
    """Updates carrying the RFC 7951 ``value`` at ``path``, paths relative to ``prefix``.

    JSON and JSON_IETF give one Update for ``path`` (its text written by ``writer`` when
    given, which reuses the text of unchanged configuration); PROTO gives one Update per
    leaf and leaf-list below ``path`` (none for an empty container), with list keys in
    the paths.
    """
    chosen = parse_encoding(encoding)
    schema = cached(schema)
    base = prefix or DataPath.root()
    if chosen is not Encoding.PROTO:
        if writer is None:
            typed = encode_value(path, value, chosen, schema)
        else:
            ietf = chosen is Encoding.JSON_IETF
            text = writer.text(path, value, ietf=ietf).encode("utf-8")
            typed = (
                gnmi_pb2.TypedValue(json_ietf_val=text)
                if ietf
                else gnmi_pb2.TypedValue(json_val=text)
            )
        return [gnmi_pb2.Update(path=to_gnmi_path(path, relative_to=base), val=typed)]
    return [
        gnmi_pb2.Update(
            path=to_gnmi_path(leaf_path, relative_to=base),
            val=_proto_leaf(leaf_path, leaf, leaf_value, decimal_val),
        )
        for leaf_path, leaf, leaf_value in iter_leaves(path, value, schema)
    ]


def decode_value(path: DataPath, typed: TypedValueMsg, schema: SchemaInfo) -> JsonValue:
    """The RFC 7951 value for the node at ``path`` carried by a Set's TypedValue.

    Raises GnmiError: INVALID_ARGUMENT for a value that does not fit the node (the
    message names the path), NOT_FOUND for a path the schema does not have,
    UNIMPLEMENTED for ascii_val, any_val and proto_bytes.
    """
    if path.is_wildcard:
        raise GnmiError.invalid_argument(f"{path_text(path)}: a value cannot be set at a wildcard")
    schema = cached(schema)
    kind = typed.WhichOneof("value")
    leaf = schema.leaf_type(path)
    if kind in ("json_val", "json_ietf_val"):
        text: bytes = getattr(typed, kind)
        if leaf is not None:
            return leaf_from_text(text, leaf, path)
        try:
            tree = load_json(text)
        except JsonTextError as exc:
            raise GnmiError.invalid_argument(f"{path_text(path)}: malformed JSON: {exc}") from exc
        return decode_tree(path, tree, schema)
    scalar = scalar_python_value(typed, path)
    if leaf is None:
        if path.elems and schema.module_of(path) is None:
            raise GnmiError.not_found(f"{path_text(path)}: no such schema node")
        raise GnmiError.invalid_argument(
            f"{path_text(path)}: {kind} can only set a leaf; use JSON or JSON_IETF for a subtree"
        )
    return normalise_leaf(scalar, leaf, path)


def decode_update(path: DataPath, update: UpdateMsg, schema: SchemaInfo) -> JsonValue:
    """Like :func:`decode_value` for an Update, also reading the deprecated ``value``
    field (JSON or JSON_IETF bytes) when ``val`` is absent."""
    if update.HasField("val") or not update.HasField("value"):
        return decode_value(path, update.val, schema)
    legacy = update.value
    if legacy.type == Encoding.JSON:
        return decode_value(path, gnmi_pb2.TypedValue(json_val=legacy.value), schema)
    if legacy.type == Encoding.JSON_IETF:
        return decode_value(path, gnmi_pb2.TypedValue(json_ietf_val=legacy.value), schema)
    raise GnmiError.unimplemented(
        f"{path_text(path)}: deprecated Value with encoding {legacy.type}"
    )


def _is_subtree(value: JsonValue) -> bool:
    if isinstance(value, list):
        return any(isinstance(element, dict) for element in value)
    return isinstance(value, dict)


def _proto_leaf(
    path: DataPath, leaf: LeafType | None, value: JsonValue, decimal_val: bool
) -> TypedValueMsg:
    try:
        if leaf is None:
            return untyped_typed_value(value, path)
        return leaf_typed_value(value, leaf, path, decimal_val=decimal_val)
    except GnmiError as exc:
        if exc.code is grpc.StatusCode.INTERNAL:
            raise
        raise GnmiError.internal(f"cannot encode stored value: {exc.message}") from exc
