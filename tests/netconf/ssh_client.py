"""A netconf-client Manager logged in as one of the harness users."""

from __future__ import annotations

from netconf_client.connect import connect_ssh
from netconf_client.ncclient import Manager

from tests.northbound.harness import USERS

TIMEOUT = 20


def open_manager(port: int, user: str = "admin", *, timeout: float = TIMEOUT) -> Manager:
    """A NETCONF session to 127.0.0.1:``port`` as ``user`` (password from USERS)."""
    session = connect_ssh(
        host="127.0.0.1",
        port=port,
        username=user,
        password=USERS[user][0],
        initial_timeout=timeout,
        general_timeout=timeout,
    )
    return Manager(session, timeout=timeout)
