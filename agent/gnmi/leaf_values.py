"""Leaf values: whatever a client sent -> RFC 7951 form -> the form an encoding needs.

RFC 7951 form (the datastore's form): int8..int32 and uint8..uint32 as JSON numbers;
int64, uint64 and decimal64 as strings (decimal64 canonical, e.g. ``"2.5"``); identityref
as ``"module:identity"``; empty as ``[null]``; binary as base64 text.

Reading is lenient where the meaning is plain: numbers as number or string, booleans as
``"true"``/``"false"``, identities with or without module. Union members are tried in
order, first by the value's JSON type (a JSON string ``"5"`` stays a string member) and
then leniently. Anything else is INVALID_ARGUMENT naming the path.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from decimal import Decimal, DecimalException
from types import MappingProxyType
from typing import Final

from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.json_value import (
    JsonStructureError,
    JsonTextError,
    JsonValue,
    decimal_text,
    load_json,
)
from agent.schema.leaf_types import BaseType, LeafType
from agent.schema.path import DataPath

INT_RANGES: Final = MappingProxyType(
    {
        BaseType.INT8: (-(2**7), 2**7 - 1),
        BaseType.INT16: (-(2**15), 2**15 - 1),
        BaseType.INT32: (-(2**31), 2**31 - 1),
        BaseType.INT64: (-(2**63), 2**63 - 1),
        BaseType.UINT8: (0, 2**8 - 1),
        BaseType.UINT16: (0, 2**16 - 1),
        BaseType.UINT32: (0, 2**32 - 1),
        BaseType.UINT64: (0, 2**64 - 1),
    }
)
"""(lowest, highest) value of each integer type."""
WIDE_INTS: Final = frozenset({BaseType.INT64, BaseType.UINT64})
"""The integer types RFC 7951 writes as strings."""
_STRING_LIKE: Final = frozenset(
    {
        BaseType.STRING,
        BaseType.ENUMERATION,
        BaseType.IDENTITYREF,
        BaseType.BITS,
        BaseType.BINARY,
    }
)
_INTEGER_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def resolve(
    value: object, leaf: LeafType, where: DataPath, *, strict: bool = False
) -> tuple[LeafType, JsonValue]:
    """One (non-list) leaf value in RFC 7951 form, with the type it resolved to.

    The type is ``leaf`` itself, or for a union the member that accepted the value.
    ``strict`` accepts only the JSON type RFC 7951 or the JSON encoding would use.
    """
    if leaf.base is BaseType.UNION:
        passes = (True,) if strict else (True, False)
        for strict_pass in passes:
            for member in leaf.members:
                try:
                    return resolve(value, member, where, strict=strict_pass)
                except GnmiError:
                    continue
        kinds = ", ".join(m.base.value for m in leaf.members) or "no member types"
        raise _bad(where, f"{_show(value)} matches no member of the union ({kinds})")
    return leaf, _convert(value, leaf, where, strict)


def normalise_leaf(value: object, leaf: LeafType, where: DataPath) -> JsonValue:
    """The RFC 7951 form of a leaf's or leaf-list's value (a leaf-list needs a list)."""
    if leaf.is_list:
        return [resolve(element, leaf, where)[1] for element in leaf_elements(value, where)]
    return resolve(value, leaf, where)[1]


def leaf_elements(value: object, where: DataPath) -> list[object]:
    """The elements of a leaf-list value (INVALID_ARGUMENT unless it is a list)."""
    if not isinstance(value, list):
        raise _bad(where, f"a leaf-list needs a JSON array, not {_show(value)}")
    return value


def json_form(kind: LeafType, value: JsonValue) -> JsonValue:
    """A resolved RFC 7951 value in the JSON encoding's form: 64-bit integers and
    decimal64 as numbers, identities without module."""
    if kind.base in WIDE_INTS and isinstance(value, str):
        return int(value)
    if kind.base is BaseType.DECIMAL64 and isinstance(value, str):
        return Decimal(value)
    if kind.base is BaseType.IDENTITYREF and isinstance(value, str):
        return value.rpartition(":")[2]
    return value


def leaf_from_text(text: bytes, leaf: LeafType, where: DataPath) -> JsonValue:
    """The RFC 7951 form of a leaf's value sent as JSON text (json_val/json_ietf_val).

    Besides proper JSON this accepts what some clients send: a string-like leaf's value as
    raw text (``hello`` rather than ``"hello"``; not when the text is a JSON object or
    array, nor JSON refused for nesting too deep or repeating a member name), a
    leaf-list's single value without the array, and the value wrapped in an object named
    after the leaf (``{"mtu": 1500}``).
    """
    try:
        raw = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(where, "value is not UTF-8 text") from exc
    try:
        parsed: JsonValue = load_json(raw)
        parsed_ok = True
    except JsonStructureError as exc:  # meant as JSON: never taken as raw text
        raise _bad(where, f"malformed JSON: {exc}") from exc
    except JsonTextError:
        parsed, parsed_ok = None, False
    if parsed_ok and isinstance(parsed, dict) and where.elems:
        unwrapped = _unwrap(parsed, where.elems[-1].name)
        if unwrapped is not _NOTHING:
            return normalise_leaf(unwrapped, leaf, where)
    if leaf.is_list:
        if parsed_ok and isinstance(parsed, list):
            return normalise_leaf(parsed, leaf, where)
        return [_from_text(parsed, parsed_ok, raw, leaf, where)]
    return _from_text(parsed, parsed_ok, raw, leaf, where)


def key_text(value: JsonValue) -> str:
    """A key leaf's RFC 7951 value as it appears in a path key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def float32_text(value: float) -> str:
    """The shortest decimal text that reads back as the same 32-bit float."""
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
            return text
    return repr(value)


