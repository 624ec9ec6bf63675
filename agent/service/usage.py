"""Tenants' runtime usage (streams held, writes per second) for /tenants/tenant/state.

The state reader (agent.mapping) renders a tenant's usage; what only the running
service knows comes from here: the streams its users hold (telemetry's fair share) and
the writes it made in the last second (the rate limiter). The reader is built before the
telemetry service and the core, so the sources are attached once they exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent.mapping.tenants import SET_RATE, SUBSCRIPTIONS


class LiveUsage:
    """A TenantUsage over the running service (zeros until attached)."""

    def __init__(self) -> None:
        self._streams: Callable[[str], tuple[int, int]] | None = None
        self._rate: Callable[[str], int] | None = None

    def attach(self, streams: Callable[[str], tuple[int, int]], rate: Callable[[str], int]) -> None:
        """``streams(share name) -> (streams, paths)``; ``rate(tenant) -> writes/s``."""
        self._streams, self._rate = streams, rate

    def usage(self, tenant: str) -> Mapping[str, int | float]:
        streams = self._streams(share_name(tenant))[0] if self._streams is not None else 0
        rate = self._rate(tenant) if self._rate is not None else 0
        return {SUBSCRIPTIONS: streams, SET_RATE: rate}


def share_name(tenant: str) -> str:
    """The name of a tenant's fair share, as refusals name it."""
    return f"tenant {tenant!r}"
