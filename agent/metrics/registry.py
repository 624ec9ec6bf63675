"""The agent's metrics on prometheus_client: one registry per agent, never the global one.

:class:`AgentMetrics` implements every protocol of :mod:`agent.metrics.sink`; the
collectors of :mod:`agent.metrics.collectors` join its registry for the values read
when Prometheus scrapes. Names and labels are listed in docs/deploy.md#metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.registry import Collector

from agent.metrics.sink import DriverStage, RollbackReason

PREFIX = "edge_agent"
RPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
"""Seconds: unary RPCs take milliseconds; a Subscribe stream counts its whole life."""
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class AgentMetrics:
    """The counters and histograms the layers feed (thread-safe, as prometheus_client is)."""

    def __init__(self, collectors: Iterable[Collector] = ()) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: noise
        self.registry = registry = CollectorRegistry()

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(f"{PREFIX}_{name}", doc, labels, registry=registry)

        def histogram(name: str, doc: str, buckets: Sequence[float], *labels: str) -> Histogram:
            return Histogram(f"{PREFIX}_{name}", doc, labels, buckets=buckets, registry=registry)

        self._rpcs = counter(
            "rpcs", "RPCs answered, by service, method and status code", "service", "method", "code"
        )
        self._rpc_seconds = histogram(
            "rpc_duration_seconds",
            "Time from an RPC's start to its status (a stream's whole life)",
            RPC_BUCKETS,
            "service",
            "method",
        )
        self._in_flight = Gauge(
            f"{PREFIX}_rpcs_in_flight",
            "RPCs started and not yet answered (open streams included)",
            ["service", "method"],
            registry=registry,
        )
        self._commits = counter(
            "commits", "Commits, by result: committed, unchanged or the refusal's kind", "result"
        )
        self._commit_seconds = histogram(
            "commit_duration_seconds",
            "Time a commit that changed the configuration took, validation to publication",
            COMMIT_BUCKETS,
        )
        self._rollbacks = counter(
            "rollbacks", "Configuration taken back, by reason and result", "reason", "result"
        )
        self._driver_ops = counter(
            "driver_operations",
            "Operations drivers applied, by device and operation",
            "device",
            "operation",
        )
        self._driver_refusals = counter(
            "driver_refusals",
            "Problems drivers found when validating a change (nothing was applied)",
            "device",
        )
        self._driver_errors = counter(
            "driver_errors",
            "Failed driver calls, by device and stage (apply, undo, reconcile)",
            "device",
            "stage",
        )
        self._login_failures = counter(
            "login_failures", "Refused logins, by protocol and reason", "protocol", "reason"
        )
        for collector in collectors:
            registry.register(collector)

    def register(self, collector: Collector) -> None:
        """Adds a collector read at every scrape."""
        self.registry.register(collector)

    # RpcMetrics

    def rpc_started(self, service: str, method: str) -> None:
        self._in_flight.labels(service, method).inc()

    def rpc_finished(self, service: str, method: str, code: str, seconds: float) -> None:
        self._in_flight.labels(service, method).dec()
        self._rpcs.labels(service, method, code).inc()
        self._rpc_seconds.labels(service, method).observe(seconds)

    # CommitMetrics

    def commit_finished(self, result: str, seconds: float) -> None:
        self._commits.labels(result).inc()
        if result == "committed":
            self._commit_seconds.observe(seconds)

    def rollback(self, reason: RollbackReason, ok: bool) -> None:
        self._rollbacks.labels(reason.value, "ok" if ok else "failed").inc()

    # DeviceMetrics

    def driver_applied(self, device: str, operations: Iterable[str]) -> None:
        for operation in operations:
            self._driver_ops.labels(device, operation).inc()

    def driver_refused(self, device: str, problems: int) -> None:
        self._driver_refusals.labels(device).inc(problems)

    def driver_failed(self, device: str, stage: DriverStage) -> None:
        self._driver_errors.labels(device, stage.value).inc()

    # LoginMetrics

    def login_failed(self, protocol: str, reason: str) -> None:
        self._login_failures.labels(protocol, reason).inc()
