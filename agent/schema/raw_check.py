"""First validation pass over raw RFC 7951 data: unknown nodes, wrong JSON types, state
data in configuration. Every problem found is reported; the offending member is dropped so
that the remaining data can be parsed and checked by the second pass."""

from __future__ import annotations

import json
from typing import Any

from yangson.enumerations import ContentType
from yangson.schemanode import (
    InternalNode,
    LeafListNode,
    ListNode,
    SchemaNode,
    TerminalNode,
)

from agent.schema.path import DataPath, PathElem
from agent.schema.refusal import Refusal, Rule, shorten

RawObject = dict[str, Any]


def clean_raw(
    raw: RawObject, root: InternalNode, *, config_only: bool, refusals: list[Refusal]
) -> RawObject:
    """Returns ``raw`` without the members that cannot be parsed, recording each one.

    The path of every refusal recorded here is the path of a member that was dropped.
    """
    if not isinstance(raw, dict):
        refusals.append(Refusal(DataPath.root(), Rule.TYPE, "the data must be a JSON object"))
        return {}
    return _clean_object(raw, root, DataPath.root(), None, config_only, refusals)


def _clean_object(
    raw: RawObject,
    schema: InternalNode,
    path: DataPath,
    namespace: str | None,
    config_only: bool,
    refusals: list[Refusal],
) -> RawObject:
    cleaned: RawObject = {}
    given: dict[int, str] = {}  # schema node -> the member that gave it
    for member, value in raw.items():
        module, _, name = member.rpartition(":")
        child_ns = module or namespace
        child_path = path.child(name)
        child = schema.get_data_child(name, child_ns) if child_ns else None
        if child is not None and given.setdefault(id(child), member) != member:
            first = given[id(child)]
            refusals.append(
                Refusal(
                    child_path,
                    Rule.DUPLICATE,
                    f"{name!r} is given twice, as {first!r} and {member!r}",
                )
            )
            continue
        if child is None:
            where = str(path) if path.elems else "the top level"
            hint = (
                "" if child_ns else " (a top-level member needs its module, e.g. edge-ports:ports)"
            )
            refusals.append(
                Refusal(child_path, Rule.UNKNOWN_NODE, f"no node {member!r} in {where}{hint}")
            )
            continue
        if config_only and child.content_type() == ContentType.nonconfig:
            refusals.append(
                Refusal(
                    child_path,
                    Rule.STATE_IN_CONFIG,
                    f"{name!r} is state data (config false) and cannot be configured",
                )
            )
            continue
        parsed = _clean_member(value, child, child_path, child.ns, config_only, refusals)
        if parsed is not _DROP:
            cleaned[member] = parsed
    return cleaned


_DROP: Any = object()


def _clean_member(
    value: Any,
    schema: SchemaNode,
    path: DataPath,
    namespace: str | None,
    config_only: bool,
    refusals: list[Refusal],
) -> Any:
    if isinstance(schema, ListNode):
        if not isinstance(value, list):
            refusals.append(Refusal(path, Rule.TYPE, "a list must be a JSON array of objects"))
            return _DROP
        entries = []
        for entry in value:
            if not isinstance(entry, dict):
                refusals.append(Refusal(path, Rule.TYPE, "a list entry must be a JSON object"))
                continue
            entry_path = _entry_path(path, schema, entry)
            entries.append(
                _clean_object(entry, schema, entry_path, namespace, config_only, refusals)
            )
        return entries
    if isinstance(schema, LeafListNode):
        if not isinstance(value, list):
            refusals.append(Refusal(path, Rule.TYPE, "a leaf-list must be a JSON array"))
            return _DROP
        good = [v for v in value if _scalar_ok(v, schema, path, refusals)]
        return good
    if isinstance(schema, InternalNode):
        if not isinstance(value, dict):
            refusals.append(Refusal(path, Rule.TYPE, "a container must be a JSON object"))
            return _DROP
        return _clean_object(value, schema, path, namespace, config_only, refusals)
    if isinstance(schema, TerminalNode):
        return value if _scalar_ok(value, schema, path, refusals) else _DROP
    return value


def _scalar_ok(value: Any, schema: TerminalNode, path: DataPath, refusals: list[Refusal]) -> bool:
    if schema.type.from_raw(value) is not None:
        return True
    expected = type_phrase(schema)
    refusals.append(
        Refusal(path, Rule.TYPE, f"{shorten(json.dumps(value))} is not a valid {expected} value")
    )
    return False


def type_phrase(schema: TerminalNode) -> str:
    """A short description of a leaf's type for messages, e.g. 'uint16'."""
    typ = schema.type
    name = type(typ).__name__.removesuffix("Type").lower()
    ref = getattr(typ, "ref_type", None)
    if ref is not None:
        name = type(ref).__name__.removesuffix("Type").lower()
    return name


def _entry_path(path: DataPath, schema: ListNode, entry: RawObject) -> DataPath:
    keys = {}
    for key_name, _ in schema.keys:
        if key_name in entry:
            keys[key_name] = _key_text(entry[key_name])
    last = PathElem.of(path.elems[-1].name, keys)
    return DataPath((*path.elems[:-1], last))


def _key_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)
