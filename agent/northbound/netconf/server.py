"""The NETCONF server: an asyncssh listener on exactly the address configured.

:class:`NetconfServer` is built by agent.app with the RpcHandler (the Dispatcher of
every operation table), the capabilities those operations add to the hello, the
schema's modules, the user database, the login throttle shared with gNMI and the host
key. ``stop`` ends every session (locks released) and closes the listener.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from agent.metrics.sink import LoginMetrics, NoMetrics
from agent.northbound.netconf.contracts import RpcHandler
from agent.northbound.netconf.errors import render
from agent.northbound.netconf.hello import server_capabilities
from agent.northbound.netconf.registry import SessionRegistry, TerminationReason
from agent.northbound.netconf.replies import ErrorRenderer
from agent.northbound.netconf.session import SessionOptions
from agent.northbound.netconf.sshkeys import HostKey
from agent.northbound.netconf.transport import SshConnection, TransportHost
from agent.security.audit import AuditLog
from agent.security.throttle import LoginThrottle
from agent.security.users import User, UserStore

log = logging.getLogger(__name__)


class NetconfStartError(RuntimeError):
    """The server cannot listen; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class NetconfOptions:
    """Where the server listens and its limits (from the [netconf] settings)."""

    host: str = "127.0.0.1"
    port: int = 830
    max_message_bytes: int = 64 * 1024 * 1024
    idle_timeout_s: float = 3600.0
    login_timeout_s: float = 30.0  # the SSH login, then the client's hello
    max_sessions: int = 64

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class NetconfServer:
    """Serves NETCONF over SSH until stopped."""

    def __init__(
        self,
        handler: RpcHandler,
        *,
        users: UserStore,
        registry: SessionRegistry,
        host_key: HostKey,
        state_dir: Path,
        options: NetconfOptions | None = None,
        capabilities: Sequence[str] = (),
        modules: Iterable[Any] = (),
        throttle: LoginThrottle | None = None,
        audit: AuditLog | None = None,
        release_locks: Callable[[str], None] | None = None,
        render_error: ErrorRenderer = render,
        metrics: LoginMetrics | None = None,
    ) -> None:
        """``capabilities``: those of the operations served (base:1.0 and base:1.1 are
        always listed first); ``modules``: the schema's modules (name, revision,
        namespace), listed as module capabilities; ``release_locks``: called with
        ``netconf:ID`` when a session ends; ``metrics``: where refused logins are
        reported."""
        self.options = options or NetconfOptions()
        self.registry = registry
        self.host_key = host_key
        self.capabilities = server_capabilities(capabilities, modules)
        self._handler = handler
        self._acceptor: Any = None
        self._port = 0
        self._host = TransportHost(
            users=users,
            registry=registry,
            handler=handler,
            options=SessionOptions(
                capabilities=self.capabilities,
                max_message_bytes=self.options.max_message_bytes,
                idle_timeout_s=self.options.idle_timeout_s,
                hello_timeout_s=self.options.login_timeout_s,
                render_error=render_error,
            ),
            state_dir=state_dir,
            max_connections=self.options.max_sessions,
            login_timeout_s=self.options.login_timeout_s,
            throttle=throttle,
            audit=audit,
            release_locks=release_locks,
            revoked=lambda user: _revoked(users, user),
            metrics=metrics or NoMetrics(),
        )

    @property
    def operations(self) -> frozenset[str]:
        """The qualified names of the operations served (when the handler tells)."""
        return frozenset(getattr(self._handler, "operations", ()))

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        return self._port

    @property
    def address(self) -> str:
        """``host:port`` it listens on (after start)."""
        host = self.options.host
        return f"[{host}]:{self._port}" if ":" in host else f"{host}:{self._port}"

    async def start(self) -> None:
        """Listens; raises NetconfStartError when the address cannot be bound."""
        options = self.options
        try:
            self._acceptor = await asyncssh.create_server(
                lambda: SshConnection(self._host),
                options.host,
                options.port,
                server_host_keys=[self.host_key.key],
                encoding=None,
                login_timeout=options.login_timeout_s,
                allow_pty=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                config=None,
            )
        except OSError as exc:
            raise NetconfStartError(_bind_problem(options, exc)) from None
        self._port = int(self._acceptor.get_port())
        log.info("NETCONF over SSH on %s", self.address)

    async def stop(self) -> None:
        """Stops listening and ends every session and connection."""
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is None:
            return
        acceptor.close()
        await self.registry.close_all(TerminationReason.OTHER)
        for connection in list(self._host.connections):
            connection.close()
        await acceptor.wait_closed()


def _revoked(users: UserStore, user: User) -> str | None:
    change = users.revoked(user)
    return None if change is None else f"user {user.name!r}: {change.value}"


def _bind_problem(options: NetconfOptions, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    text = f"NETCONF cannot listen on {options.address}: {reason}"
    if exc.errno in (errno.EACCES, errno.EPERM) and 0 < options.port < 1024:
        text += (
            f" (port {options.port} needs root or CAP_NET_BIND_SERVICE: use "
            "--netconf-listen with a port of 1024 or above, e.g. 127.0.0.1:8830, "
            "or --no-netconf)"
        )
    elif exc.errno == errno.EADDRINUSE:
        text += " (another program listens there: pick another --netconf-listen port)"
    return text
