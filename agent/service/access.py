"""A principal's access: its view of the site with the policy applied on top.

The view decides which slices, ports and tenant entries exist for the principal (its
tenant's, or the whole site); the policy (built-in role rules plus the operator's policy
file) decides what of that the principal may read and write at all. :class:`Access`
combines both behind the :class:`~agent.service.views.View` interface, so Get, Set and
Subscribe apply both without knowing either:

- reads: the view's projection, then the policy's filter of what may be read;
- telemetry: a container is sent when the view shows it and the policy lets it be read;
- writes: staged in the view; the commit's diff must be inside the view and every
  changed node permitted for writing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agent.datastore.diff import Change, ChangeKind
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import Tree, TreeOps
from agent.schema.path import DataPath
from agent.security.users import User
from agent.service.policy import Action, Policy
from agent.service.principal import Principal
from agent.service.views import FULL_VIEW, TenantView, View, ViewSource

KeysOf = Callable[[DataPath], tuple[str, ...] | None]


_PRINCIPALS_KEPT = 1024  # principals kept for the users seen last


class Access:
    """What one principal may see and change: a view narrowed by the policy."""

    def __init__(self, view: View, policy: Policy, principal: Principal, keys_of: KeysOf) -> None:
        self._view = view
        self._policy = policy
        self._principal = principal
        self._keys_of = keys_of
        self.tenant = principal.tenant

    @property
    def full(self) -> bool:
        return self._view.full

    @property
    def cache_key(self) -> tuple[str, int]:
        """Answers for this access may be shared with equal keys (same principal,
        same policy object; the view follows from the running version)."""
        return (self._principal.name, id(self._policy))

    @property
    def signature(self) -> tuple[object, ...]:
        """Equal for accesses that see exactly the same (same policy, same view)."""
        return (id(self._policy), self._principal, getattr(self._view, "signature", self._view))

    def project(self, tree: Tree) -> Tree:
        shown = self._view.project(tree)
        filtered = self._policy.filter(
            self._principal, DataPath.root(), shown, Action.READ, keys_of=self._keys_of
        )
        return filtered if isinstance(filtered, dict) else {}

    def visible(self, path: DataPath) -> bool:
        if not self._view.visible(path):
            return False
        return self._policy.decide(self._principal, path, Action.READ).permitted

    def site_edits(
        self, ops: TreeOps, tree: Tree, edits: Sequence[Edit]
    ) -> tuple[list[Edit], list[int]]:
        return self._view.site_edits(ops, tree, edits)

    def authorize(self, before: Tree, after: Tree, changes: Sequence[Change]) -> None:
        self._view.authorize(before, after, changes)
        for change in changes:
            if change.kind is ChangeKind.DELETE:
                permitted = (
                    self._policy.is_uniform(self._principal, change.path, Action.WRITE)
                    and self._policy.decide(self._principal, change.path, Action.WRITE).permitted
                )
            else:
                permitted = self._policy.decide(
                    self._principal, change.path, Action.WRITE
                ).permitted
            if not permitted:
                decision = self._policy.decide(self._principal, change.path, Action.WRITE)
                raise DatastoreError(
                    ErrorKind.DENIED,
                    self.redact(
                        f"{self._principal.describe()} may not change "
                        f"{change.path.without_modules()}: {decision.explanation}"
                    ),
                )

    def redact(self, message: str) -> str:
        return self._view.redact(message)

    @property
    def base(self) -> Any:
        """The view under the policy."""
        return self._view


class AccessSource:
    """The access of each user: its view (per running version) and the current policy."""

    def __init__(self, views: ViewSource, policies: Callable[[], Policy], keys_of: KeysOf) -> None:
        self._views = views
        self._policies = policies
        self._keys_of = keys_of
        self._principals: dict[User, Principal] = {}  # users are immutable values

    def of(self, user: User) -> Access:
        """``user``'s access now."""
        principal = self._principal(user)
        return Access(self._views.of(principal.tenant), self._policies(), principal, self._keys_of)

    def over(self, user: User, tree: Tree) -> Access:
        """``user``'s access over the configuration ``tree`` (telemetry re-derives it at
        every commit)."""
        principal = self._principal(user)
        tenant = principal.tenant
        view: View = FULL_VIEW if tenant is None else TenantView.of(tenant, tree)
        return Access(view, self._policies(), principal, self._keys_of)

    def _principal(self, user: User) -> Principal:
        found = self._principals.get(user)
        if found is None:
            if len(self._principals) >= _PRINCIPALS_KEPT:
                self._principals.clear()
            found = self._principals[user] = Principal.of(user)
        return found
