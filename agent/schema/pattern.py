"""Paths with wildcards as patterns over concrete data paths, matched in linear time.

A pattern is a DataPath that may hold ``*`` (one element), ``...`` (any number of
elements, none included), key value ``*`` or missing keys (any entry). Matching runs the
pattern as a small automaton whose state is the set of pattern positions reached, so a
walk costs (nodes visited) x (pattern length) however many ``...`` the pattern holds.
Once the whole pattern has matched, the end state stays reached for every node below
(a pattern selects a node and everything under it). Module qualifiers are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath, PathElem

States = frozenset[int]

EVERY_LEAF: Final[frozenset[str]] = frozenset({ANY_ONE})
"""A leaf set meaning every leaf of a container (``*`` is never a leaf name)."""


def selects(leaves: frozenset[str], name: str) -> bool:
    """True when the leaf set ``leaves`` holds leaf ``name``."""
    return leaves is EVERY_LEAF or name in leaves


class PathPattern:
    """A path with wildcards, compiled for matching."""

    __slots__ = ("_end", "_start", "elems", "path")

    def __init__(self, path: DataPath) -> None:
        self.path = path.without_modules()
        self.elems = self.path.elems
        self._end = len(self.elems)
        self._start = self._closure((0,))

    @property
    def start(self) -> States:
        return self._start

    @property
    def end(self) -> int:
        """The state reached once the whole pattern has matched."""
        return self._end

    def _closure(self, states: Iterable[int]) -> States:
        out = set(states)
        todo = list(out)
        while todo:
            state = todo.pop()
            if state < self._end and self.elems[state].name == ANY_DEPTH and state + 1 not in out:
                out.add(state + 1)
                todo.append(state + 1)
        return frozenset(out)

    def step(self, states: States, elem: PathElem, *, any_keys: bool = False) -> States:
        """The states after one more element (``any_keys``: keys are not looked at)."""
        nxt: set[int] = set()
        for state in states:
            if state == self._end:
                nxt.add(state)
                continue
            want = self.elems[state]
            if want.name == ANY_DEPTH:
                nxt.add(state)
            elif (want.name == ANY_ONE or want.name == elem.name) and (
                any_keys or _keys_match(want, elem)
            ):
                nxt.add(state + 1)
        return self._closure(nxt) if nxt else frozenset()

    def consume(self, path: DataPath, states: States | None = None) -> States:
        """The states after every element of ``path`` (empty: no match possible)."""
        current = self._start if states is None else states
        for elem in path.elems:
            current = self.step(current, elem)
            if not current:
                break
        return current

    def leaves(self, states: States) -> frozenset[str]:
        """The leaves of a container reached in ``states`` that the pattern selects:
        EVERY_LEAF, some names, or none."""
        if self._end in states:
            return EVERY_LEAF
        names: set[str] = set()
        for state in states:
            if state + 1 != self._end:
                continue
            want = self.elems[state]
            if want.keys:
                continue
            if want.name == ANY_ONE:
                return EVERY_LEAF
            names.add(want.name)
        return frozenset(names)

    def covers(self, path: DataPath) -> bool:
        """True when ``path`` is a node the pattern selects (all of it)."""
        return self._end in self.consume(path)

    def __repr__(self) -> str:
        return f"PathPattern({self.path})"


def _keys_match(want: PathElem, elem: PathElem) -> bool:
    if not want.keys:
        return True
    have = dict(elem.keys)
    return all(value == ANY_ONE or have.get(key) == value for key, value in want.keys)
