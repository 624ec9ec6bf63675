"""Values read when Prometheus scrapes: subscriptions, the datastore, per-entity counters.

Each collector reads its source from the scrape's thread, never on the event loop:
telemetry and the datastore only hand out immutable snapshots and plain numbers, and the
drivers are read as telemetry reads them (one batched call per kind of record and
device), through the same :class:`~agent.mapping.state_tree.StateReader`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.drivers.counters import PORT_COUNTER_FIELDS, SLICE_COUNTER_FIELDS
from agent.mapping.model import SLICES, TENANTS, Entry, entries
from agent.mapping.state_tree import DeviceReading, Selection
from agent.metrics.registry import PREFIX
from agent.telemetry.model import ListMode, SubscribeSpec

COUNTERS_SELECTION = Selection(devices=frozenset(), tenants=frozenset())
"""Every port and slice, no device or tenant state."""


class QueueFigures(Protocol):
    """A subscriber's queue, as the collector reads it."""

    @property
    def size(self) -> int: ...


class SessionFigures(Protocol):
    """An open subscription, as the collector reads it."""

    @property
    def spec(self) -> SubscribeSpec: ...

    @property
    def queue(self) -> QueueFigures: ...


class TelemetryFigures(Protocol):
    """The telemetry service, as the collector reads it."""

    def sessions(self) -> Sequence[SessionFigures]: ...

    @property
    def coalesced(self) -> int: ...

    @property
    def reads(self) -> int: ...

    @property
    def missed(self) -> int: ...


class TelemetryCollector:
    """Open subscriptions by mode, their queues, coalesced updates and hardware reads."""

    def __init__(self, telemetry: TelemetryFigures) -> None:
        self._telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        telemetry = self._telemetry
        sessions = telemetry.sessions()
        modes = GaugeMetricFamily(
            f"{PREFIX}_subscriptions", "Open Subscribe sessions, by mode", labels=["mode"]
        )
        for mode in ListMode:
            count = sum(1 for session in sessions if session.spec.mode is mode)
            modes.add_metric([mode.name.lower()], count)
        yield modes
        depths = [session.queue.size for session in sessions]
        yield GaugeMetricFamily(
            f"{PREFIX}_subscription_queued_updates",
            "Updates waiting in the subscribers' queues, all sessions together",
            value=sum(depths),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_subscription_queued_updates_max",
            "Updates waiting in the fullest subscriber's queue",
            value=max(depths, default=0),
        )
        yield CounterMetricFamily(
            f"{PREFIX}_subscription_coalesced_updates",
            "Updates replaced by a newer value before a slow subscriber took them",
            value=telemetry.coalesced,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_telemetry_reads",
            "Batched hardware reads of the sampler",
            value=telemetry.reads,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_telemetry_missed_samples",
            "Sample intervals skipped because the sampler was late",
            value=telemetry.missed,
        )


class RunningFigures(Protocol):
    """The datastore's running configuration, as the collector reads it."""

    @property
    def version(self) -> int: ...


class DatastoreFigures(Protocol):
    """The datastore, as the collector reads it."""

    @property
    def running(self) -> RunningFigures: ...

    @property
    def pending(self) -> object | None: ...


class DeviceFigures(Protocol):
    """The device pool, as the collector reads it."""

    @property
    def drivers(self) -> Mapping[str, object]: ...

    @property
    def degraded(self) -> frozenset[str]: ...


class DatastoreCollector:
    """The running version, a pending commit-confirmed and the degraded devices."""

    def __init__(self, datastore: DatastoreFigures, devices: DeviceFigures) -> None:
        self._datastore = datastore
        self._devices = devices

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            f"{PREFIX}_config_version",
            "Version of the running configuration",
            value=self._datastore.running.version,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_commit_confirm_pending",
            "1 while a commit-confirmed awaits its confirmation",
            value=0 if self._datastore.pending is None else 1,
        )
        degraded = self._devices.degraded
        family = GaugeMetricFamily(
            f"{PREFIX}_device_degraded",
            "1 for a device whose hardware may differ from the running configuration",
            labels=["device"],
        )
        for device in sorted(set(self._devices.drivers) | degraded):
            family.add_metric([device], 1 if device in degraded else 0)
        yield family


Sampler = Callable[[Entry, Selection], Mapping[str, DeviceReading]]
"""Reads the drivers for a running tree (``StateReader.sample``)."""


class EntityCounterCollector:
    """Every port's and slice's counters, labelled by device, port or slice and tenant.

    Opt-in: one series per entity and counter. A device whose reads fail leaves its
    series out of that scrape.
    """

    def __init__(self, running: Callable[[], Entry], sample: Sampler) -> None:
        self._running = running
        self._sample = sample

    def collect(self) -> Iterator[Metric]:
        tree = self._running()
        readings = self._sample(tree, COUNTERS_SELECTION)
        port_tenant = _delegated_ports(tree)
        slice_tenant = {
            str(entry["name"]): str((entry.get("config") or {}).get("tenant", ""))
            for entry in entries(tree, SLICES, "slice")
        }
        ports = {
            name: CounterMetricFamily(
                f"{PREFIX}_port_{name}",
                f"Port counter {name.replace('_', '-')}",
                labels=["device", "port", "tenant"],
            )
            for name in PORT_COUNTER_FIELDS
        }
        slices = {
            name: CounterMetricFamily(
                f"{PREFIX}_slice_{name}",
                f"Slice counter {name.replace('_', '-')} on one device",
                labels=["device", "slice", "tenant"],
            )
            for name in SLICE_COUNTER_FIELDS
        }
        for device, reading in sorted(readings.items()):
            for port, port_counters in sorted(reading.counters.items()):
                labels = [device, port, port_tenant.get(port, "")]
                for name, family in ports.items():
                    value = getattr(port_counters, name)
                    if value is not None:  # a counter the hardware does not keep
                        family.add_metric(labels, value)
            for slice_, slice_counters in sorted(reading.slice_counters.items()):
                labels = [device, slice_, slice_tenant.get(slice_, "")]
                for name, family in slices.items():
                    family.add_metric(labels, getattr(slice_counters, name))
        yield from ports.values()
        yield from slices.values()


def _delegated_ports(tree: Entry) -> dict[str, str]:
    """Port name -> the tenant it is delegated to."""
    out: dict[str, str] = {}
    for tenant in entries(tree, TENANTS, "tenant"):
        for port in (tenant.get("config") or {}).get("ports") or ():
            out[str(port)] = str(tenant["name"])
    return out
