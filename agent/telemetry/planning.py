"""Checking a subscription list and turning it into watches.

Paths are checked against the schema (unknown nodes: NOT_FOUND); a path that names no
data yet is fine. Each subscription's minimum interval is the largest minimum sample
interval of the devices its path can reach (driver capabilities; every device for a
path that does not exist yet), and never below the configured floor. Modes:

- SAMPLE: every ``sample_interval`` (0: the minimum; below it: INVALID);
- ON_CHANGE: on change, the hardware under it re-read every
  ``max(minimum, change_poll_interval)`` unless an event reports the change first;
- TARGET_DEFINED: counters as SAMPLE (``sample_interval`` or the target default),
  everything else ON_CHANGE.

Heartbeats below the minimum are raised to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.datastore.errors import DatastoreError
from agent.datastore.errors import ErrorKind as DatastoreErrorKind
from agent.datastore.selection import EMPTY, selection_for
from agent.datastore.tree import TreeOps
from agent.mapping.state_tree import Selection
from agent.schema.nav import SchemaNavigator
from agent.schema.path import ANY_DEPTH, ANY_ONE, DataPath
from agent.telemetry.limits import TelemetryLimits
from agent.telemetry.model import (
    ErrorKind,
    ListMode,
    StreamMode,
    SubscribeSpec,
    Subscription,
    TelemetryError,
)
from agent.telemetry.patterns import PathPattern, SchemaReach
from agent.telemetry.selection import SiteIndex, counters_of, union
from agent.telemetry.session import Watch


@dataclass(frozen=True, slots=True)
class Plan:
    """The watches of a subscription list, everything they read from hardware, and how
    old state may be for a full set of values (POLL, ONCE, initial)."""

    watches: list[Watch]
    selection: Selection
    max_age_ns: int


class Planner:
    """Checks subscription lists against the schema, the limits and the devices."""

    def __init__(self, nav: SchemaNavigator, limits: TelemetryLimits) -> None:
        self._ops = TreeOps(nav)
        self._reach = SchemaReach(nav)
        self._tops = {child.name: child.module for child in nav.children(nav.root)}
        self._limits = limits

    def plan(
        self, spec: SubscribeSpec, index: SiteIndex | None, minimums: Mapping[str, int]
    ) -> Plan:
        """Raises TelemetryError (INVALID, NOT_FOUND, RESOURCE_EXHAUSTED)."""
        limits = self._limits
        if not spec.subscriptions:
            raise TelemetryError(ErrorKind.INVALID, "the subscription list has no subscription")
        if len(spec.subscriptions) > limits.max_paths:
            raise TelemetryError(
                ErrorKind.RESOURCE_EXHAUSTED,
                f"{len(spec.subscriptions)} paths in one subscription list; at most "
                f"{limits.max_paths} are allowed",
            )
        tops = None
        if spec.modules is not None:
            tops = frozenset(name for name, module in self._tops.items() if module in spec.modules)
        watches: list[Watch] = []
        selection = EMPTY
        max_age = 0
        for tag, subscription in enumerate(spec.subscriptions):
            made, minimum = self._watches(tag, subscription, spec, tops, index, minimums)
            for watch in made:
                if watch.state:
                    selection = union(selection, watch.selection)
            max_age = max(max_age, minimum)
            watches += made
        return Plan(watches, selection, max_age)

    def _watches(
        self,
        tag: int,
        sub: Subscription,
        spec: SubscribeSpec,
        tops: frozenset[str] | None,
        index: SiteIndex | None,
        minimums: Mapping[str, int],
    ) -> tuple[list[Watch], int]:
        self._check_path(sub.path)
        pattern = PathPattern(sub.path)
        state = self._reach.reaches_state(pattern)
        selection = selection_for(pattern.path) if state else EMPTY
        minimum = self.minimum(selection, state, index, minimums)
        limits = self._limits

        def watch(sampled: bool, interval: int, **extra: Any) -> Watch:
            counters = extra.get("counters") is True or only_counters(pattern.path)
            return Watch(
                pattern=pattern,
                tag=tag,
                sampled=sampled,
                interval_ns=interval,
                selection=counters_of(selection) if counters else selection,
                state=state,
                tops=tops,
                **extra,
            )

        if spec.mode is not ListMode.STREAM:
            return [watch(False, 0)], minimum
        mode = sub.mode
        if mode not in (StreamMode.SAMPLE, StreamMode.ON_CHANGE, StreamMode.TARGET_DEFINED):
            raise TelemetryError(ErrorKind.INVALID, f"unknown subscription mode {int(mode)}")
        asked = sub.sample_interval_ns
        if asked and asked < minimum and mode is not StreamMode.ON_CHANGE:
            raise TelemetryError(
                ErrorKind.INVALID,
                f"{sub.path}: sample_interval {duration(asked)} is below the minimum of "
                f"{duration(minimum)} the devices under it support (0 picks the minimum)",
            )
        heartbeat = max(sub.heartbeat_interval_ns, minimum) if sub.heartbeat_interval_ns else 0
        change_read = max(minimum, limits.change_poll_interval_ns) if state else 0
        if mode is StreamMode.SAMPLE:
            sampled = watch(
                True, asked or minimum, suppress=sub.suppress_redundant, heartbeat_ns=heartbeat
            )
            return [sampled], minimum
        if mode is StreamMode.ON_CHANGE:
            return [watch(False, change_read, heartbeat_ns=heartbeat)], minimum
        counters = asked or max(minimum, limits.target_defined_interval_ns)
        return [
            watch(
                True,
                counters,
                suppress=sub.suppress_redundant,
                heartbeat_ns=heartbeat,
                counters=True,
            ),
            watch(False, change_read, heartbeat_ns=heartbeat, counters=False),
        ], minimum

    def _check_path(self, path: DataPath) -> None:
        try:
            self._ops.select({}, path)
        except DatastoreError as err:
            kind = (
                ErrorKind.NOT_FOUND
                if err.kind is DatastoreErrorKind.NOT_FOUND
                else ErrorKind.INVALID
            )
            raise TelemetryError(kind, f"{path}: {err.message}") from None

    def minimum(
        self,
        selection: Selection,
        state: bool,
        index: SiteIndex | None,
        minimums: Mapping[str, int],
    ) -> int:
        """The smallest interval a path with this selection may be sampled at."""
        floor = self._limits.min_sample_interval_ns
        if not state:
            return floor
        devices = index.devices_reached(selection) if index is not None else None
        chosen = (
            list(minimums.values())
            if devices is None
            else [minimums[d] for d in devices if d in minimums]
        )
        return max([floor, *chosen])


def only_counters(path: DataPath) -> bool:
    """True when everything below ``path`` is in counter containers: its elements name
    a ``state/counters`` container (any keys) before any wildcard."""
    previous = ""
    for elem in path.elems:
        if elem.name in (ANY_ONE, ANY_DEPTH):
            return False
        if elem.name == "counters" and previous == "state":
            return True
        previous = elem.name
    return False


def duration(ns: int) -> str:
    """``1000000000`` -> ``1 s``, ``100000000`` -> ``100 ms``."""
    if ns % 1_000_000_000 == 0:
        return f"{ns // 1_000_000_000} s"
    if ns % 1_000_000 == 0:
        return f"{ns // 1_000_000} ms"
    return f"{ns} ns"
