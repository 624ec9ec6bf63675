"""Leaf type descriptions for encoders: what a leaf holds, independent of yangson."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BaseType(StrEnum):
    """The YANG built-in type a leaf resolves to (typedefs and leafrefs followed)."""

    BOOLEAN = "boolean"
    EMPTY = "empty"
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    UINT8 = "uint8"
    UINT16 = "uint16"
    UINT32 = "uint32"
    UINT64 = "uint64"
    DECIMAL64 = "decimal64"
    STRING = "string"
    ENUMERATION = "enumeration"
    IDENTITYREF = "identityref"
    BINARY = "binary"
    BITS = "bits"
    UNION = "union"


SIGNED_INTS = frozenset({BaseType.INT8, BaseType.INT16, BaseType.INT32, BaseType.INT64})
UNSIGNED_INTS = frozenset({BaseType.UINT8, BaseType.UINT16, BaseType.UINT32, BaseType.UINT64})
# RFC 7951 section 6.1: 64-bit integers and decimal64 travel as JSON strings.
JSON_STRING_NUMBERS = frozenset({BaseType.INT64, BaseType.UINT64, BaseType.DECIMAL64})


@dataclass(frozen=True, slots=True)
class LeafType:
    """A leaf's resolved type.

    ``module`` is the module that defines the leaf (for RFC 7951 qualification of
    identityref values); ``members`` lists a union's member types in order.
    """

    base: BaseType
    module: str = ""
    fraction_digits: int | None = None
    enum_names: tuple[str, ...] = ()
    members: tuple[LeafType, ...] = ()
    is_list: bool = False  # True for a leaf-list

    @property
    def is_integer(self) -> bool:
        return self.base in SIGNED_INTS or self.base in UNSIGNED_INTS
