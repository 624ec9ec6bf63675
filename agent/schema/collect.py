"""Second validation pass: walks a parsed yangson instance and collects every violation
(types, ranges, patterns, identities, leafrefs, unique, must, when, mandatory) instead of
stopping at the first one."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

from yangson.datatype import (
    DataType,
    EnumerationType,
    IdentityrefType,
    LeafrefType,
    LinearType,
    NumericType,
    StringType,
    UnionType,
)
from yangson.enumerations import ContentType, ValidationScope
from yangson.exceptions import SchemaError, ValidationError, YangsonException
from yangson.instance import ArrayEntry, InstanceNode
from yangson.schemanode import (
    DataNode,
    InternalNode,
    LeafListNode,
    ListNode,
    SequenceNode,
    TerminalNode,
)

from agent.schema.characters import character_problem
from agent.schema.path import DataPath, PathElem
from agent.schema.refusal import Refusal, Rule, shorten


def collect_refusals(
    root: InstanceNode, ctype: ContentType, dropped: frozenset[DataPath] = frozenset()
) -> list[Refusal]:
    """Every schema violation under ``root`` (an instance node of any depth).

    ``dropped`` names members the first pass already refused and removed; their absence
    is not reported again as a missing mandatory node.
    """
    walker = _Walker(ctype, dropped, root.top())
    walker.walk(root)
    return walker.found


def instance_path(inst: InstanceNode) -> DataPath:
    """The internal path of a yangson instance node (module qualifiers dropped)."""
    chain = []
    node: InstanceNode | None = inst
    while node is not None and node.parinst is not None:
        chain.append(node)
        node = node.parinst
    elems: list[PathElem] = []
    for item in reversed(chain):
        if isinstance(item, ArrayEntry):
            schema = item.schema_node
            if isinstance(schema, ListNode) and schema.keys and elems:
                keys = {}
                for key_name, key_ns in schema.keys:
                    iname = key_name if key_ns == schema.ns else f"{key_ns}:{key_name}"
                    if iname in item.value:
                        keys[key_name] = _text(item.value[iname])
                elems[-1] = PathElem.of(elems[-1].name, keys)
            continue
        name = str(item.name).rpartition(":")[2]
        elems.append(PathElem(name))
    return DataPath(tuple(elems))


class _Walker:
    """One validation pass; caches what is shared by many nodes (leafref targets)."""

    def __init__(self, ctype: ContentType, dropped: frozenset[DataPath], top: InstanceNode) -> None:
        self.ctype = ctype
        self.dropped = dropped
        self.top = top
        self.found: list[Refusal] = []
        self._targets: dict[int, frozenset[Any]] = {}
        self._children: dict[int, dict[str, Any]] = {}

    def walk(self, inst: InstanceNode) -> None:
        schema = inst.schema_node
        if isinstance(schema, SequenceNode) and not isinstance(inst, ArrayEntry):
            self._sequence(inst, schema)
            return
        if isinstance(schema, InternalNode):
            self._members(inst, schema)
            for member in inst:
                self.walk(inst._member(member))
        elif isinstance(schema, TerminalNode):
            self._leaf(inst, schema)
        if isinstance(schema, DataNode) and schema.must:
            _check(self.found, inst, lambda: schema._check_must(inst))

    def _sequence(self, inst: InstanceNode, schema: SequenceNode) -> None:
        if isinstance(schema, ListNode):
            repeated = _check_keys(inst, schema, self.found) if schema.keys else frozenset()
            for spec in schema.unique:
                _check_unique(inst, schema, spec, self.found, repeated)
        elif isinstance(schema, LeafListNode):
            _check(self.found, inst, lambda: schema._check_list_props(inst))
        _check(self.found, inst, lambda: schema._check_cardinality(inst))
        for entry in _entries(inst):
            self.walk(entry)

    def _members(self, inst: InstanceNode, schema: InternalNode) -> None:
        children = self._child_map(schema)
        for member in inst:
            child = children.get(member)
            when = child.when if child is not None else None
            if when is not None and not when.evaluate(inst._member(member)):
                name = member.rpartition(":")[2]
                self.found.append(
                    Refusal(
                        instance_path(inst).child(name),
                        Rule.WHEN,
                        f"{name!r} is not allowed here: its condition {when} is false",
                    )
                )
        # Only configuration is checked for completeness: state trees are partial by nature.
        # A missing list key is the key check's to report.
        keys = frozenset(n for n, _ in schema.keys) if isinstance(schema, ListNode) else ()
        for child in schema._mandatory_children[1]:
            iname = child.iname()
            if iname in inst.value or child.name in keys:
                continue
            if self.dropped and instance_path(inst).child(child.name) in self.dropped:
                continue
            if child.when is not None and not child.when.evaluate(inst.put_member(iname, (None,))):
                continue
            self.found.append(
                Refusal(instance_path(inst), Rule.MANDATORY, f"mandatory {child.name!r} is missing")
            )

    def _child_map(self, schema: InternalNode) -> dict[str, Any]:
        key = id(schema)
        found = self._children.get(key)
        if found is None:
            found = {c.iname(): c for c in schema.data_children()}
            self._children[key] = found
        return found

    def _leaf(self, inst: InstanceNode, schema: TerminalNode) -> None:
        # Text of any type (strings, also inside unions and leafrefs, keys, enumerations)
        # must be a YANG string before anything else is said about it.
        if isinstance(inst.value, str):
            problem = character_problem(inst.value)
            if problem is not None:
                self.found.append(
                    Refusal(instance_path(inst), Rule.CHARACTER, f"{_show(inst.value)}: {problem}")
                )
                return
        typ = schema.type
        if isinstance(typ, UnionType):
            try:
                schema._validate_union(inst, ValidationScope.syntax, typ)
            except ValidationError as err:
                self.found.append(_translate(err, inst, leaf=True))
            return
        if inst.value not in typ:
            refusal = _type_refusal(inst, schema, instance_path(inst))
            self.found.append(refusal or Refusal(instance_path(inst), Rule.TYPE, "invalid value"))
            return
        if (
            isinstance(typ, LeafrefType)
            and typ.require_instance
            and not self._target_exists(inst, typ)
        ):
            self.found.append(_leafref_refusal(inst, instance_path(inst)))

    def _target_exists(self, inst: InstanceNode, typ: LeafrefType) -> bool:
        text = str(typ.path)
        if not text.startswith("/"):
            found = _relative_target(inst, text)
            if found is not None:
                return found
            try:
                return bool(inst._deref(typ))
            except YangsonException:
                return False
        key = id(typ)
        targets = self._targets.get(key)
        if targets is None:
            values = _absolute_values(self.top.value, text)
            if values is None:
                try:
                    values = [n.value for n in typ.path.evaluate(self.top)]
                except YangsonException:
                    values = []
            targets = frozenset(values)
            self._targets[key] = targets
        return inst.value in targets


def _entries(array: InstanceNode) -> Any:
    """The entries of an array instance, read-only.

    yangson's own iteration copies the remaining entries at every step (quadratic); the
    walker never edits or climbs above an entry with ``up()``, so entries need no zipper
    context. Absolute XPath is evaluated from the true root instead.
    """
    for index in range(len(array.value)):
        yield _entry_at(array, index)


def _entry_at(array: InstanceNode, index: int) -> ArrayEntry:
    """One entry of an array instance, read-only (see ``_entries``), in constant time."""
    value = array.value
    return ArrayEntry(
        index, deque(), deque(), value[index], array, array.schema_node, value.timestamp
    )


def _absolute_values(root: Any, xpath: str) -> list[Any] | None:
    """Values at a plain absolute path like ``/m:a/m:b/m:c`` (lists flattened), read
    straight from the data; None when the path has predicates or other XPath."""
    current: list[Any] = [root]
    parent_module = ""
    for step in xpath.strip("/").split("/"):
        module, _, name = step.rpartition(":")
        if not name.replace("-", "").replace("_", "").isalnum():
            return None
        member = name if module == parent_module else f"{module}:{name}"
        parent_module = module
        found: list[Any] = []
        for value in current:
            if isinstance(value, dict) and member in value:
                item = value[member]
                found.extend(item if isinstance(item, list) else [item])
        current = found
    return current


def _relative_target(inst: InstanceNode, xpath: str) -> bool | None:
    """Resolves a leafref like ``../config/name`` or ``../../port/name`` by walking values
    (lists flattened); None when the path is not a plain sequence of ``..`` and member
    names."""
    steps = xpath.split("/")
    node: Any = inst
    while steps and steps[0] == "..":
        node = node.parinst.parinst if isinstance(node, ArrayEntry) else node.parinst
        if node is None:
            return None
        steps.pop(0)
    values: list[Any] = [node.value]
    for step in steps:
        name = step.rpartition(":")[2]
        if not name.replace("-", "").replace("_", "").isalnum():
            return None
        found: list[Any] = []
        for value in values:
            if isinstance(value, dict) and name in value:
                item = value[name]
                found.extend(item if isinstance(item, list) else [item])
        values = found
    return inst.value in values


def _check(
    found: list[Refusal], inst: InstanceNode, check: Callable[[], Any], *, leaf: bool = False
) -> None:
    try:
        check()
    except ValidationError as err:
        found.append(_translate(err, inst, leaf))


def _translate(err: ValidationError, inst: InstanceNode, leaf: bool) -> Refusal:
    where = err.instance if err.instance is not None else inst
    path = instance_path(where)
    tag = err.tag or ""
    schema = where.schema_node
    if tag == "missing-data":
        missing = str(err.message).removeprefix("expected ")
        return Refusal(path, Rule.MANDATORY, f"mandatory {missing} is missing")
    if tag == "list-key-missing":
        return Refusal(path, Rule.KEY, f"list entry without its key {err.message!r}")
    if tag == "non-unique-key":
        return Refusal(path, Rule.KEY, f"two entries have the key {err.message}")
    if tag == "instance-required":
        return _leafref_refusal(where, path)
    if tag in ("too-few-elements", "too-many-elements"):
        return Refusal(path, Rule.CARDINALITY, tag.replace("-", " "))
    if leaf and isinstance(err, SchemaError) is False and isinstance(schema, TerminalNode):
        typed = _type_refusal(where, schema, path)
        if typed is not None and not tag.startswith("must") and tag != "must-violation":
            return typed
    if tag == "must-violation" or (err.message and "must" in tag):
        text = err.message or "a must condition is false"
        return Refusal(path, Rule.MUST, str(text))
    text = f"{tag}: {err.message}" if err.message else tag
    return Refusal(path, Rule.OTHER, text)


def _leafref_refusal(inst: InstanceNode, path: DataPath) -> Refusal:
    schema = inst.schema_node
    typ: DataType[Any, Any] = schema.type
    target = _readable(str(getattr(typ, "path", ""))) if isinstance(typ, LeafrefType) else ""
    value = _text(inst.value)
    if target.startswith("../config/"):
        return Refusal(
            path, Rule.KEY, f"list key {value!r} differs from {target.removeprefix('../')}"
        )
    return Refusal(path, Rule.LEAFREF, f"{value!r} refers to no existing {target}")


def _type_refusal(inst: InstanceNode, schema: TerminalNode, path: DataPath) -> Refusal | None:
    typ: DataType[Any, Any] = schema.type
    if isinstance(typ, LeafrefType):
        typ = typ.ref_type
    if isinstance(typ, UnionType):
        return Refusal(path, Rule.TYPE, f"{_show(inst.value)} matches no member of the union")
    value = inst.value
    shown = _show(value)
    if isinstance(typ, NumericType) and typ.range is not None and value not in typ.range:
        return Refusal(path, Rule.RANGE, f"{shown} is out of range {typ.range}")
    if isinstance(typ, LinearType) and typ.length is not None and len(value) not in typ.length:
        return Refusal(path, Rule.LENGTH, f"{shown} has length {len(value)}, allowed {typ.length}")
    if isinstance(typ, StringType):
        for pattern in typ.patterns:
            matches = pattern.regex.fullmatch(value) is not None
            if matches == pattern.invert_match:
                custom = pattern.error_message != f"pattern '{pattern.pattern}'"
                reason = pattern.error_message if custom else f"must match {pattern.pattern!r}"
                return Refusal(path, Rule.PATTERN, f"{shown}: {reason}")
    if isinstance(typ, EnumerationType):
        names = ", ".join(typ.enum)
        return Refusal(path, Rule.ENUM, f"{shown} is not one of {names}")
    if isinstance(typ, IdentityrefType):
        bases = ", ".join(f"{m}:{n}" for n, m in typ.bases)
        return Refusal(
            path, Rule.IDENTITY, f"{_show_identity(value)} is not an identity derived from {bases}"
        )
    return None


def _check_keys(inst: InstanceNode, schema: ListNode, found: list[Refusal]) -> frozenset[int]:
    """Refuses every entry that lacks a key leaf or repeats the keys of an earlier entry;
    returns the positions of the repeats."""
    members: tuple[str, ...] = tuple(schema._key_members)
    names = tuple(name for name, _ in schema.keys)
    first: dict[tuple[Any, ...], int] = {}
    repeated: set[int] = set()
    for index, entry in enumerate(inst.value):
        missing = next((m for m in members if m not in entry), None)
        if missing is not None:
            where = instance_path(_entry_at(inst, index))
            found.append(Refusal(where, Rule.KEY, f"list entry without its key {missing!r}"))
            continue
        values = tuple(entry[m] for m in members)
        earlier = first.setdefault(values, index)
        if earlier == index:
            continue
        repeated.add(index)
        keys = ", ".join(f"{n}={_text(v)!r}" for n, v in zip(names, values, strict=True))
        found.append(
            Refusal(
                instance_path(_entry_at(inst, index)),
                Rule.KEY,
                f"list {schema.name!r} has two entries with the key {keys} "
                f"(entries {earlier + 1} and {index + 1})",
            )
        )
    return frozenset(repeated)


def _check_unique(
    inst: InstanceNode,
    schema: ListNode,
    spec: Any,
    found: list[Refusal],
    repeated: frozenset[int] = frozenset(),
) -> None:
    lookups = [_unique_lookup(schema, str(step)) for step in spec]
    seen: dict[tuple[Any, ...], int] = {}
    for index, value in enumerate(inst.value):
        if index in repeated:
            continue  # already refused for repeating an entry's keys
        combo = tuple(_lookup(value, names, default) for names, default in lookups)
        if any(v is None for v in combo):
            continue  # RFC 7950 7.8.3: entries lacking a unique leaf are not checked
        first = seen.setdefault(combo, index)
        if first == index:
            continue
        leaves = " ".join(_readable(str(step)) for step in spec)
        shown = ", ".join(_show(v) for v in combo)
        found.append(
            Refusal(
                instance_path(_entry_at(inst, index)),
                Rule.UNIQUE,
                f"{leaves} = {shown} is already used by {instance_path(_entry_at(inst, first))}",
            )
        )


def _unique_lookup(schema: ListNode, step: str) -> tuple[tuple[str, ...], Any]:
    """Instance names along a unique descendant path and the leaf's default."""
    node: Any = schema
    names = []
    for part in step.split("/"):
        module, _, name = part.rpartition(":")
        child = node.get_data_child(name, module or node.ns)
        if child is None:
            return (), None
        names.append(name if child.ns == node.ns else f"{child.ns}:{name}")
        node = child
    return tuple(names), getattr(node, "default", None)


def _lookup(value: Any, names: tuple[str, ...], default: Any) -> Any:
    for name in names:
        if not isinstance(value, dict) or name not in value:
            return default
        value = value[name]
    return value


def _readable(xpath: str) -> str:
    parts = [p.rpartition(":")[2] for p in xpath.split("/") if p]
    return "/" + "/".join(parts) if xpath.startswith("/") else "/".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        return _show_identity(value)
    return shorten(value if isinstance(value, str) else json.dumps(value, default=str))


def _show(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        return _show_identity(value)
    if isinstance(value, str):
        return repr(shorten(value))
    return shorten(str(value))


def _show_identity(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        name, module = value
        return f"'{module}:{name}'"
    return repr(value)


__all__ = ["ContentType", "collect_refusals", "instance_path"]
