"""Leaf values <-> scalar TypedValues (the PROTO encoding, gNMI spec 2.2.3).

Signed integers travel as int_val, unsigned as uint_val, booleans as bool_val, strings,
enumerations and bits as string_val, identities as string_val without module, binary as
bytes_val, empty as bool_val true, decimal64 as double_val (or the deprecated decimal_val
on request), leaf-lists as leaflist_val.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.leaf_values import float32_text, leaf_elements, resolve
from agent.gnmi.pb import TypedValueMsg, gnmi_pb2
from agent.schema.leaf_types import SIGNED_INTS, UNSIGNED_INTS, BaseType, LeafType
from agent.schema.path import DataPath

_TEXT_TYPES: Final = frozenset({BaseType.STRING, BaseType.ENUMERATION, BaseType.BITS})
_UNSUPPORTED: Final = MappingProxyType(
    {"ascii_val": "ASCII", "any_val": "protobuf.Any", "proto_bytes": "proto_bytes"}
)


def leaf_typed_value(
    value: object, leaf: LeafType, where: DataPath, *, decimal_val: bool = False
) -> TypedValueMsg:
    """The scalar (or leaflist_val) TypedValue of a leaf's value in RFC 7951 form."""
    if leaf.is_list:
        array = gnmi_pb2.ScalarArray()
        for element in leaf_elements(value, where):
            array.element.append(_scalar(*resolve(element, leaf, where), decimal_val))
        return gnmi_pb2.TypedValue(leaflist_val=array)
    return _scalar(*resolve(value, leaf, where), decimal_val)


def untyped_typed_value(value: object, where: DataPath) -> TypedValueMsg:
    """A scalar TypedValue chosen from the Python type alone (no schema type known)."""
    if isinstance(value, bool):
        return gnmi_pb2.TypedValue(bool_val=value)
    if isinstance(value, int):
        if value < 0:
            return gnmi_pb2.TypedValue(int_val=value)
        return gnmi_pb2.TypedValue(uint_val=value)
    if isinstance(value, float | Decimal):
        return gnmi_pb2.TypedValue(double_val=float(value))
    if isinstance(value, str):
        return gnmi_pb2.TypedValue(string_val=value)
    if isinstance(value, list):
        array = gnmi_pb2.ScalarArray()
        for element in value:
            array.element.append(untyped_typed_value(element, where))
        return gnmi_pb2.TypedValue(leaflist_val=array)
    raise GnmiError.internal(
        f"{path_text(where)}: cannot encode {type(value).__name__} as a scalar"
    )


def scalar_python_value(typed: TypedValueMsg, where: DataPath) -> object:
    """The Python value of a scalar or leaflist_val TypedValue, before type checking.

    Floating-point values become Decimals with the shortest digits that round-trip;
    the deprecated Decimal64 becomes an exact Decimal.
    """
    kind = typed.WhichOneof("value")
    if kind is None:
        raise GnmiError.invalid_argument(f"{path_text(where)}: the TypedValue carries no value")
    if kind in _UNSUPPORTED:
        raise GnmiError.unimplemented(
            f"{path_text(where)}: {_UNSUPPORTED[kind]} values are not supported"
        )
    if kind == "leaflist_val":
        elements = []
        for element in typed.leaflist_val.element:
            if element.WhichOneof("value") == "leaflist_val":
                raise GnmiError.invalid_argument(
                    f"{path_text(where)}: leaf-list inside a leaf-list"
                )
            elements.append(scalar_python_value(element, where))
        return elements
    if kind == "double_val":
        return _decimal_from_float(repr(typed.double_val), where)
    if kind == "float_val":
        return _decimal_from_float(float32_text(typed.float_val), where)
    if kind == "decimal_val":
        precision = typed.decimal_val.precision
        if precision > MAX_DECIMAL_PRECISION:  # YANG decimal64 has 1..18 fraction digits
            raise GnmiError.invalid_argument(
                f"{path_text(where)}: decimal_val precision {precision} is above "
                f"{MAX_DECIMAL_PRECISION}"
            )
        return Decimal(typed.decimal_val.digits).scaleb(-precision)
    if kind in ("json_val", "json_ietf_val"):
        raise GnmiError.invalid_argument(
            f"{path_text(where)}: JSON is not allowed inside a leaf-list"
        )
    value: object = getattr(typed, kind)
    return value


MAX_DECIMAL_PRECISION = 18
"""The most fraction digits a YANG decimal64 has (RFC 7950 9.3.4)."""


def _scalar(kind: LeafType, value: object, decimal_val: bool) -> TypedValueMsg:
    base = kind.base
    if base in SIGNED_INTS:
        return gnmi_pb2.TypedValue(int_val=int(str(value)))
    if base in UNSIGNED_INTS:
        return gnmi_pb2.TypedValue(uint_val=int(str(value)))
    if base is BaseType.BOOLEAN:
        return gnmi_pb2.TypedValue(bool_val=bool(value))
    if base is BaseType.EMPTY:
        return gnmi_pb2.TypedValue(bool_val=True)
    if base is BaseType.DECIMAL64:
        number = Decimal(str(value))
        if not decimal_val:
            return gnmi_pb2.TypedValue(double_val=float(number))
        exponent = number.as_tuple().exponent
        precision = kind.fraction_digits
        if precision is None:
            precision = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        digits = int(number.scaleb(precision))
        return gnmi_pb2.TypedValue(
            decimal_val=gnmi_pb2.Decimal64(digits=digits, precision=precision)
        )
    if base is BaseType.IDENTITYREF:
        return gnmi_pb2.TypedValue(string_val=str(value).rpartition(":")[2])
    if base is BaseType.BINARY:
        return gnmi_pb2.TypedValue(bytes_val=base64.b64decode(str(value)))
    if base in _TEXT_TYPES:
        return gnmi_pb2.TypedValue(string_val=str(value))
    raise GnmiError.internal(f"no scalar encoding for {base.value}")


def _decimal_from_float(text: str, where: DataPath) -> Decimal:
    number = Decimal(text)
    if not number.is_finite():
        raise GnmiError.invalid_argument(f"{path_text(where)}: {text} is not a finite number")
    return number
