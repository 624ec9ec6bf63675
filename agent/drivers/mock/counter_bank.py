"""Counters of every port and slice, driven by offered traffic and link state."""

from __future__ import annotations

from collections.abc import Callable

from agent.drivers.config import SliceConfig
from agent.drivers.counters import PortCounters, SliceCounters
from agent.drivers.mock.meter import Meter
from agent.drivers.mock.traffic import PortTraffic, SliceTraffic

# Octet counters grow at bps / 8; everything else at its per-second rate (field order).
PORT_METER_DIVISORS = (8, 1, 1, 1, 1, 1, 1, 1, 8, 1, 1, 1)
SLICE_METER_DIVISORS = (8, 8, 1, 1, 1)
_IDLE_PORT = (0,) * len(PORT_METER_DIVISORS)
_IDLE_SLICE = (0,) * len(SLICE_METER_DIVISORS)
# Meters hold their values in field order: the records are built from them positionally.
_PORT_COUNTERS: Callable[..., PortCounters] = PortCounters
_SLICE_COUNTERS: Callable[..., SliceCounters] = SliceCounters


class CounterBank:
    """One meter per port and per slice; offered traffic is kept by name.

    Traffic outlives the entity it is offered to (a re-created port sees it again);
    counters do not (a re-created port starts from zero).
    """

    def __init__(self) -> None:
        self._port_traffic: dict[str, PortTraffic] = {}
        self._slice_traffic: dict[str, SliceTraffic] = {}
        self._ports: dict[str, Meter] = {}
        self._slices: dict[str, Meter] = {}

    def offer_port(self, name: str, traffic: PortTraffic) -> None:
        self._port_traffic[name] = traffic

    def offer_slice(self, name: str, traffic: SliceTraffic) -> None:
        self._slice_traffic[name] = traffic

    def clear_traffic(self) -> None:
        self._port_traffic.clear()
        self._slice_traffic.clear()

    def add_port(self, name: str, now_ns: int) -> None:
        self._ports.setdefault(name, Meter(PORT_METER_DIVISORS, now_ns))

    def remove_port(self, name: str) -> None:
        self._ports.pop(name, None)

    def add_slice(self, name: str, now_ns: int) -> None:
        self._slices.setdefault(name, Meter(SLICE_METER_DIVISORS, now_ns))

    def remove_slice(self, name: str) -> None:
        self._slices.pop(name, None)

    def update_port(self, name: str, *, up: bool, speed_bps: int, now_ns: int) -> None:
        """Sets the port's counter rates: its offered traffic at line rate while up."""
        rates = _IDLE_PORT
        traffic = self._port_traffic.get(name)
        if traffic is not None and up:
            t = traffic.at_line_rate(speed_bps)
            rates = (
                t.in_bps,
                t.in_pps,
                t.in_pps - t.in_multicast_pps - t.in_broadcast_pps,
                t.in_multicast_pps,
                t.in_broadcast_pps,
                t.in_error_pps,
                t.in_discard_pps,
                t.in_fcs_error_pps,
                t.out_bps,
                t.out_pps,
                t.out_error_pps,
                t.out_discard_pps,
            )
        self._ports[name].set_rates(now_ns, rates)

    def update_slice(self, config: SliceConfig, *, active: bool, now_ns: int) -> None:
        """Sets the slice's rates: offered traffic, policed at its max-rate, while active."""
        rates = _IDLE_SLICE
        traffic = self._slice_traffic.get(config.name)
        if traffic is not None and active:
            passed_bps = traffic.bps
            if config.max_rate_bps is not None:
                passed_bps = min(passed_bps, config.max_rate_bps)
            passed_pps = traffic.pps * passed_bps // traffic.bps if traffic.bps else traffic.pps
            rates = (traffic.bps, passed_bps, traffic.pps, passed_pps, traffic.pps - passed_pps)
        self._slices[config.name].set_rates(now_ns, rates)

    def port(self, name: str, now_ns: int, timestamp_ns: int) -> PortCounters:
        return _PORT_COUNTERS(*self._ports[name].values(now_ns), timestamp_ns=timestamp_ns)

    def slice(self, name: str, now_ns: int, timestamp_ns: int) -> SliceCounters:
        return _SLICE_COUNTERS(*self._slices[name].values(now_ns), timestamp_ns=timestamp_ns)
