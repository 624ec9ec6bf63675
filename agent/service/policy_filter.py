"""Pruning an RFC 7951 value down to the nodes a principal may read (or write).

Each node's decision is the one :meth:`Policy.decide` gives for its path. A permitted
node is kept, with its denied children removed (a permitted container may so end up
empty, and a permitted list entry with its keys alone). A denied node is cut, unless a
node below it is permitted by a more specific rule: then the denied node is kept as the
bare way down to what is permitted (containers holding only what leads there, list
entries with their keys, which are part of the kept node's path anyway). A list whose
entries are all cut is removed.

The walk descends only while a rule that has matched part of the way down could still
complete below and reverse the decision; every other subtree is taken or dropped whole
(taken subtrees are the input's own objects, not copies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.cancellation import checkpoint
from agent.datastore.tree import entry_keys
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem
from agent.schema.pattern import States
from agent.service.policy_rules import Effect, Rule

KeysOf = Callable[[DataPath], tuple[str, ...] | None]
"""The key leaf names of the list at a path (keys in it ignored), None if not a list."""

Pending = tuple[tuple[Rule, States], ...]


def start(rules: tuple[Rule, ...], path: DataPath) -> tuple[Rule | None, Pending]:
    """The deciding rule at ``path`` and the rules still under way there."""
    best: Rule | None = None
    pending: list[tuple[Rule, States]] = []
    for rule in rules:
        states = rule.pattern.consume(path)
        if not states:
            continue
        if rule.pattern.end in states:
            if best is None or rule.rank > best.rank:
                best = rule
        else:
            pending.append((rule, states))
    return best, tuple(pending)


def step(best: Rule | None, pending: Pending, elem: PathElem) -> tuple[Rule | None, Pending]:
    """The deciding rule and the rules under way one element further down."""
    still: list[tuple[Rule, States]] = []
    for rule, states in pending:
        nxt = rule.pattern.step(states, elem)
        if not nxt:
            continue
        if rule.pattern.end in nxt:
            if best is None or rule.rank > best.rank:
                best = rule
        else:
            still.append((rule, nxt))
    return best, tuple(still)


def contenders(best: Rule | None, pending: Pending) -> Pending:
    """The rules under way that would beat ``best`` if they completed."""
    if best is None:
        return pending
    return tuple(p for p in pending if p[0].rank > best.rank)


def names_ahead(pending: Pending) -> frozenset[str] | None:
    """The element names the rules under way can take next; None when any name can."""
    names: set[str] = set()
    for rule, states in pending:
        elems = rule.pattern.elems
        for state in states:
            name = elems[state].name
            if name in (ANY_ONE, ANY_DEPTH):
                return None
            names.add(name)
    return frozenset(names)


class Pruner:
    """One pruning walk (keeps the list keys it looked up)."""

    def __init__(self, keys_of: KeysOf) -> None:
        self._keys_of = keys_of
        self._keys: dict[tuple[str, ...], tuple[str, ...] | None] = {}

    def value(self, value: Any, path: DataPath, rules: tuple[Rule, ...]) -> Any | None:
        """``value`` (the node at ``path``, or the entries of the list at ``path``) pruned."""
        elems = path.elems
        if elems and not elems[-1].keys and _is_entry_list(value):
            last = elems[-1]
            best, pending = start(rules, path.parent)
            entries = self._entries(value, elems[:-1], last.name, last.module, best, pending)
            return entries if entries else None
        best, pending = start(rules, path)
        keys = tuple(k for k, _ in elems[-1].keys) if elems else ()
        return self._node(value, elems, best, pending, keys)

    def _node(
        self,
        value: Any,
        done: tuple[PathElem, ...],
        best: Rule | None,
        pending: Pending,
        keys: tuple[str, ...] = (),
    ) -> Any | None:
        permitted = best is not None and best.effect is Effect.PERMIT
        pending = contenders(best, pending)
        reverse = Effect.DENY if permitted else Effect.PERMIT
        if not isinstance(value, dict) or all(p[0].effect is not reverse for p in pending):
            return value if permitted else None
        checkpoint()
        ahead = names_ahead(pending)
        out: dict[str, Any] = {}
        for member, child in value.items():
            module, _, name = member.rpartition(":")
            if ahead is not None and name not in ahead:  # no rule goes there: as this node
                if permitted:
                    out[member] = child
                continue
            if _is_entry_list(child):
                kept = self._entries(child, done, name, module or None, best, pending)
            else:
                elem = PathElem(name, (), module or None)
                kept = self._node(child, (*done, elem), *step(best, pending, elem))
            if kept is not None:
                out[member] = kept
        if not out and not permitted:
            return None
        if len(out) == len(value) and all(out[m] is v for m, v in value.items()):
            return value
        if keys:  # an entry keeps its keys
            out = {m: out.get(m, v) for m, v in value.items() if m in out or m in keys}
        return out

    def _entries(
        self,
        entries: list[Any],
        done: tuple[PathElem, ...],
        name: str,
        module: str | None,
        best: Rule | None,
        pending: Pending,
    ) -> list[Any] | None:
        keys = self._list_keys(done, name, module)
        if keys is None:  # not a list the schema knows: one node
            elem = PathElem(name, (), module)
            return self._node(entries, (*done, elem), *step(best, pending, elem))
        kept: list[Any] = []
        for entry in entries:
            values = entry_keys(entry, keys)
            if values is None:
                continue
            elem = PathElem(name, tuple(sorted(zip(keys, values, strict=True))), module)
            entry_kept = self._node(entry, (*done, elem), *step(best, pending, elem), keys)
            if entry_kept is not None:
                kept.append(entry_kept)
        if len(kept) == len(entries) and all(a is b for a, b in zip(kept, entries, strict=True)):
            return entries
        return kept or None

    def _list_keys(
        self, done: tuple[PathElem, ...], name: str, module: str | None
    ) -> tuple[str, ...] | None:
        names = (*(e.name for e in done), name)
        if names not in self._keys:
            elems = (*(PathElem(e.name, (), e.module) for e in done), PathElem(name, (), module))
            self._keys[names] = self._keys_of(DataPath(elems))
        return self._keys[names]


def _is_entry_list(value: Any) -> bool:
    """True for a JSON array of objects (a YANG list; leaf-lists hold scalars)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
