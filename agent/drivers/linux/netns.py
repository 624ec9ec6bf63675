"""Sockets opened inside a named network namespace, without forking.

``setns(2)`` with CLONE_NEWNET moves only the calling thread, and a socket stays in the
namespace it was created in; so a short-lived thread enters the namespace, creates the
socket and ends, and the agent's own threads never change namespace.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from pathlib import Path

NETNS_DIR = Path("/run/netns")
_CLONE_NEWNET = 0x40000000


def netns_path(name: str) -> Path:
    """Where ``ip netns`` keeps the namespace ``name``."""
    return NETNS_DIR / name


def open_socket(netns: str | None, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket in ``netns`` (None: the agent's own). Raises OSError when the namespace
    does not exist or cannot be entered (entering one needs CAP_SYS_ADMIN)."""
    if netns is None:
        return socket.socket(family, kind, proto)
    result: list[socket.socket | BaseException] = []

    def enter_and_create() -> None:
        try:
            fd = os.open(netns_path(netns), os.O_RDONLY | os.O_CLOEXEC)
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(
                        errno, f"cannot enter network namespace {netns}: {os.strerror(errno)}"
                    )
            finally:
                os.close(fd)
            result.append(socket.socket(family, kind, proto))
        except BaseException as error:
            result.append(error)

    thread = threading.Thread(target=enter_and_create, name=f"netns-{netns}", daemon=True)
    thread.start()
    thread.join()
    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
