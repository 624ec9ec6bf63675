"""The NETCONF sessions of one agent run: ids, who and where, counters, limits.

ietf-netconf-monitoring (RFC 6022) reads :meth:`SessionRegistry.sessions` and
:attr:`SessionRegistry.totals`; kill-session ends a session through
:meth:`SessionRegistry.kill`; listeners (:meth:`SessionRegistry.listen`) hear every
session start and end (RFC 6470 netconf-session-start/-end). Session ids start at 1
and are never reused within a run. Everything runs on the event loop.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from agent.clock import Clock
from agent.security.users import User

log = logging.getLogger(__name__)

TRANSPORT: Final = "netconf-ssh"
"""The transport identity of ietf-netconf-monitoring for NETCONF over SSH."""


def lock_session_name(session_id: int) -> str:
    """The name a NETCONF session holds datastore locks under (agent.service.locks)."""
    return f"netconf:{session_id}"


class TerminationReason(enum.StrEnum):
    """Why a session ended (RFC 6470 termination-reason)."""

    CLOSED = "closed"  # close-session
    KILLED = "killed"  # kill-session from another session
    DROPPED = "dropped"  # the transport went away
    TIMEOUT = "timeout"  # idle for too long
    BAD_HELLO = "bad-hello"
    OTHER = "other"  # e.g. the agent stops, the user was removed


class Counter(enum.Enum):
    """The per-session counters of RFC 6022."""

    IN_RPCS = "in_rpcs"
    IN_BAD_RPCS = "in_bad_rpcs"
    OUT_RPC_ERRORS = "out_rpc_errors"
    OUT_NOTIFICATIONS = "out_notifications"


@dataclass(slots=True)
class Counters:
    """RFC 6022 counters of a session or, summed, of the server."""

    in_rpcs: int = 0
    in_bad_rpcs: int = 0
    out_rpc_errors: int = 0
    out_notifications: int = 0

    def add(self, counter: Counter, amount: int = 1) -> None:
        setattr(self, counter.value, getattr(self, counter.value) + amount)


@dataclass(slots=True)
class Statistics(Counters):
    """The server-wide statistics of RFC 6022 (``/netconf-state/statistics``)."""

    start_time_ns: int = 0  # netconf-start-time
    in_bad_hellos: int = 0
    in_sessions: int = 0  # hellos sent with a session id
    dropped_sessions: int = 0  # ended otherwise than by close-session or kill-session


Terminator = Callable[[TerminationReason, int | None], Awaitable[None]]
"""Ends a session: (reason, the id of the killing session or None); returns once ended."""


@dataclass(eq=False, slots=True)
class SessionInfo:
    """One session as ietf-netconf-monitoring shows it."""

    session_id: int
    user: User
    host: str  # source-host: the client's address
    port: int
    login_time_ns: int  # wall clock, when the user was authenticated
    transport: str = TRANSPORT
    counters: Counters = field(default_factory=Counters)
    hello_done: bool = False
    context: Any = field(default=None, repr=False)  # its RpcContext, once the hellos are done
    terminate: Terminator | None = field(default=None, repr=False)

    @property
    def peer(self) -> str:
        """``host:port`` (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def lock_session(self) -> str:
        """The name this session holds datastore locks under."""
        return lock_session_name(self.session_id)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A session started (after the hellos) or ended (``reason`` set)."""

    session: SessionInfo
    reason: TerminationReason | None = None
    killed_by: int | None = None

    @property
    def started(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """At most ``max_sessions`` sessions, ``per_user`` of them for one user name."""

    max_sessions: int = 64
    per_user: int = 16


class SessionLimitError(Exception):
    """A new session would exceed a limit; the message says which."""


Listener = Callable[[SessionEvent], None]


class SessionRegistry:
    """Open NETCONF sessions by id, with the server's statistics."""

    def __init__(self, clock: Clock, limits: SessionLimits | None = None) -> None:
        self._clock = clock
        self.limits = limits or SessionLimits()
        self._sessions: dict[int, SessionInfo] = {}
        self._last_id = 0
        self._listeners: list[Listener] = []
        self.totals = Statistics(start_time_ns=clock.now_ns())

    def sessions(self) -> tuple[SessionInfo, ...]:
        """Every open session, oldest first."""
        return tuple(self._sessions.values())

    def get(self, session_id: int) -> SessionInfo | None:
        return self._sessions.get(session_id)

    def __len__(self) -> int:
        return len(self._sessions)

    def admit(self, user: User, host: str, port: int) -> SessionInfo:
        """Registers a new session of ``user`` with a fresh id; raises
        SessionLimitError when a limit is reached."""
        limits = self.limits
        if len(self._sessions) >= limits.max_sessions:
            raise SessionLimitError(
                f"the agent serves at most {limits.max_sessions} NETCONF sessions at once"
            )
        held = sum(1 for info in self._sessions.values() if info.user.name == user.name)
        if held >= limits.per_user:
            raise SessionLimitError(
                f"user {user.name!r} already has {held} NETCONF sessions, the most "
                "one user may hold at once"
            )
        self._last_id += 1
        info = SessionInfo(self._last_id, user, host, port, self._clock.now_ns())
        self._sessions[info.session_id] = info
        return info

    def started(self, info: SessionInfo) -> None:
        """The hellos of ``info`` were exchanged."""
        info.hello_done = True
        self._notify(SessionEvent(info))

    def remove(
        self, info: SessionInfo, reason: TerminationReason, killed_by: int | None = None
    ) -> None:
        """``info`` ended; the listeners hear of it if its hellos were exchanged."""
        if self._sessions.pop(info.session_id, None) is None:
            return
        if reason is TerminationReason.BAD_HELLO:
            self.totals.in_bad_hellos += 1
        elif reason not in (TerminationReason.CLOSED, TerminationReason.KILLED):
            self.totals.dropped_sessions += 1
        if info.hello_done:
            self._notify(SessionEvent(info, reason, killed_by))

    def count(self, info: SessionInfo, counter: Counter, amount: int = 1) -> None:
        """Adds to a counter of ``info`` and to the server's total."""
        info.counters.add(counter, amount)
        self.totals.add(counter, amount)

    async def kill(self, session_id: int, by: int | None = None) -> None:
        """Ends session ``session_id`` (``by``: the killing session); returns once it has
        ended. Raises LookupError if there is no such session."""
        info = self._sessions.get(session_id)
        if info is None or info.terminate is None:
            raise LookupError(f"no NETCONF session {session_id}")
        await info.terminate(TerminationReason.KILLED, by)

    async def close_all(self, reason: TerminationReason = TerminationReason.OTHER) -> None:
        """Ends every session (the agent stops)."""
        for info in list(self._sessions.values()):
            if info.terminate is not None:
                await info.terminate(reason, None)
            else:
                self.remove(info, reason)

    def monitoring_sessions(self) -> Iterator[Mapping[str, object]]:
        """The open sessions as RFC 6022 ``/netconf-state/sessions/session`` leaves."""
        for info in self._sessions.values():
            counters = info.counters
            yield {
                "session-id": info.session_id,
                "transport": info.transport,
                "username": info.user.name,
                "source-host": info.host,
                "login-time": date_and_time(info.login_time_ns),
                "in-rpcs": counters.in_rpcs,
                "in-bad-rpcs": counters.in_bad_rpcs,
                "out-rpc-errors": counters.out_rpc_errors,
                "out-notifications": counters.out_notifications,
            }

    def monitoring_statistics(self) -> Mapping[str, object]:
        """The RFC 6022 ``/netconf-state/statistics`` leaves."""
        totals = self.totals
        return {
            "netconf-start-time": date_and_time(totals.start_time_ns),
            "in-bad-hellos": totals.in_bad_hellos,
            "in-sessions": totals.in_sessions,
            "dropped-sessions": totals.dropped_sessions,
            "in-rpcs": totals.in_rpcs,
            "in-bad-rpcs": totals.in_bad_rpcs,
            "out-rpc-errors": totals.out_rpc_errors,
            "out-notifications": totals.out_notifications,
        }

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener`` for every session start and end; returns the function that
        stops it. A listener must not block; its exceptions are logged."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, event: SessionEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:
                log.error("a NETCONF session listener failed: %s: %s", type(exc).__name__, exc)


def date_and_time(timestamp_ns: int) -> str:
    """RFC 3339 ``date-and-time`` in UTC of a wall-clock time in ns."""
    seconds, ns = divmod(timestamp_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=ns // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