def is_string_like(leaf: LeafType) -> bool:
    """True when any text could be a value of ``leaf`` (strings, enums, identities...)."""
    if leaf.base is BaseType.UNION:
        return any(is_string_like(member) for member in leaf.members)
    return leaf.base in _STRING_LIKE


_NOTHING: Final = object()


def _unwrap(members: dict[str, JsonValue], leaf_name: str) -> object:
    if len(members) == 1:
        ((name, inner),) = members.items()
        if name.rpartition(":")[2] == leaf_name:
            return inner
    return _NOTHING


def _from_text(
    parsed: JsonValue, parsed_ok: bool, raw: str, leaf: LeafType, where: DataPath
) -> JsonValue:
    """Proper JSON first; raw text only for string-like types and non-structured text."""
    if parsed_ok:
        try:
            return resolve(parsed, leaf, where)[1]
        except GnmiError:
            if isinstance(parsed, dict | list) or not is_string_like(leaf):
                raise
    elif not is_string_like(leaf):
        raise _bad(where, f"{raw!r} is neither JSON nor a valid {leaf.base.value} value")
    return resolve(raw, leaf, where)[1]


def _convert(value: object, leaf: LeafType, where: DataPath, strict: bool) -> JsonValue:
    base = leaf.base
    if base in INT_RANGES:
        return _integer(value, base, where, strict)
    if base is BaseType.DECIMAL64:
        return _decimal64(value, leaf, where)
    if base is BaseType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if not strict and value in ("true", "false"):
            return value == "true"
        raise _bad(where, f"{_show(value)} is not a boolean")
    if base is BaseType.EMPTY:
        if value == [None] or (not strict and (value is None or value is True)):
            return [None]
        raise _bad(where, f"{_show(value)} is not an empty-type value ([null])")
    if base is BaseType.BINARY:
        return _binary(value, where, strict)
    if not isinstance(value, str):
        raise _bad(where, f"{_show(value)} is not a {base.value} (a string is needed)")
    if base is BaseType.ENUMERATION:
        if leaf.enum_names and value not in leaf.enum_names:
            names = ", ".join(leaf.enum_names)
            raise _bad(where, f"{value!r} is not one of the enumeration: {names}")
        return value
    if base is BaseType.IDENTITYREF:
        return _identity(value, leaf, where)
    if base is BaseType.BITS:
        return " ".join(value.split())
    return value


def _integer(value: object, base: BaseType, where: DataPath, strict: bool) -> int | str:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and (base in WIDE_INTS or not strict):
        number = int(value) if _INTEGER_TEXT.fullmatch(value) else None
    elif isinstance(value, Decimal | float) and not strict:
        number = _integral(value)
    if number is None:
        raise _bad(where, f"{_show(value)} is not a {base.value}")
    low, high = INT_RANGES[base]
    if not low <= number <= high:
        raise _bad(where, f"{number} is out of range for {base.value} ({low}..{high})")
    return str(number) if base in WIDE_INTS else number


def _integral(value: Decimal | float) -> int | None:
    try:
        exact = value if isinstance(value, Decimal) else Decimal(repr(value))
        if exact.is_finite() and exact == exact.to_integral_value():
            return int(exact)
    except (DecimalException, ValueError):
        pass
    return None


def _decimal64(value: object, leaf: LeafType, where: DataPath) -> str:
    number: Decimal | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        number = Decimal(value)
    if number is None or not number.is_finite():
        raise _bad(where, f"{_show(value)} is not a decimal64")
    digits = leaf.fraction_digits
    if digits is not None:
        try:
            scaled = number.scaleb(digits)
            exact = scaled == scaled.to_integral_value()
            in_range = exact and _INT64_MIN <= int(scaled) <= _INT64_MAX
        except DecimalException:
            exact = in_range = False
        if not exact:
            raise _bad(where, f"{_show(value)} has more than {digits} fraction digits")
        if not in_range:
            raise _bad(where, f"{_show(value)} is out of range for decimal64/{digits}")
    return _canonical_decimal(number)


def _canonical_decimal(number: Decimal) -> str:
    """RFC 7950 9.3.2 canonical form: no exponent, at least one digit each side."""
    text = decimal_text(number)
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    return "0.0" if text == "-0.0" else text


def _binary(value: object, where: DataPath, strict: bool) -> str:
    if isinstance(value, bytes) and not strict:
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _bad(where, f"{_show(value)} is not base64 text") from exc
        return value
    raise _bad(where, f"{_show(value)} is not binary (base64 text)")


def _identity(value: str, leaf: LeafType, where: DataPath) -> str:
    module, colon, name = value.rpartition(":")
    if not _IDENTIFIER.fullmatch(name) or (colon and not _IDENTIFIER.fullmatch(module)):
        raise _bad(where, f"{value!r} is not an identity name")
    if leaf.enum_names:
        known = _known_identity(module, name, leaf.enum_names)
        if known is None:
            names = ", ".join(leaf.enum_names)
            raise _bad(where, f"{value!r} is not one of the identities: {names}")
        module = known or module
    module = module or leaf.module
    return f"{module}:{name}" if module else name


def _known_identity(module: str, name: str, known: tuple[str, ...]) -> str | None:
    """The module of the matching entry of ``known`` ('' if it has none), else None."""
    for entry in known:
        entry_module, _, entry_name = entry.rpartition(":")
        if entry_name == name and (not module or not entry_module or module == entry_module):
            return entry_module
    return None


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(where: DataPath, message: str) -> GnmiError:
    return GnmiError.invalid_argument(f"{path_text(where)}: {message}")
