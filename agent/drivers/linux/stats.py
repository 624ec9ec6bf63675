"""IFLA_STATS64 mapped onto the port and slice counters.

struct rtnl_link_stats64 keeps no unicast or broadcast receive counts, so those two
counters are absent from a linux port (None), never a made-up zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.drivers.counters import PORT_COUNTER_LEAVES, PortCounters, SliceCounters
from agent.drivers.linux.links import Link

NOT_KEPT: tuple[str, ...] = ("in-unicast-pkts", "in-broadcast-pkts")
KEPT_PORT_COUNTERS: tuple[str, ...] = tuple(c for c in PORT_COUNTER_LEAVES if c not in NOT_KEPT)


def port_counters(stats: Mapping[str, int], timestamp_ns: int) -> PortCounters:
    """A port's counters from its netdev's IFLA_STATS64."""
    return PortCounters(
        in_octets=stats["rx_bytes"],
        in_pkts=stats["rx_packets"],
        in_unicast_pkts=None,
        in_multicast_pkts=stats["multicast"],
        in_broadcast_pkts=None,
        in_errors=stats["rx_errors"],
        in_discards=stats["rx_dropped"],
        in_fcs_errors=stats["rx_crc_errors"],
        out_octets=stats["tx_bytes"],
        out_pkts=stats["tx_packets"],
        out_errors=stats["tx_errors"],
        out_discards=stats["tx_dropped"],
        timestamp_ns=timestamp_ns,
    )


def slice_counters(children: Iterable[tuple[Link, int | None]], timestamp_ns: int) -> SliceCounters:
    """A slice's counters: the sum over its child netdevs (and their qdisc drops)."""
    in_octets = out_octets = in_pkts = out_pkts = drops = 0
    for link, qdisc_drops in children:
        stats = link.stats
        if not stats:
            continue
        in_octets += stats["rx_bytes"]
        out_octets += stats["tx_bytes"]
        in_pkts += stats["rx_packets"]
        out_pkts += stats["tx_packets"]
        drops += stats["tx_dropped"] + (qdisc_drops or 0)
    return SliceCounters(
        in_octets=in_octets,
        out_octets=out_octets,
        in_pkts=in_pkts,
        out_pkts=out_pkts,
        drops=drops,
        timestamp_ns=timestamp_ns,
    )
