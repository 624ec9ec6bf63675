"""The ``/slices/slice`` subtree: config entry -> SliceConfig, and the slice's and its
members' state containers from what the drivers of the devices it spans report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent.drivers.config import SliceConfig, SliceMember
from agent.drivers.counters import SLICE_COUNTER_FIELDS, SLICE_COUNTER_LEAVES, SliceCounters
from agent.drivers.state import OperStatus, SliceState
from agent.mapping.model import SLICE_DEFAULTS, Entry, MappingError, counter64, entries, uint64
from agent.mapping.oper_status import PortOperStatus
from agent.mapping.registry import ListModel

_RATE_LEAVES = ("min-rate-bps", "max-rate-bps")


def slice_config(
    entry: Entry, model: ListModel, members: Iterable[SliceMember] = ()
) -> SliceConfig:
    """The SliceConfig of one ``slice`` list entry with the given ``members``, the model's
    defaults applied.

    A device sees only its own members, so the caller picks them (see ``slice_members``).
    """
    try:
        config: Entry = {**model.defaults, **entry["config"]}
        max_rate = config.get("max-rate-bps")
        return SliceConfig(
            config.get("name", entry["name"]),
            config["vlan-id"],
            min_rate_bps=int(config["min-rate-bps"]),
            max_rate_bps=None if max_rate is None else int(max_rate),
            priority=config["priority"],
            enabled=config["enabled"],
            members=tuple(members),
        )
    except KeyError as missing:
        raise MappingError(f"slice {entry.get('name')!r} has no {missing.args[0]}") from None


def slice_members(entry: Entry) -> tuple[SliceMember, ...]:
    """Every member of a ``slice`` entry, sorted by port name (the list's order carries
    no meaning, so reordering it changes nothing)."""
    members = []
    for member in entries(entry, "members", "member"):
        config: Entry = member.get("config") or {}
        port = config.get("port", member.get("port"))
        if port is None:
            raise MappingError(f"slice {entry.get('name')!r} has a member without a port")
        rate = config.get("min-rate-bps")
        members.append(SliceMember(port, None if rate is None else int(rate)))
    members.sort(key=lambda m: m.port)
    return tuple(members)


def slice_state(
    config: Entry,
    states: Iterable[SliceState],
    counters: Iterable[SliceCounters] | None,
) -> dict[str, Any]:
    """The ``state`` container of a slice.

    ``states`` and ``counters`` are the slice's records from every device it spans. The
    slice is UP when it is enabled and some device reports it UP (programmed with a
    member link up). Counters are the sums over the devices; pass None when a device
    could not be read, so that no partial sum (a counter going backwards) is reported.
    """
    out: dict[str, Any] = {**SLICE_DEFAULTS, **config}
    for leaf in _RATE_LEAVES:
        if leaf in out:
            out[leaf] = uint64(out[leaf])
    up = out["enabled"] is True and any(s.oper_status is OperStatus.UP for s in states)
    out["oper-status"] = (PortOperStatus.UP if up else PortOperStatus.DOWN).value
    if counters is not None:
        out["counters"] = slice_counters_state(counters)
    return out


def slice_counters_state(counters: Iterable[SliceCounters]) -> dict[str, str]:
    """The ``counters`` container of a slice: per-device counters summed."""
    totals = [0] * len(SLICE_COUNTER_FIELDS)
    for record in counters:
        for i, field in enumerate(SLICE_COUNTER_FIELDS):
            totals[i] += getattr(record, field)
    return {
        leaf: counter64(total) for leaf, total in zip(SLICE_COUNTER_LEAVES, totals, strict=True)
    }


def member_state(config: Entry, oper_status: PortOperStatus) -> dict[str, Any]:
    """The ``state`` container of a slice member: its config and its port's oper-status."""
    out: dict[str, Any] = dict(config)
    if "min-rate-bps" in out:
        out["min-rate-bps"] = uint64(out["min-rate-bps"])
    out["oper-status"] = oper_status.value
    return out
