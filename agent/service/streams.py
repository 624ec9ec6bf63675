"""What a subscriber's streams may see and how many a tenant may hold.

A tenant's Subscribe sessions follow its view as the configuration changes (telemetry
re-derives the view at every commit), and count against the tenant's fair share: its
``max-subscriptions`` quota of streams, and a cap on the paths all its streams
subscribe to at once. Admins and operators see everything and count only against the
per-client caps of telemetry itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.security.users import User
from agent.service.access import AccessSource
from agent.service.usage import share_name
from agent.service.views import RunningSource, tenant_config, tenant_of
from agent.telemetry import FairShare, ViewOf

DEFAULT_MAX_SUBSCRIPTIONS = 32


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """Per-tenant stream limits that the model does not hold."""

    paths_per_tenant: int = 512


class StreamScopes:
    """The view and fair share of each subscriber."""

    def __init__(
        self, datastore: RunningSource, access: AccessSource, limits: StreamLimits | None = None
    ) -> None:
        self._datastore = datastore
        self._access = access
        self._limits = limits or StreamLimits()

    def of(self, user: User) -> tuple[ViewOf | None, FairShare | None]:
        """(access over a running tree, fair share) of ``user``; no share for users
        without a tenant."""

        def view_of(tree: Mapping[str, Any]) -> Any:
            return self._access.over(user, dict(tree))

        tenant = tenant_of(user)
        if tenant is None:
            return view_of, None
        config = tenant_config(self._datastore.running.tree, tenant)
        quota = config.get("max-subscriptions", DEFAULT_MAX_SUBSCRIPTIONS)

        share = FairShare(
            share_name(tenant), max_streams=int(quota), max_paths=self._limits.paths_per_tenant
        )
        return view_of, share
