"""The candidate configuration (NETCONF :candidate, RFC 6241 8.3), one for all sessions.

While nobody has changed it, the candidate *is* the running configuration: it follows
every commit, whichever northbound makes it. Once a session changes it, it holds a tree
of its own until a commit makes running equal to it or the changes are discarded. It
remembers which sessions changed it: a changed candidate cannot be locked by another
session (RFC 6241 7.5).

Operations that read the candidate and then change it hold :attr:`Candidate.mutex` for
the whole of it, so two sessions' edits never interleave. Readers take :attr:`tree`
(an immutable snapshot) without it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agent.datastore.diff import trees_differ
from agent.datastore.tree import Tree
from agent.schema.nav import SchemaNavigator
from agent.service.views import RunningSource


@dataclass(frozen=True, slots=True)
class CandidateState:
    """The candidate's own tree (None: unchanged, running is the candidate) and the
    sessions that changed it."""

    tree: Tree | None = None
    changed_by: frozenset[str] = frozenset()


class Candidate:
    """The shared candidate configuration over the running configuration."""

    def __init__(self, datastore: RunningSource, nav: SchemaNavigator) -> None:
        self._datastore = datastore
        self._nav = nav
        self._state = CandidateState()
        self.mutex = asyncio.Lock()
        self._compared: tuple[Tree, Tree, bool] | None = None  # (running, tree, differ)

    @property
    def tree(self) -> Tree:
        """The candidate tree now (the running tree while it holds no change)."""
        own = self._state.tree
        return own if own is not None else self._datastore.running.tree

    @property
    def own_tree(self) -> Tree | None:
        """The candidate's tree when it differs from running, else None."""
        own = self._state.tree
        return own if own is not None and self._differs(own) else None

    @property
    def changed(self) -> bool:
        """True when the candidate holds changes running does not have."""
        return self.own_tree is not None

    @property
    def changed_by(self) -> frozenset[str]:
        """The sessions whose changes the candidate holds (none when unchanged)."""
        return self._state.changed_by if self.changed else frozenset()

    def set(self, tree: Tree, session: str) -> None:
        """Makes ``tree`` the candidate, changed by ``session`` (unless it equals running)."""
        if not self._differs(tree):
            self._state = CandidateState()
            return
        self._state = CandidateState(tree, self._state.changed_by | {session})

    def discard(self) -> None:
        """Drops every change: the candidate is running again (discard-changes)."""
        self._state = CandidateState()

    def settle(self) -> None:
        """Forgets the candidate's own tree once running holds all of it (after a
        commit), so it follows running again."""
        own = self._state.tree
        if own is not None and not self._differs(own):
            self._state = CandidateState()

    def _differs(self, tree: Tree) -> bool:
        """Whether ``tree`` holds a change running does not (trees are immutable: the
        answer for the last pair compared is kept)."""
        running = self._datastore.running.tree
        if tree is running:
            return False
        last = self._compared
        if last is not None and last[0] is running and last[1] is tree:
            return last[2]
        differ = trees_differ(running, tree, self._nav)
        self._compared = (running, tree, differ)
        return differ
