"""The service core: what every northbound shares, in one place.

It holds the writer lock and master arbitration (:class:`WriteService`), the access of
principals (their views narrowed by the policy: :class:`AccessSource`) and of their
streams (:class:`StreamScopes`), the request
workers with their fair shares (:class:`Admission`), per-tenant write rates, the
commit-confirmed timer (:class:`ConfirmTimer`), the candidate configuration
(:class:`Candidate`) and the audit log. Northbounds (gNMI
now, NETCONF next) translate their protocol to and from it and map its error kinds
(:mod:`agent.service.errors`) onto their codes once. ``agent.app`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.clock import Clock
from agent.datastore.datastore import Datastore
from agent.security.audit import AuditLog
from agent.service.access import AccessSource
from agent.service.admission import Admission, AdmissionLimits
from agent.service.candidate import Candidate
from agent.service.confirm import ConfirmTimer
from agent.service.fair_lock import FairLock
from agent.service.policy_file import PolicyStore
from agent.service.rates import RateLimiter
from agent.service.streams import StreamLimits, StreamScopes
from agent.service.views import ViewSource, tenant_config
from agent.service.writes import WriteService
from agent.telemetry.timer import Timer


@dataclass(frozen=True, slots=True)
class CoreLimits:
    """The limits of the service core."""

    admission: AdmissionLimits = field(default_factory=AdmissionLimits)
    streams: StreamLimits = field(default_factory=StreamLimits)
    request_budget_s: float | None = 30.0
    rollback_retry_s: float = 1.0


class ServiceCore:
    """The transport-neutral core shared by every northbound."""

    def __init__(
        self,
        datastore: Datastore,
        audit: AuditLog,
        clock: Clock,
        timer: Timer,
        policies: PolicyStore,
        limits: CoreLimits | None = None,
    ) -> None:
        self.limits = limits or CoreLimits()
        self.datastore = datastore
        self.audit = audit
        self.clock = clock
        self.policies = policies
        self.views = ViewSource(datastore)
        self.access = AccessSource(self.views, policies.current, datastore.schema.list_keys)
        self.streams = StreamScopes(datastore, self.access, self.limits.streams)
        self.admission = Admission(self.limits.admission)
        self.rates = RateLimiter(clock, self._set_rate_quota)
        self.writes = WriteService(
            datastore,
            audit,
            clock,
            rates=self.rates,
            after_write=self._written,
            short_first=self.admission.short_first,
        )
        self.candidate = Candidate(datastore, datastore.schema.nav)  # NETCONF :candidate
        self.confirm = ConfirmTimer(
            datastore,
            self.writes.lock,
            audit,
            clock,
            timer,
            retry_s=self.limits.rollback_retry_s,
        )

    def start(self) -> None:
        """Starts the core's own task (the commit-confirmed timer) on the running loop."""
        self.confirm.start()

    async def stop(self) -> None:
        await self.confirm.stop()
        self.admission.close()

    def _written(self) -> None:
        self.confirm.changed()

    def _set_rate_quota(self, tenant: str) -> int | None:
        quota = tenant_config(self.datastore.running.tree, tenant).get("max-set-rate")
        return None if quota is None else int(quota)

    def lock(self) -> FairLock:
        """The writer lock every write holds."""
        return self.writes.lock
