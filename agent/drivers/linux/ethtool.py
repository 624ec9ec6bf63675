"""ethtool through the SIOCETHTOOL ioctl: link modes and speed, FEC.

Link settings use ETHTOOL_GLINKSETTINGS/SLINKSETTINGS (the kernel first answers how many
mask words it uses), FEC uses ETHTOOL_GFECPARAM/SFECPARAM. A netdev whose driver does not
implement an operation answers EOPNOTSUPP; that is reported as None, not as an error.
The link-mode bit numbers are those of ``enum ethtool_link_mode_bit_indices``.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agent.drivers.units import GBPS

SIOCETHTOOL = 0x8946
ETHTOOL_GLINKSETTINGS = 0x4C
ETHTOOL_SLINKSETTINGS = 0x4D
ETHTOOL_GFECPARAM = 0x50
ETHTOOL_SFECPARAM = 0x51

_SETTINGS_HEAD = struct.Struct("=IIBBBBBBBbBBBB7I")  # struct ethtool_link_settings
_FECPARAM = struct.Struct("=IIII")  # cmd, active_fec, fec, reserved
_IFREQ = struct.Struct("16sP")
_IFREQ_SIZE = 40
_SPEED_UNKNOWN = 0xFFFFFFFF
_AUTONEG_DISABLE = 0
_DUPLEX_FULL = 1

_UNSUPPORTED = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL})

_MODE_SPEEDS_GBPS: Mapping[int, tuple[int, ...]] = MappingProxyType(
    {
        1: (5, 17, 41, 68),
        10: (12, 18, 19, 42, 43, 44, 45, 46),
        25: (31, 32, 33),
        40: (23, 24, 25, 26),
        50: (34, 35, 40, 52, 53, 54, 55, 56),
        100: (36, 37, 38, 39, 57, 58, 59, 60, 61, 75, 76, 77, 78, 79),
        200: (62, 63, 64, 65, 66, 80, 81, 82, 83, 84),
        400: (69, 70, 71, 72, 73, 85, 86, 87, 88, 89),
    }
)
_SPEED_OF_BIT: Mapping[int, int] = MappingProxyType(
    {bit: gbps * GBPS for gbps, bits in _MODE_SPEEDS_GBPS.items() for bit in bits}
)

# ETHTOOL_FEC_*_BIT: NONE (no FEC configuration), AUTO, OFF, RS, BASER, LLRS
FEC_NONE, FEC_AUTO, FEC_OFF, FEC_RS, FEC_BASER, FEC_LLRS = (1 << bit for bit in range(6))
_FEC_FLAGS: Mapping[str, int] = MappingProxyType(
    {"none": FEC_OFF, "fc": FEC_BASER, "rs528": FEC_RS, "rs544": FEC_RS, "auto": FEC_AUTO}
)


class EthtoolError(OSError):
    """The driver refused an ethtool request it implements."""


@dataclass(frozen=True, slots=True)
class LinkModes:
    """What ETHTOOL_GLINKSETTINGS reports: the running speed and the settable ones."""

    speed_bps: int | None  # None while the link is down or the driver does not know
    autoneg: bool
    supported_bps: tuple[int, ...]  # speeds of the supported link modes, ascending


@dataclass(frozen=True, slots=True)
class FecModes:
    """What ETHTOOL_GFECPARAM reports: the configured modes and the active one."""

    configured: int
    active: int

    @property
    def active_name(self) -> str:
        """The active FEC in the model's terms (RS is reported as rs528)."""
        for name, flag in (("fc", FEC_BASER), ("rs528", FEC_RS), ("none", FEC_OFF)):
            if self.active & flag:
                return name
        return "none"


def fec_flag(mode: str) -> int:
    """The ETHTOOL_FEC_* flag for one of the model's FEC modes."""
    return _FEC_FLAGS[mode]


def _ioctl(sock: socket.socket, ifname: str, buffer: ctypes.Array[ctypes.c_char]) -> int:
    request = _IFREQ.pack(ifname.encode(), ctypes.addressof(buffer)).ljust(_IFREQ_SIZE, b"\0")
    try:
        fcntl.ioctl(sock.fileno(), SIOCETHTOOL, request)
    except OSError as error:
        return error.errno or errno.EIO
    return 0


