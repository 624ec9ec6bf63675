"""NETCONF over SSH (RFC 6242): one asyncssh connection, its login and its channel.

- Logins: passwords are checked against the user database with the login throttle
  shared with gNMI (:func:`agent.security.password_login.password_login`, scrypt off the
  event loop, the peer is the client's address); a refusal is audit-logged like gNMI's,
  and a throttled client also gets an SSH banner saying when to retry. Public keys in
  ``STATE_DIR/ssh/authorized_keys/USER`` log in as USER (who must exist). At most
  ``MAX_AUTH_ATTEMPTS`` passwords per connection.
- After the login the session is admitted to the registry (the per-user and total
  limits; over a limit the connection is closed with SSH disconnect reason "too many
  connections" and a message saying which limit).
- One session channel per connection, for the subsystem "netconf" only: shells, exec,
  other subsystems, forwarding of ports, agents and X11 are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncssh

from agent.metrics.sink import LoginMetrics, NoMetrics
from agent.northbound.netconf.contracts import RpcHandler
from agent.northbound.netconf.registry import (
    SessionInfo,
    SessionLimitError,
    SessionRegistry,
    TerminationReason,
)
from agent.northbound.netconf.session import NetconfSession, Revoked, SessionOptions
from agent.northbound.netconf.sshkeys import authorized_keys
from agent.security.audit import AuditLog, Outcome
from agent.security.errors import AuthenticationError, LoginThrottledError, UserDatabaseError
from agent.security.password_login import password_login
from agent.security.throttle import LoginThrottle
from agent.security.users import User, UserStore

log = logging.getLogger(__name__)

SUBSYSTEM: Final = "netconf"
MAX_AUTH_ATTEMPTS: Final = 6
LOGIN_AUDIT_NAME: Final = "netconf:login"
"""The ``rpc`` of audit records of refused NETCONF logins."""


@dataclass(eq=False)
class TransportHost:
    """What every connection of one server shares."""

    users: UserStore
    registry: SessionRegistry
    handler: RpcHandler
    options: SessionOptions
    state_dir: Path
    max_connections: int
    login_timeout_s: float
    throttle: LoginThrottle | None = None
    audit: AuditLog | None = None
    release_locks: Callable[[str], None] | None = None
    revoked: Revoked | None = None
    metrics: LoginMetrics = field(default_factory=NoMetrics)  # refused logins
    connections: set[SshConnection] = field(default_factory=set)


class SshConnection(asyncssh.SSHServer):
    """One client connection: its login, then its NETCONF session."""

    def __init__(self, host: TransportHost) -> None:
        self._host = host
        self._conn: Any = None
        self._address = ("", 0)
        self._username = ""
        self._user: User | None = None
        self._failures = 0
        self.info: SessionInfo | None = None
        self.session: NetconfSession | None = None
        self._channel_opened = False
        self._no_session_timer: asyncio.TimerHandle | None = None

    @property
    def peer(self) -> str:
        host, port = self._address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    # asyncssh callbacks

    def connection_made(self, conn: Any) -> None:
        self._conn = conn
        peer = conn.get_extra_info("peername") or ("", 0)
        self._address = (str(peer[0]).partition("%")[0], int(peer[1]))
        self._host.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._host.connections.discard(self)
        if self._no_session_timer is not None:
            self._no_session_timer.cancel()
        if self.session is not None:
            self.session.connection_lost()
        elif self.info is not None:
            self._host.registry.remove(self.info, TerminationReason.DROPPED)

    async def begin_auth(self, username: str) -> bool:
        self._username = username
        if len(self._host.connections) > self._host.max_connections:
            self._refuse(
                f"the agent serves at most {self._host.max_connections} NETCONF connections "
                "at once; try again later"
            )
            return True
        try:
            known = self._host.users.get(username) is not None
        except UserDatabaseError:
            known = False
        if known:
            keys = await asyncio.to_thread(authorized_keys, self._host.state_dir, username)
            if keys is not None:
                self._conn.set_authorized_keys(keys)
        return True

    def password_auth_supported(self) -> bool:
        return self._failures < MAX_AUTH_ATTEMPTS

    def public_key_auth_supported(self) -> bool:
        # Offered to every user name, so the methods offered do not tell which users
        # have keys; a user without keys has none that validate.
        return True

    def kbdint_auth_supported(self) -> bool:
        return False

    async def validate_password(self, username: str, password: str) -> bool:
        host = self._host
        try:
            self._user = await password_login(
                host.users, host.throttle, self._address[0], username, password
            )
            return True
        except LoginThrottledError as exc:
            self._failures += 1
            host.metrics.login_failed("netconf", exc.reason.value)
            self._audit(username, exc.code.name, f"{exc.reason.value}: {exc.message}")
            with contextlib.suppress(OSError):
                self._conn.send_auth_banner(f"edge-agent: {exc.message}\n")
        except AuthenticationError as exc:
            self._failures += 1
            host.metrics.login_failed("netconf", exc.reason.value)
            self._audit(username, exc.code.name, f"{exc.reason.value}: {exc.message}")
        except UserDatabaseError as exc:
            self._failures += 1
            log.error("NETCONF login of %r: the user database is unavailable: %s", username, exc)
            self._audit(username, "INTERNAL", str(exc), Outcome.FAILED)
        return False

    def auth_completed(self) -> None:
        host = self._host
        user = self._user
        if user is None:  # a public key login
            try:
                user = host.users.get(self._username)
            except UserDatabaseError:
                user = None
            if user is None:
                self._refuse(f"user {self._username!r} does not exist")
                return
        try:
            self.info = host.registry.admit(user, *self._address)
        except SessionLimitError as exc:
            log.warning("NETCONF login of %r from %s refused: %s", user.name, self.peer, exc)
            self._audit(user.name, "RESOURCE_EXHAUSTED", str(exc), user=user)
            self._refuse(str(exc))
            return
        self.info.terminate = self._terminate_unopened
        loop = asyncio.get_running_loop()
        self._no_session_timer = loop.call_later(host.login_timeout_s, self._no_session)

    def session_requested(self) -> Any:
        if self.info is None or self._channel_opened:
            return False  # one NETCONF session per connection
        self._channel_opened = True
        return NetconfChannel(self)

    # sessions

    def open_session(self, channel: NetconfChannel) -> NetconfSession:
        """Starts the NETCONF session on ``channel`` (the subsystem was requested)."""
        assert self.info is not None
        host = self._host
        if self._no_session_timer is not None:
            self._no_session_timer.cancel()
            self._no_session_timer = None
        session = NetconfSession(
            self.info,
            host.registry,
            host.handler,
            channel,
            host.options,
            release_locks=host.release_locks,
            revoked=host.revoked,
        )
        self.session = session
        session.start()
        return session

    def _no_session(self) -> None:
        if self.session is None:
            log.info("NETCONF connection from %s opened no netconf subsystem: closed", self.peer)
            self.close()

    async def _terminate_unopened(self, reason: TerminationReason, killed_by: int | None) -> None:
        """Ends a connection whose session has not started (kill-session, agent stop)."""
        if self.session is not None:
            await self.session.terminate(reason, killed_by)
            return
        if self.info is not None:
            self._host.registry.remove(self.info, reason, killed_by)
        self.close()

    def _refuse(self, message: str) -> None:
        self._conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, message)

    def _audit(
        self,
        username: str,
        code: str,
        message: str,
        outcome: Outcome = Outcome.DENIED,
        *,
        user: User | None = None,
    ) -> None:
        if self._host.audit is not None:
            self._host.audit.record(
                LOGIN_AUDIT_NAME,
                outcome,
                user=user or username,
                peer=self.peer,
                code=code,
                message=message,
            )


class NetconfChannel(asyncssh.SSHServerSession[bytes]):
    """The SSH channel of one NETCONF session: it accepts the netconf subsystem only and
    is the session's byte channel."""

    def __init__(self, connection: SshConnection) -> None:
        self._connection = connection
        self._chan: Any = None
        self._session: NetconfSession | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    # asyncssh callbacks

    def connection_made(self, chan: Any) -> None:
        self._chan = chan

    def pty_requested(self, *_args: Any) -> bool:
        return False

    def shell_requested(self) -> bool:
        return False

    def exec_requested(self, command: str) -> bool:
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem != SUBSYSTEM:
            log.info(
                "NETCONF connection from %s asked for subsystem %r: refused",
                self._connection.peer,
                subsystem,
            )
        return subsystem == SUBSYSTEM and self._session is None

    def session_started(self) -> None:
        if self._chan.get_subsystem() != SUBSYSTEM:
            self._chan.close()
            return
        self._session = self._connection.open_session(self)

    def data_received(self, data: bytes, datatype: Any) -> None:
        session = self._session
        if session is None or datatype is not None:
            return
        try:
            session.data_received(data)
        except Exception as exc:  # a bug: one line, the session ends
            log.error("%s: %s: %s", session.info.peer, type(exc).__name__, exc)
            self._connection.close()

    def eof_received(self) -> bool:
        if self._session is not None:
            self._session.eof_received()
        return True  # half open: replies to what was sent still go out

    def connection_lost(self, exc: Exception | None) -> None:
        self._writable.set()
        if self._session is not None:
            self._session.connection_lost()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # the session's Channel

    def write(self, data: bytes) -> None:
        self._chan.write(data)

    async def drain(self) -> None:
        await self._writable.wait()

    def close(self) -> None:
        self._chan.close()
        self._connection.close()

    def pause_reading(self) -> None:
        self._chan.pause_reading()

    def resume_reading(self) -> None:
        self._chan.resume_reading()
