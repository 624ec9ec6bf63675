"""Turns the JSON that lenient clients send into canonical RFC 7951 data.

Accepted leniencies (the JSON encoding of gNMI and hand-written files): member names
qualified or not (top level and module boundaries get qualified, everything else
unqualified), 64-bit integers and decimal64 as JSON numbers, identityref values without
their module when exactly one module defines that identity. Anything the schema does not
know is passed through untouched so that validation can report it, and so is a member
given twice (once with its module, once without).
"""

from __future__ import annotations

from typing import Any

from yangson.schemanode import InternalNode, ListNode, SchemaNode, TerminalNode

from agent.schema.leaf_info import leaf_type_of
from agent.schema.leaf_types import JSON_STRING_NUMBERS, BaseType, LeafType


class Normaliser:
    """Canonicalises raw JSON against one schema."""

    def __init__(self, root: InternalNode, identities: dict[str, tuple[str, ...]]) -> None:
        self._root = root
        # identity name -> modules defining it
        self._identities = identities

    def object(
        self, raw: dict[str, Any], schema: InternalNode, parent_ns: str | None
    ) -> dict[str, Any]:
        """Canonical form of the members of ``raw`` under ``schema``."""
        out: dict[str, Any] = {}
        for member, value in raw.items():
            module, _, name = member.rpartition(":")
            child = self._find_child(schema, name, module or None, parent_ns)
            if child is None:
                out[member] = value
                continue
            key = name if child.ns == parent_ns else f"{child.ns}:{name}"
            if key in out:
                # The same node given twice (qualified and not): keep both, under the
                # other spelling, for validation to refuse rather than one silently winning.
                key = f"{child.ns}:{name}" if key == name else name
            out[key] = self.value(value, child)
        return out

    def value(self, value: Any, schema: SchemaNode) -> Any:
        """Canonical form of ``value`` for the node ``schema``."""
        if isinstance(schema, ListNode):
            if not isinstance(value, list):
                return value
            return [self.object(e, schema, schema.ns) if isinstance(e, dict) else e for e in value]
        if isinstance(schema, InternalNode):
            return self.object(value, schema, schema.ns) if isinstance(value, dict) else value
        if isinstance(schema, TerminalNode):
            leaf = leaf_type_of(schema)
            if leaf.is_list and isinstance(value, list):
                return [self.scalar(v, leaf) for v in value]
            return self.scalar(value, leaf)
        return value

    def scalar(self, value: Any, leaf: LeafType) -> Any:
        """Canonical RFC 7951 form of one scalar value."""
        if leaf.base in JSON_STRING_NUMBERS and isinstance(value, int | float):
            if isinstance(value, bool):
                return value
            if leaf.base is BaseType.DECIMAL64:
                return _decimal_text(value, leaf.fraction_digits or 0)
            return str(value) if isinstance(value, int) else value
        if leaf.base is BaseType.IDENTITYREF and isinstance(value, str) and ":" not in value:
            modules = self._identities.get(value, ())
            if len(modules) == 1 and modules[0] != leaf.module:
                return f"{modules[0]}:{value}"
        if leaf.base is BaseType.UNION and leaf.members:
            for member in leaf.members:
                converted = self.scalar(value, member)
                if converted is not value:
                    return converted
        return value

    def _find_child(
        self, schema: InternalNode, name: str, module: str | None, parent_ns: str | None
    ) -> SchemaNode | None:
        if module:
            found: SchemaNode | None = schema.get_data_child(name, module)
            return found
        if parent_ns:
            child: SchemaNode | None = schema.get_data_child(name, parent_ns)
            if child is not None:
                return child
        matches = [c for c in schema.data_children() if c.name == name]
        return matches[0] if len(matches) == 1 else None


def _decimal_text(value: float | int, digits: int) -> str:
    return f"{value:.{digits}f}" if digits else str(value)