def _settings(sock: socket.socket, ifname: str) -> tuple[tuple[int, ...], list[int], int] | None:
    """(head fields, mask words, nwords), or None when the driver has no link settings."""
    head = _SETTINGS_HEAD.pack(ETHTOOL_GLINKSETTINGS, *([0] * 20))
    buffer = ctypes.create_string_buffer(head, _SETTINGS_HEAD.size + 3 * 4 * 127)
    failure = _ioctl(sock, ifname, buffer)
    if failure:
        _unsupported(failure, ifname, "get link settings")
        return None
    fields = _SETTINGS_HEAD.unpack_from(buffer.raw)
    nwords = -fields[9]
    if nwords <= 0:
        return None
    values = list(fields)
    values[9] = nwords
    buffer = ctypes.create_string_buffer(
        _SETTINGS_HEAD.pack(*values), _SETTINGS_HEAD.size + 3 * 4 * nwords
    )
    failure = _ioctl(sock, ifname, buffer)
    if failure:
        _unsupported(failure, ifname, "get link settings")
        return None
    fields = _SETTINGS_HEAD.unpack_from(buffer.raw)
    words = list(struct.unpack_from(f"={3 * nwords}I", buffer.raw, _SETTINGS_HEAD.size))
    return fields, words, nwords


def _unsupported(failure: int, ifname: str, what: str) -> None:
    """Returns (meaning: not implemented) for EOPNOTSUPP and the like; raises otherwise."""
    if failure not in _UNSUPPORTED:
        raise EthtoolError(failure, f"{ifname}: ethtool {what}: {errno.errorcode.get(failure)}")


def link_modes(sock: socket.socket, ifname: str) -> LinkModes | None:
    """The netdev's link settings, or None when its driver reports none."""
    settings = _settings(sock, ifname)
    if settings is None:
        return None
    fields, words, nwords = settings
    supported = words[:nwords]
    speeds = {
        speed
        for bit, speed in _SPEED_OF_BIT.items()
        if bit // 32 < nwords and supported[bit // 32] >> (bit % 32) & 1
    }
    speed = fields[1]
    return LinkModes(
        speed_bps=None if speed in (0, _SPEED_UNKNOWN) else speed * 1_000_000,
        autoneg=bool(fields[5]),
        supported_bps=tuple(sorted(speeds)),
    )


def set_speed(sock: socket.socket, ifname: str, speed_bps: int) -> None:
    """Forces ``speed_bps`` full duplex with autonegotiation off."""
    settings = _settings(sock, ifname)
    if settings is None:
        raise EthtoolError(errno.EOPNOTSUPP, f"{ifname}: the driver has no link settings")
    fields, words, nwords = settings
    values = list(fields)
    values[0] = ETHTOOL_SLINKSETTINGS
    values[1] = speed_bps // 1_000_000
    values[2] = _DUPLEX_FULL
    values[5] = _AUTONEG_DISABLE
    values[9] = nwords
    payload = _SETTINGS_HEAD.pack(*values) + struct.pack(f"={3 * nwords}I", *words)
    buffer = ctypes.create_string_buffer(payload, len(payload))
    failure = _ioctl(sock, ifname, buffer)
    if failure:
        raise EthtoolError(failure, f"{ifname}: ethtool set speed: {errno.errorcode.get(failure)}")


def fec_modes(sock: socket.socket, ifname: str) -> FecModes | None:
    """The netdev's FEC settings, or None when its driver has no FEC control."""
    buffer = ctypes.create_string_buffer(_FECPARAM.pack(ETHTOOL_GFECPARAM, 0, 0, 0), _FECPARAM.size)
    failure = _ioctl(sock, ifname, buffer)
    if failure:
        _unsupported(failure, ifname, "get FEC")
        return None
    _, active, configured, _ = _FECPARAM.unpack(buffer.raw)
    if configured & FEC_NONE and not configured & ~FEC_NONE:
        return None
    return FecModes(configured=configured, active=active)


def set_fec(sock: socket.socket, ifname: str, mode: str) -> None:
    """Configures FEC ``mode`` (one of the model's values)."""
    payload = _FECPARAM.pack(ETHTOOL_SFECPARAM, 0, fec_flag(mode), 0)
    buffer = ctypes.create_string_buffer(payload, len(payload))
    failure = _ioctl(sock, ifname, buffer)
    if failure:
        raise EthtoolError(failure, f"{ifname}: ethtool set FEC: {errno.errorcode.get(failure)}")
