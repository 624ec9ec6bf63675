"""Port and slice counters (snake_case fields; ``yang_items`` gives the YANG leaf names)."""

from __future__ import annotations

from dataclasses import dataclass, fields

# Readings are values that nothing changes once made; they are not frozen dataclasses
# because a frozen __init__ sets each field through object.__setattr__ (1.2 us for a
# port's thirteen against 0.2 us), about 1 ms of every 1,024-port sample.


@dataclass(slots=True)
class PortCounters:
    """The twelve interface counters of one port, read at ``timestamp_ns``; None for a
    counter the hardware does not keep (it is absent from the state, never a made-up 0)."""

    in_octets: int | None = 0
    in_pkts: int | None = 0
    in_unicast_pkts: int | None = 0
    in_multicast_pkts: int | None = 0
    in_broadcast_pkts: int | None = 0
    in_errors: int | None = 0
    in_discards: int | None = 0
    in_fcs_errors: int | None = 0
    out_octets: int | None = 0
    out_pkts: int | None = 0
    out_errors: int | None = 0
    out_discards: int | None = 0
    timestamp_ns: int = 0

    def yang_items(self) -> tuple[tuple[str, int], ...]:
        """(YANG leaf name, value) pairs, e.g. ``("in-octets", 1250)``; a counter the
        hardware does not keep (None) is left out."""
        return _yang_items(self, PORT_COUNTER_FIELDS)


@dataclass(slots=True)
class SliceCounters:
    """A slice's counters on one device; ``drops`` counts packets above its peak rate."""

    in_octets: int = 0
    out_octets: int = 0
    in_pkts: int = 0
    out_pkts: int = 0
    drops: int = 0
    timestamp_ns: int = 0

    def yang_items(self) -> tuple[tuple[str, int], ...]:
        """(YANG leaf name, value) pairs, e.g. ``("drops", 12)``."""
        return _yang_items(self, SLICE_COUNTER_FIELDS)


PORT_COUNTER_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(PortCounters) if f.name != "timestamp_ns"
)
SLICE_COUNTER_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(SliceCounters) if f.name != "timestamp_ns"
)
PORT_COUNTER_LEAVES: tuple[str, ...] = tuple(n.replace("_", "-") for n in PORT_COUNTER_FIELDS)
SLICE_COUNTER_LEAVES: tuple[str, ...] = tuple(n.replace("_", "-") for n in SLICE_COUNTER_FIELDS)


def _yang_items(counters: object, names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    values = ((name, getattr(counters, name)) for name in names)
    return tuple(
        (name.replace("_", "-"), int(value)) for name, value in values if value is not None
    )
