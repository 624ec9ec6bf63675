"""The ``linux`` backend for the SmartNIC families: netdevs driven over netlink.

A device's address names its network namespace (``netns:NAME``, none for the agent's
own); each port names its netdev (``interface_name``). See docs/linux-backend.md.
"""

from __future__ import annotations

from agent.drivers.linux.backend import LinuxBackend
from agent.drivers.linux.provider import BACKEND, LinuxBackendProvider

__all__ = ["BACKEND", "LinuxBackend", "LinuxBackendProvider"]
