"""Telemetry limits and defaults, all configurable from the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

MS = 1_000_000
S = 1_000_000_000


class Bundling(Enum):
    """What one Notification may carry (gNMI 3.5.2.1 asks targets to let this be set).

    - LEAF: one leaf (no bundling);
    - CONTAINER: the leaves of one container, e.g. the counters of one port;
    - SAMPLE: leaves of several containers under one top-level node observed at the same
      time (one sample), e.g. the counters of many ports: fewer, larger messages, and no
      loss of timestamp accuracy since only values of one sample share a message.

    Every mode stops at ``max_updates_per_notification`` leaves.
    """

    LEAF = "leaf"
    CONTAINER = "container"
    SAMPLE = "sample"


@dataclass(frozen=True, slots=True)
class TelemetryLimits:
    """Caps (answered with RESOURCE_EXHAUSTED) and the intervals the target chooses.

    - ``max_sessions``, ``max_sessions_per_client``: Subscribe RPCs open at once on the
      server and per client (user name, else peer address).
    - ``max_paths``: subscriptions in one SubscriptionList.
    - ``max_pending``: leaf values (and deletes) queued for one collector; coalescing keeps
      a slow collector far below it (at most one pending value per leaf it subscribed
      to), so reaching it ends that stream instead of growing memory.
    - ``min_sample_interval_ns``: the floor for paths the hardware is not read for
      (configuration only); hardware paths use the largest minimum of the devices
      they reach (driver capabilities).
    - ``change_poll_interval_ns``: how often state under ON_CHANGE subscriptions is read
      when no driver event reports the change (never below the devices' minimum).
    - ``target_defined_interval_ns``: the sample interval of counters in TARGET_DEFINED
      subscriptions that give none.
    - ``bundling``, ``max_updates_per_notification``: what a Notification may carry and
      at most how many leaves (see Bundling).
    - ``compact_paths``: put the container (CONTAINER) or top-level node (SAMPLE) in each
      Notification's prefix and relative paths in its updates: smaller messages, but
      pygnmi's STREAM and POLL subscribers merge the notifications of a sync and keep
      only the last prefix, mislabelling the rest. Off: updates carry full paths and the
      prefix only the echoed target and origin.
    """

    max_sessions: int = 256
    max_sessions_per_client: int = 32
    max_paths: int = 256
    max_pending: int = 1_000_000
    min_sample_interval_ns: int = 100 * MS
    change_poll_interval_ns: int = 1 * S
    target_defined_interval_ns: int = 10 * S
    bundling: Bundling = Bundling.SAMPLE
    compact_paths: bool = False
    max_updates_per_notification: int = 256

    def __post_init__(self) -> None:
        for name in (
            "max_sessions",
            "max_sessions_per_client",
            "max_paths",
            "max_pending",
            "min_sample_interval_ns",
            "change_poll_interval_ns",
            "target_defined_interval_ns",
            "max_updates_per_notification",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
