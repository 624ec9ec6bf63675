"""An ``<edit-config>`` evaluated in the caller's view, as a service-core View.

:class:`EditConfigView` wraps the caller's access. The service core asks a view for the
site edits of a request under the writer lock, with the tree the commit starts from
(:meth:`View.site_edits`); this one stages the request's regions there (on the caller's
view of that tree, see :mod:`.edit_plan`) and hands the order-free edits to the access
it wraps, which turns them into edits of the whole site. So create and delete test
exactly the tree that is committed, a tenant's regions only ever see its own view, and
the result is authorized and validated like every write.

:class:`ReplaceView` does the same for a whole view (commit, copy-config): the edit that
makes the caller's view hold a given tree (:func:`replacement`).

The last refusal of the staging is kept (:attr:`EditConfigView.refused`): the service
core reports it as a ServiceError, which has no room for data-exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from agent.datastore.diff import Change, ChangeKind, diff_trees
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError
from agent.datastore.tree import Tree, TreeOps
from agent.mapping.model import SLICES
from agent.northbound.netconf.codec import EditNode
from agent.northbound.netconf.edit_plan import DefaultOperation, stage
from agent.schema.nav import SchemaNavigator
from agent.schema.path import DataPath


def base_view(access: Any) -> Any:
    """The view under an access's policy (the access itself when it has none): what
    writes stage on. Reads project with the policy too; writes are authorized by it."""
    return getattr(access, "base", access)


def replacement(access: Any, target: Tree, source: Tree, *, writable_only: bool) -> Edit:
    """The edit (of the caller's view) that makes its view of the site tree ``target``
    hold the view ``source``: for a full view ``source`` itself; for a tenant its
    slices from ``source`` and, unless ``writable_only``, the other top-level nodes
    ``source`` gives (checked then like any change to the read-only parts)."""
    if access.full:
        return Edit.replace(DataPath.root(), source)
    value = dict(base_view(access).project(target))
    if not writable_only:
        value.update(source)
    value[SLICES] = source.get(SLICES) or {"slice": []}
    return Edit.replace(DataPath.root(), value)


class _AccessView:
    """A view that is the caller's access in everything but ``site_edits``."""

    _access: Any

    @property
    def full(self) -> bool:
        return bool(self._access.full)

    def project(self, tree: Tree) -> Tree:
        return self._access.project(tree)  # type: ignore[no-any-return]

    def visible(self, path: DataPath) -> bool:
        return bool(self._access.visible(path))

    def authorize(self, before: Tree, after: Tree, changes: Sequence[Change]) -> None:
        self._access.authorize(before, after, changes)

    def redact(self, message: str) -> str:
        return self._access.redact(message)  # type: ignore[no-any-return]


class ReplaceView(_AccessView):
    """The caller's access, with the site edits that make its view of the site hold
    ``source`` (see :func:`replacement`), computed on the tree the commit starts from."""

    def __init__(self, access: Any, source: Tree, *, writable_only: bool) -> None:
        self._access = access
        self._source = source
        self._writable_only = writable_only

    def site_edits(
        self, ops: TreeOps, tree: Tree, edits: Sequence[Edit]
    ) -> tuple[list[Edit], list[int]]:
        if self._access.full:
            changed = difference_edits(tree, self._source, ops.nav)
            if changed is not None:
                return changed, [0] * len(changed)
        edit = replacement(self._access, tree, self._source, writable_only=self._writable_only)
        return self._access.site_edits(ops, tree, [edit])  # type: ignore[no-any-return]


MAX_DIFFERENCE_EDITS: Final = 256
"""Past this many changed nodes a commit replaces the whole tree instead."""


def difference_edits(target: Tree, source: Tree, nav: SchemaNavigator) -> list[Edit] | None:
    """The edits that turn ``target`` into ``source``: a replace of every leaf that
    differs and a delete of every node ``source`` lacks, so a commit of a candidate that
    differs from running in a few leaves touches those alone (subtrees the two share by
    identity are not even looked at). None when more than MAX_DIFFERENCE_EDITS differ."""
    edits: list[Edit] = []
    for change in diff_trees(target, source, nav):
        if len(edits) >= MAX_DIFFERENCE_EDITS:
            return None
        if change.kind is ChangeKind.DELETE:
            edits.append(Edit.delete(change.path))
        else:
            edits.append(Edit.replace(change.path, change.value))
    return edits


class EditConfigView(_AccessView):
    """The caller's access, with the site edits of one edit-config's regions."""

    def __init__(
        self,
        access: Any,
        nodes: Sequence[EditNode],
        default: DefaultOperation,
        *,
        every_error: bool = False,
    ) -> None:
        self._access = access
        self._base = base_view(access)
        self._nodes = tuple(nodes)
        self._default = default
        self._every_error = every_error
        self.refused: DatastoreError | None = None
        self.staged: Tree | None = None  # the caller's view after the edit

    def site_edits(
        self, ops: TreeOps, tree: Tree, edits: Sequence[Edit]
    ) -> tuple[list[Edit], list[int]]:
        """The site edits of the regions over the site ``tree`` (``edits`` only say what
        the request holds); region indexes as sources."""
        try:
            staged = stage(
                ops,
                self._base.project(tree),
                self._nodes,
                self._default,
                every_error=self._every_error,
            )
        except DatastoreError as err:
            self.refused = err
            raise
        self.staged = staged.tree
        if not staged.edits:
            return [], []
        if self._access.full:
            changed = difference_edits(tree, staged.tree, ops.nav)
            if changed is not None:
                regions = [
                    (e.path, source) for e, source in zip(staged.edits, staged.sources, strict=True)
                ]
                return changed, [_region_of(edit.path, regions) for edit in changed]
        try:
            site, sources = self._access.site_edits(ops, tree, list(staged.edits))
        except DatastoreError as err:
            index = err.op_index
            if index is not None and 0 <= index < len(staged.sources):
                err = err.at(staged.sources[index])
            self.refused = err
            raise err from None
        return site, [staged.sources[s] for s in sources]


def _region_of(path: DataPath, regions: Sequence[tuple[DataPath, int]]) -> int:
    """The region an edit at ``path`` comes from: the deepest region at or above it, else
    one below it (a region's delete removes what holds it), else the first."""
    above = [(len(where.elems), source) for where, source in regions if path.startswith(where)]
    if above:
        return max(above)[1]
    below = [source for where, source in regions if where.startswith(path)]
    return below[0] if below else regions[0][1]
