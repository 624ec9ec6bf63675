"""What the layers report to metrics: one small protocol per concern, and a no-op sink.

Components take the narrowest protocol they need (the datastore a CommitMetrics, the
device pool a DeviceMetrics, ...); agent.app passes the same sink to all of them:
:class:`NoMetrics` when metrics are off, the Prometheus registry when on. Nothing here
imports prometheus_client. Every method is cheap and never raises.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Protocol


class RollbackReason(enum.Enum):
    """Why applied configuration was taken back."""

    HARDWARE_FAILURE = "hardware-failure"  # a driver failed mid-commit: its ops undone
    NOT_CONFIRMED = "not-confirmed"  # a commit-confirmed timed out
    CANCELLED = "cancelled"  # a commit-confirmed was cancelled
    RESTART = "restart"  # a commit-confirmed was pending when the agent stopped
    STORAGE_FAILURE = "storage-failure"  # saving failed: the applied ops undone


class DriverStage(enum.Enum):
    """The driver call that failed."""

    APPLY = "apply"
    UNDO = "undo"
    RECONCILE = "reconcile"


class RpcMetrics(Protocol):
    """RPCs of every northbound (gNMI, NETCONF)."""

    def rpc_started(self, service: str, method: str) -> None:
        """An RPC began (a stream counts until it ends)."""

    def rpc_finished(self, service: str, method: str, code: str, seconds: float) -> None:
        """An RPC ended with ``code`` (a gRPC status name, a NETCONF error-tag or ok)."""


class CommitMetrics(Protocol):
    """Commits of the datastore."""

    def commit_finished(self, result: str, seconds: float) -> None:
        """A commit ended: ``committed``, ``unchanged`` or the refusal's kind."""

    def rollback(self, reason: RollbackReason, ok: bool) -> None:
        """Applied configuration was taken back (``ok``: completely)."""


class DeviceMetrics(Protocol):
    """Driver calls of the device pool."""

    def driver_applied(self, device: str, operations: Iterable[str]) -> None:
        """A driver applied these operations (e.g. ``port-update``)."""

    def driver_refused(self, device: str, problems: int) -> None:
        """A driver's validation refused a change with ``problems`` errors."""

    def driver_failed(self, device: str, stage: DriverStage) -> None:
        """A driver call failed."""


class LoginMetrics(Protocol):
    """Logins of every northbound."""

    def login_failed(self, protocol: str, reason: str) -> None:
        """A login was refused (``reason``: an AuthFailure value, e.g. bad-password)."""


class MetricsSink(RpcMetrics, CommitMetrics, DeviceMetrics, LoginMetrics, Protocol):
    """Everything the layers report."""


class NoMetrics:
    """The sink when metrics are off: every report is dropped."""

    def rpc_started(self, service: str, method: str) -> None:
        pass

    def rpc_finished(self, service: str, method: str, code: str, seconds: float) -> None:
        pass

    def commit_finished(self, result: str, seconds: float) -> None:
        pass

    def rollback(self, reason: RollbackReason, ok: bool) -> None:
        pass

    def driver_applied(self, device: str, operations: Iterable[str]) -> None:
        pass

    def driver_refused(self, device: str, problems: int) -> None:
        pass

    def driver_failed(self, device: str, stage: DriverStage) -> None:
        pass

    def login_failed(self, protocol: str, reason: str) -> None:
        pass
