"""Demo traffic for simulated devices, so that counters move on a lab agent.

Each port of a device whose backend offers traffic (the mock does) gets a steady load of
10-40 % of its speed in both directions, and each slice on it a share of that; the mix
is fixed per port name so runs are repeatable. Real backends offer no such control and
are left alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import Driver
from agent.drivers.mock.controls import TrafficSource

AVERAGE_FRAME_BYTES = 800


def offer_demo_traffic(drivers: Mapping[str, Driver], intents: Mapping[str, DeviceIntent]) -> int:
    """Offers traffic on every simulated port and slice; returns how many ports got some."""
    ports = 0
    for name, driver in drivers.items():
        backend = getattr(driver, "backend", None)
        intent = intents.get(name)
        if not isinstance(backend, TrafficSource) or intent is None:
            continue
        for port in intent.ports.values():
            bps = int(port.speed_bps * demo_share(port.name))
            backend.set_traffic(port.name, bps=bps, pps=_pps(bps))
            ports += 1
        for slice_ in intent.slices.values():
            bps = slice_.min_rate_bps or int(1e9 * demo_share(slice_.name))
            backend.set_slice_traffic(slice_.name, bps=bps, pps=_pps(bps))
    return ports


def demo_share(name: str) -> float:
    """The fraction of its line rate offered to port or slice ``name``: fixed, in
    [0.10, 0.40)."""
    return 0.10 + (zlib.crc32(name.encode()) % 300) / 1000


def _pps(bps: int) -> int:
    return max(1, bps // (8 * AVERAGE_FRAME_BYTES))
