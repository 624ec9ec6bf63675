"""Per-tenant request rates: a token bucket per tenant, sized by its quota.

A tenant's ``max-set-rate`` (``/tenants/tenant/config``) is how many writes per second
it may make, with bursts up to the same number; one more is refused with EXHAUSTED
naming the quota. Principals without a tenant (admins, operators) are not limited here.
The rates actually used are kept for the tenants' usage state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from agent.clock import Clock
from agent.service.errors import Kind, ServiceError

NS_PER_S = 1_000_000_000


class RateExceeded(ServiceError):
    """A write over its tenant's rate; ``retry_after_s``: when a token is there again."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(Kind.EXHAUSTED, message)
        self.retry_after_s = retry_after_s


class Tenanted(Protocol):
    """A caller that may belong to a tenant."""

    @property
    def tenant(self) -> str | None: ...


class RateLimiter:
    """Token buckets per tenant; ``quota_of(tenant)`` gives its rate (None: unlimited)."""

    def __init__(self, clock: Clock, quota_of: Callable[[str], int | None]) -> None:
        self._clock = clock
        self._quota_of = quota_of
        self._buckets: dict[str, tuple[float, int]] = {}  # tenant -> (tokens, at ns)
        self._recent: dict[str, list[int]] = {}  # tenant -> admission times in the last s
        self._lock = threading.Lock()

    def admit(self, caller: Tenanted) -> None:
        """Takes one token of the caller's tenant or raises ServiceError EXHAUSTED."""
        tenant = caller.tenant
        if tenant is None:
            return
        rate = self._quota_of(tenant)
        if rate is None:
            return
        now = self._clock.monotonic_ns()
        with self._lock:
            tokens, at = self._buckets.get(tenant, (float(rate), now))
            tokens = min(float(rate), tokens + (now - at) * rate / NS_PER_S)
            if tokens < 1.0:
                self._buckets[tenant] = (tokens, now)
                raise RateExceeded(
                    f"tenant {tenant!r} is over its max-set-rate quota of {rate} writes "
                    "per second; retry later",
                    retry_after_s=(1.0 - tokens) / rate,
                )
            self._buckets[tenant] = (tokens - 1.0, now)
            recent = [t for t in self._recent.get(tenant, []) if now - t < NS_PER_S]
            recent.append(now)
            self._recent[tenant] = recent

    def rate(self, tenant: str) -> int:
        """Writes the tenant made in the last second."""
        now = self._clock.monotonic_ns()
        with self._lock:
            return sum(1 for t in self._recent.get(tenant, []) if now - t < NS_PER_S)

    def forget(self, keep: set[str]) -> None:
        """Drops the state of tenants not in ``keep`` (removed tenants)."""
        with self._lock:
            for tenant in set(self._buckets) - keep:
                self._buckets.pop(tenant, None)
                self._recent.pop(tenant, None)
