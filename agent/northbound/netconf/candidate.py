"""The candidate datastore as NETCONF sessions edit it (RFC 6241 8.3).

One candidate for every session (:class:`agent.service.candidate.Candidate`). A
caller's edits are evaluated in its view of the candidate, exactly as writes to running
are evaluated in its view of running: staged on the view, turned into edits of whole
slices for a tenant, authorized on the diff. So a tenant changes only its own slices
of the shared candidate, and its commit takes only those to running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agent.datastore.diff import diff_trees
from agent.datastore.edits import Edit, EditKind, gnmi_order
from agent.datastore.errors import DatastoreError
from agent.datastore.tree import Tree, TreeOps
from agent.northbound.netconf.contracts import RpcContext
from agent.service.candidate import Candidate

SiteEdits = Callable[[Any, Tree], tuple[list[Edit], list[int]]]
"""The site edits (and their request indexes) of a change, given the caller's access
over the candidate and the candidate tree."""


class CandidateReads:
    """The CandidateSource of get-config: the candidate's own tree, if it has one."""

    def __init__(self, candidate: Candidate) -> None:
        self._candidate = candidate

    def tree_for(self, context: RpcContext) -> dict[str, Any] | None:
        return self._candidate.own_tree


def edit_candidate(
    candidate_tree: Tree, ops: TreeOps, access_over: Callable[[Tree], Any], site_edits: SiteEdits
) -> Tree:
    """The candidate after a change: the caller's access over the candidate
    (``access_over``) evaluates it (``site_edits``) and authorizes its diff. Raises
    DatastoreError (operation index of the request) with the candidate untouched."""
    access = access_over(candidate_tree)
    edits, sources = site_edits(access, candidate_tree)
    after = apply_edits(ops, candidate_tree, edits, sources)
    changes = diff_trees(candidate_tree, after, ops.nav)
    if changes:
        try:
            access.authorize(candidate_tree, after, changes)
        except DatastoreError as err:
            raise DatastoreError(err.kind, access.redact(err.message)) from None
    return after


def apply_edits(ops: TreeOps, tree: Tree, edits: Sequence[Edit], sources: Sequence[int]) -> Tree:
    """``edits`` applied to ``tree`` as the datastore stages them (deletes, replaces,
    updates); a refusal carries the request index ``sources`` gives."""
    out = tree
    for index, edit in gnmi_order(list(edits)):
        try:
            if edit.kind is EditKind.DELETE:
                out = ops.delete(out, edit.path)
            elif edit.kind is EditKind.REPLACE:
                out = ops.replace(out, edit.path, edit.value)
            else:
                out = ops.update(out, edit.path, edit.value)
        except DatastoreError as err:
            raise err.at(sources[index] if index < len(sources) else index) from None
    return out
