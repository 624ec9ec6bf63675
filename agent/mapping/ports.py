"""The ``/ports/port`` subtree: config entry -> PortConfig, and the port's state container
from what its driver reports."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from agent.drivers.config import PortConfig
from agent.drivers.counters import PORT_COUNTER_FIELDS, PORT_COUNTER_LEAVES, PortCounters
from agent.drivers.state import PortState
from agent.mapping.model import (
    PORT_DEFAULTS,
    Entry,
    MappingError,
    counter64,
    speed_bps,
    speed_name,
    uint64,
)
from agent.mapping.oper_status import PortOperStatus, port_oper_status
from agent.mapping.registry import ListModel

_COUNTER_LEAVES = PORT_COUNTER_LEAVES
_COUNTER_VALUES = attrgetter(*PORT_COUNTER_FIELDS)


def port_config(entry: Entry, model: ListModel) -> PortConfig:
    """The PortConfig of one ``port`` list entry, with the model's defaults applied."""
    try:
        config: Entry = {**model.defaults, **entry["config"]}
        return PortConfig(
            config.get("name", entry["name"]),
            config["device"],
            config["index"],
            channel=config["channel"],
            enabled=config["enabled"],
            speed_bps=speed_bps(config["speed"]),
            fec=config["fec"],
            mtu=config["mtu"],
            breakout=config["breakout"],
            loopback=config["loopback"],
            num_vfs=config["num-vfs"],
            lag_group=config.get("lag-group"),
            interface_name=config.get("interface-name"),
        )
    except KeyError as missing:
        raise MappingError(f"port {entry.get('name')!r} has no {missing.args[0]}") from None


def port_state(
    config: Entry,
    state: PortState | None,
    counters: PortCounters | None,
    *,
    unreported: PortOperStatus = PortOperStatus.NOT_PRESENT,
) -> dict[str, Any]:
    """The ``state`` container of a port.

    ``config`` is the port's ``config`` container. The configuration leaves are the
    values the hardware runs when the driver reports the port (``fec`` shows the mode
    ``auto`` resolved to), else the configured ones with defaults. ``unreported`` is the
    oper-status of a port the driver did not report (see ``oper_status``).
    """
    out: dict[str, Any] = {**PORT_DEFAULTS, **config}
    if state is None:
        out["oper-status"] = unreported.value
    else:
        out["index"] = state.index
        out["channel"] = state.channel
        out["enabled"] = state.admin_enabled
        out["speed"] = speed_name(state.speed_bps) or out["speed"]
        out["fec"] = state.fec
        out["mtu"] = state.mtu
        out["breakout"] = state.breakout
        out["loopback"] = state.loopback
        out["num-vfs"] = state.num_vfs
        if state.lag_group is None:
            out.pop("lag-group", None)
        else:
            out["lag-group"] = state.lag_group
        out["oper-status"] = port_oper_status(state).value
        out["last-change"] = uint64(state.last_change_ns)
    if counters is not None:
        out["counters"] = port_counters_state(counters)
    return out


def port_counters_state(counters: PortCounters) -> dict[str, str]:
    """The ``counters`` container of a port: the counters the hardware keeps, as counter64
    strings (a counter it does not keep is left out)."""
    values: tuple[int | None, ...] = _COUNTER_VALUES(counters)
    return {
        leaf: counter64(value)
        for leaf, value in zip(_COUNTER_LEAVES, values, strict=True)
        if value is not None
    }
