"""Subscription paths as patterns over concrete data paths.

The automaton itself is :class:`agent.schema.pattern.PathPattern`: a pattern matches a
node when it names that node or one of its ancestors, so a subscription to a container
gets every leaf below it. Here: leaf sets and what a pattern can reach in the schema.
"""

from __future__ import annotations

from agent.schema.nav import NodeInfo, NodeKind, SchemaNavigator
from agent.schema.path import PathElem
from agent.schema.pattern import EVERY_LEAF, PathPattern, States, selects

__all__ = ["EVERY_LEAF", "PathPattern", "SchemaReach", "States", "selects"]


class SchemaReach:
    """What a pattern can reach in the schema: used to tell whether a subscription needs
    hardware reads (it reaches ``config false`` data)."""

    def __init__(self, nav: SchemaNavigator) -> None:
        self._nav = nav
        self._state_below: dict[int, bool] = {}

    def has_state(self, info: NodeInfo) -> bool:
        """True when ``info`` is or holds ``config false`` data."""
        key = id(info.node)
        found = self._state_below.get(key)
        if found is None:
            if info.is_leafy:
                found = not info.config
            else:
                found = (not info.config and info.kind is not NodeKind.ROOT) or any(
                    self.has_state(child) for child in self._nav.children(info)
                )
            self._state_below[key] = found
        return found

    def reaches_state(self, pattern: PathPattern) -> bool:
        """True when data the pattern selects can include ``config false`` nodes."""
        todo: list[tuple[NodeInfo, States]] = [(self._nav.root, pattern.start)]
        seen: set[tuple[int, States]] = set()
        while todo:
            info, states = todo.pop()
            if (id(info.node), states) in seen:
                continue
            seen.add((id(info.node), states))
            if pattern.end in states:
                if self.has_state(info):
                    return True
                continue
            for child in self._nav.children(info):
                nxt = pattern.step(states, PathElem(child.name), any_keys=True)
                if nxt:
                    todo.append((child, nxt))
        return False
