"""Notification timestamps: ns since the Unix epoch from an injected clock, never 0.

gNMI requires a timestamp on every Notification, and some clients (pygnmi) drop
notifications whose timestamp is 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.clock import Clock
from agent.gnmi.pb import NotificationMsg, PathMsg, UpdateMsg, gnmi_pb2


def timestamp_ns(clock: Clock) -> int:
    """The clock's wall time in ns since the epoch; 1 if the clock reads at or before it."""
    return max(clock.now_ns(), 1)


def new_notification(
    clock: Clock,
    *,
    prefix: PathMsg | None = None,
    updates: Iterable[UpdateMsg] = (),
    deletes: Iterable[PathMsg] = (),
    atomic: bool = False,
) -> NotificationMsg:
    """A Notification stamped with the clock's time now."""
    return gnmi_pb2.Notification(
        timestamp=timestamp_ns(clock),
        prefix=prefix,
        update=list(updates),
        delete=list(deletes),
        atomic=atomic,
    )
