"""The address of a linux-backed device: ``netns:NAME`` names its network namespace."""

from __future__ import annotations

import re

PREFIX = "netns:"
_NETNS_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class AddressError(ValueError):
    """A device address the linux backend cannot use."""


def netns_of(address: str | None) -> str | None:
    """The namespace an address names: None for the agent's own (no address or empty).

    Raises AddressError for anything but ``netns:NAME`` (NAME as ``ip netns`` accepts it).
    """
    if address is None or address == "":
        return None
    if not address.startswith(PREFIX):
        raise AddressError(
            f"address {address!r} is not a network namespace: the linux backend takes "
            f"'{PREFIX}NAME' (a namespace under /run/netns) or no address for the agent's own"
        )
    name = address[len(PREFIX) :]
    if name in (".", "..") or not _NETNS_NAME.match(name):
        raise AddressError(f"address {address!r}: {name!r} is not a network namespace name")
    return name
