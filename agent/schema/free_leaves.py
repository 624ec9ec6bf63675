"""Leaves whose new value can be validated on its own.

A leaf is free when nothing in the schema looks at it but its own type: it is a number,
a boolean or an enumeration (no leafref, identityref, string or union), carries no
``must`` or ``when``, is no list key, no part of a ``unique`` statement, and no ``must``,
``when`` or leafref path in any module names it. Changing the value of such a leaf that
already exists in a valid tree leaves the tree valid exactly when the new value is in
the leaf's type, so a transaction of only such changes need not be validated as a tree.

The analysis is conservative: names are matched textually (any XPath token equal to the
leaf's name blocks it), and an expression the matching cannot see through (a wildcard,
``//``, ``node()``) or an instance-identifier that requires its target makes no leaf free.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from yangson.datatype import (
    BooleanType,
    DataType,
    EnumerationType,
    InstanceIdentifierType,
    LeafrefType,
    NumericType,
    UnionType,
)
from yangson.schemanode import InternalNode, LeafNode, ListNode, SchemaNode

from agent.schema.nav import NodeInfo, NodeKind

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?")
_OPAQUE = ("*", "//", "node()")
_FREE_TYPES = (NumericType, BooleanType, EnumerationType)


class FreeLeaves:
    """Which leaves of a schema are free (see the module docstring)."""

    def __init__(self, root: InternalNode) -> None:
        self._named, self._none = _looked_at(root)

    def is_free(self, info: NodeInfo) -> bool:
        """Whether the leaf ``info`` is free."""
        node = info.node
        return (
            not self._none
            and info.kind is NodeKind.LEAF
            and info.config
            and isinstance(node, LeafNode)
            and node.when is None
            and not node.must
            and isinstance(node.type, _FREE_TYPES)
            and info.name not in self._named
        )

    def value_ok(self, info: NodeInfo, value: Any) -> bool:
        """Whether ``value`` is a canonical RFC 7951 value of the leaf's type."""
        typ: DataType[Any, Any] = info.node.type
        cooked = typ.from_raw(value)
        if cooked is None or cooked not in typ:
            return False
        raw = typ.to_raw(cooked)
        return type(raw) is type(value) and raw == value


def _looked_at(root: InternalNode) -> tuple[frozenset[str], bool]:
    """The leaf names some constraint looks at, and whether one cannot be read."""
    named: set[str] = set()
    opaque = False
    for node in _nodes(root):
        texts = [str(m.expression) for m in node.must]
        if node.when is not None:
            texts.append(str(node.when))
        if isinstance(node, ListNode):
            named.update(name for name, _ in node.keys)
            for spec in node.unique:
                texts.extend(str(step) for step in spec)
        typ = getattr(node, "type", None)
        for member in _member_types(typ):
            if isinstance(member, LeafrefType):
                texts.append(str(member.path))
            elif isinstance(member, InstanceIdentifierType) and member.require_instance:
                opaque = True
        for text in texts:
            opaque = opaque or any(mark in text for mark in _OPAQUE)
            named.update(token.rpartition(":")[2] for token in _TOKEN.findall(text))
    return frozenset(named), opaque


def _nodes(node: SchemaNode) -> Iterator[SchemaNode]:
    yield node
    if isinstance(node, InternalNode):
        for child in node.children:
            yield from _nodes(child)


def _member_types(typ: Any) -> Iterator[Any]:
    if isinstance(typ, UnionType):
        for member in typ.types:
            yield from _member_types(member)
    elif typ is not None:
        yield typ
