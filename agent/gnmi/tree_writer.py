"""RFC 7951 data -> JSON or JSON_IETF text in one pass, with the text of unchanged
configuration subtrees reused.

The result is exactly ``dump_json(encode_tree(path, value, schema, ietf=...))``, without
its intermediate tree: a plan per schema node (output member names, the child plans,
how each leaf type is written) is made on first use, and a leaf is written straight
from its stored value. Values whose form the plans do not cover (unusual types, unknown
members, colliding names) are written by ``encode_tree`` itself, and a value that does
not fit its type is reported exactly as ``encode_tree`` reports it.

The configuration is an immutable tree whose unchanged subtrees stay the same objects
from version to version; the text of a subtree that can hold configuration only (no
state below it) is therefore remembered by the identity of its object (the object is
kept alive with it, so an identity is never reused while remembered). An answer built
after a commit re-encodes only what the commit changed. The text depends on nothing
but the object and the schema, so it is the same for every reader and every view.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Final

from agent.cancellation import checkpoint
from agent.gnmi.errors import GnmiError
from agent.gnmi.json_value import JsonValue, dump_json
from agent.gnmi.schema_info import SchemaInfo, cached
from agent.gnmi.tree_codec import encode_node, json_leaf
from agent.schema.leaf_types import JSON_STRING_NUMBERS, UNSIGNED_INTS, BaseType, LeafType
from agent.schema.path import DataPath, PathElem

Stable = Callable[[DataPath], bool]
"""True for a schema path under which only configuration can be (its text is cached)."""

_quote: Callable[[str], str] = json.encoder.encode_basestring
_SMALL_DOMAINS: Final = frozenset({BaseType.ENUMERATION, BaseType.IDENTITYREF})
MEMO_LIMIT: Final = 256
"""Distinct values remembered per enumeration or identity leaf."""
CACHE_LIMIT: Final = 1 << 14
"""Subtree texts remembered per schema node and generation (two generations are kept,
so texts of subtrees that commits replaced are dropped after this many new ones)."""

LeafWriter = Callable[[Any], "str | None"]
"""A stored leaf value -> its JSON text; None when the generic encoder must decide."""


class _TextCache:
    """Texts by object identity in two generations: a lookup in the old generation moves
    the entry to the new one, and a full new generation retires the old."""

    def __init__(self) -> None:
        self._new: dict[int, tuple[Any, str]] = {}
        self._old: dict[int, tuple[Any, str]] = {}
        self._lock = threading.Lock()

    def get(self, value: Any) -> str | None:
        key = id(value)
        found = self._new.get(key)
        if found is None:
            found = self._old.get(key)
            if found is None or found[0] is not value:
                return None
            self.put(value, found[1])
        return found[1] if found[0] is value else None

    def put(self, value: Any, text: str) -> None:
        with self._lock:
            if len(self._new) >= CACHE_LIMIT:
                self._old, self._new = self._new, {}
            self._new[id(value)] = (value, text)


class _Plan:
    """How the values at one schema node are written."""

    __slots__ = ("cache", "collides", "ietf", "keys", "leaf", "members", "module", "path", "write")

    def __init__(
        self,
        path: DataPath,
        module: str | None,
        ietf: bool,
        leaf: LeafType | None,
        keys: tuple[str, ...],
        stable: bool,
    ) -> None:
        self.path = path
        self.module = module
        self.ietf = ietf
        self.leaf = leaf
        self.keys = keys  # list keys (empty: not a list)
        self.write: LeafWriter | None = None if leaf is None else _leaf_writer(leaf, ietf)
        self.members: dict[str, tuple[str, _Plan, LeafWriter | None]] = {}
        self.collides = False  # two members write the same name: the generic encoder decides
        self.cache = _TextCache() if stable and leaf is None else None


class TreeWriter:
    """Writes JSON and JSON_IETF text of RFC 7951 values of one schema (thread-safe)."""

    def __init__(self, schema: SchemaInfo, stable: Stable | None = None) -> None:
        """``stable`` says which subtrees hold configuration only (None: none is cached)."""
        self._schema = cached(schema)
        self._stable = stable
        self._plans: dict[tuple[tuple[tuple[str, str | None], ...], bool, bool], _Plan] = {}
        self._lock = threading.Lock()

    def text(self, path: DataPath, value: JsonValue, *, ietf: bool) -> str:
        """The JSON (``ietf`` False) or JSON_IETF text of ``value``, the data at ``path``;
        what ``dump_json(encode_tree(path, value, schema, ietf=ietf))`` gives."""
        module = self._schema.module_of(path) if path.elems else None
        plan = self._plan(path, module, ietf, outermost=True)
        try:
            return self._write(plan, value, outermost=True)
        except GnmiError:
            # The generic encoder names the exact node (with its list keys) that failed.
            return self._generic(path, value, module, ietf, outermost=True)

    # --- writing ------------------------------------------------------------------------

    def _write(self, plan: _Plan, value: Any, outermost: bool = False) -> str:
        if isinstance(value, dict):
            return self._object(plan, value, outermost)
        if plan.write is not None:
            text = plan.write(value)
            return self._generic(plan.path, value, plan.module, plan.ietf) if text is None else text
        if isinstance(value, list) and plan.keys:
            entries = []
            for entry in value:
                checkpoint()  # once per list entry: a big answer stops when cancelled
                if not isinstance(entry, dict):
                    raise GnmiError.internal(f"list entry {entry!r} is not an object")
                entries.append(self._object(plan, entry, outermost))
            return "[" + ",".join(entries) + "]"
        return self._generic(plan.path, value, plan.module, plan.ietf, outermost)

    def _object(self, plan: _Plan, value: dict[str, Any], outermost: bool) -> str:
        cache = plan.cache
        if cache is not None:
            cached_text = cache.get(value)
            if cached_text is not None:
                return cached_text
        members = plan.members
        parts = []
        for member, child in value.items():
            found = members.get(member)
            if found is None:
                found = self._member(plan, member, outermost)
                if found is None or plan.collides:
                    # a member the schema does not know, or two that write one name
                    return self._generic(plan.path, value, plan.module, plan.ietf, outermost)
            name, child_plan, write = found
            if write is not None and type(child) is not dict:
                text = write(child)
                if text is None:
                    text = self._generic(child_plan.path, child, child_plan.module, plan.ietf)
                parts.append(name + text)
            else:
                parts.append(name + self._write(child_plan, child))
        if plan.collides:
            return self._generic(plan.path, value, plan.module, plan.ietf, outermost)
        text = "{" + ",".join(parts) + "}"
        if cache is not None:
            cache.put(value, text)
        return text

    def _generic(
        self,
        path: DataPath,
        value: Any,
        module: str | None,
        ietf: bool,
        outermost: bool = False,
    ) -> str:
        encoded = encode_node(path, value, module, self._schema, ietf=ietf, outermost=outermost)
        return dump_json(encoded).decode("utf-8")

    # --- plans --------------------------------------------------------------------------

    def _plan(self, path: DataPath, module: str | None, ietf: bool, *, outermost: bool) -> _Plan:
        key = (tuple((e.name, e.module) for e in path.elems), ietf, outermost)
        plan = self._plans.get(key)
        if plan is None:
            plan = _Plan(
                path,
                module,
                ietf,
                self._schema.leaf_type(path) if path.elems else None,
                (self._schema.list_keys(path) or ()) if path.elems else (),
                bool(path.elems) and self._is_stable(path),
            )
            with self._lock:
                plan = self._plans.setdefault(key, plan)
        return plan

    def _is_stable(self, path: DataPath) -> bool:
        if self._stable is None:
            return False
        try:
            return self._stable(path)
        except GnmiError:
            return False

    def _member(
        self, plan: _Plan, member: str, outermost: bool
    ) -> tuple[str, _Plan, LeafWriter | None] | None:
        """The output name (quoted, with its colon), plan and leaf writer of a member;
        None when the schema does not know it."""
        explicit, _, local = member.rpartition(":")
        module = explicit or plan.module
        if module is None:
            module = self._schema.module_of(_child(plan.path, local, None))
        if not module:
            return None
        if plan.ietf and (outermost or module != plan.module):
            out_name = f"{module}:{local}"
        else:
            out_name = local
        child_path = _child(plan.path, local, module if module != plan.module else None)
        child = self._plan(child_path, module, plan.ietf, outermost=False)
        quoted = _quote(out_name) + ":"
        with self._lock:
            if any(known[0] == quoted for known in plan.members.values()):
                plan.collides = True  # JSON drops modules: two members, one name
            found = plan.members.setdefault(member, (quoted, child, child.write))
        return found


def _child(path: DataPath, name: str, module: str | None) -> DataPath:
    return DataPath((*path.elems, PathElem(name, (), module)))


def _leaf_writer(leaf: LeafType, ietf: bool) -> LeafWriter | None:
    """The fast writer of one leaf type (None: every value goes to the generic encoder).

    Each writer accepts only values already in their canonical stored form and leaves
    everything else (to convert or to refuse) to the generic encoder.
    """
    if leaf.is_list:
        return _always_generic
    base = leaf.base
    if leaf.is_integer:
        low, high = _int_range(base)
        if base in JSON_STRING_NUMBERS:
            return _wide_writer(low, high, ietf)
        return lambda v: str(v) if type(v) is int and low <= v <= high else None
    if base is BaseType.BOOLEAN:
        return lambda v: "true" if v is True else "false" if v is False else None
    if base is BaseType.STRING:
        return lambda v: _quote(v) if type(v) is str else None
    if base in _SMALL_DOMAINS:
        return _memo_writer(leaf, ietf)
    return _always_generic


def _int_range(base: BaseType) -> tuple[int, int]:
    """The values of an integer type, from its name (``int8`` .. ``uint64``)."""
    bits = int(base.value.rpartition("int")[2])
    if base in UNSIGNED_INTS:
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _always_generic(value: Any) -> str | None:
    return None


def _wide_writer(low: int, high: int, ietf: bool) -> LeafWriter:
    def write(value: Any) -> str | None:
        if type(value) is str:
            if not value.isascii() or not value.isdigit():
                return None  # signs, spaces: the generic encoder decides
            if len(value) < 19 and (value[0] != "0" or len(value) == 1):
                return f'"{value}"' if ietf else value  # canonical and in range already
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            return None
        if not low <= number <= high:
            return None
        return f'"{number}"' if ietf else str(number)

    return write


def _memo_writer(leaf: LeafType, ietf: bool) -> LeafWriter:
    """Writes enumeration and identity values through the generic encoder once each."""
    seen: dict[Any, str] = {}
    where = DataPath(())

    def write(value: Any) -> str | None:
        if type(value) is not str:
            return None
        text = seen.get(value)
        if text is None:
            try:
                encoded = json_leaf(value, leaf, where, ietf=ietf)
            except GnmiError:
                return None  # the generic encoder reports it, with the path
            text = dump_json(encoded).decode("utf-8")
            if len(seen) < MEMO_LIMIT:
                seen[value] = text
        return text

    return write
