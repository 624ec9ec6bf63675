"""Long-lived sessions follow the user database: one watcher for every open stream.

A Subscribe stream is authenticated once, when it opens. The ``SessionGuard`` keeps a
list of the open streams and their users and, every ``interval_s`` (0.5 s by default),
looks at the user database as it is on disk (one ``stat`` per tick, however many
streams are open; users are re-checked only when the file changed, or once for a stream
that just opened). A stream whose user is no longer current is ended:

- user removed: UNAUTHENTICATED;
- password changed (a user that logged in with a password): UNAUTHENTICATED;
- role or a tenant user's tenant changed: PERMISSION_DENIED (the credentials are still
  good, but what the stream was allowed to see was decided for the old role; subscribing
  again is authorised under the new one);
- the user database cannot be read: INTERNAL, for every stream (as every new RPC fails
  until the file is repaired).

Each ending is written to the audit log. The guard's task runs only while streams are
open and waits through an injectable ``Timer``, so tests move time by hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import grpc

from agent.clock import Clock
from agent.security.audit import AuditLog, Outcome
from agent.security.errors import UserDatabaseError
from agent.security.users import Revocation, User
from agent.telemetry.timer import NS_PER_S, LoopTimer, Timer

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 0.5
SUBSCRIBE_RPC = "/gnmi.gNMI/Subscribe"


class UserDirectory(Protocol):
    """What the guard needs from a user database (UserStore implements it)."""

    def refresh(self) -> int:
        """Looks at the database now; a number that changes when users may have changed."""
        ...

    def revoked(self, user: User) -> Revocation | None:
        """Why ``user`` is no longer current, or None."""
        ...


@dataclass(frozen=True)
class Ending:
    """How a stream is ended: the gRPC status and a message for the client."""

    code: grpc.StatusCode
    message: str


def ending_for(user: User, revocation: Revocation) -> Ending:
    """The status that ends a stream of ``user`` for ``revocation``."""
    if revocation is Revocation.REMOVED:
        return Ending(
            grpc.StatusCode.UNAUTHENTICATED,
            f"user {user.name!r} was removed: the subscription has ended",
        )
    if revocation is Revocation.PASSWORD_CHANGED:
        return Ending(
            grpc.StatusCode.UNAUTHENTICATED,
            f"the password of user {user.name!r} was changed: the subscription has ended; "
            "log in with the new password",
        )
    return Ending(
        grpc.StatusCode.PERMISSION_DENIED,
        f"the role of user {user.name!r} changed: the subscription has ended; subscribe "
        "again to be authorised under the new role",
    )


DATABASE_UNAVAILABLE = Ending(
    grpc.StatusCode.INTERNAL,
    "the user database is unavailable: the subscription has ended (see the agent's log)",
)

EndStream = Callable[[Ending], None]


class _Entry:
    """One watched stream."""

    __slots__ = ("end", "key", "peer", "user")

    def __init__(self, user: User, end: EndStream, peer: str) -> None:
        self.user = user
        self.key = (user, user.credential)
        self.end = end
        self.peer = peer


class SessionGuard:
    """Ends open streams whose user is no longer current; shared by every stream.

    Use it on one event loop: ``watch`` when a stream opens (the returned function when
    it closes). ``check`` runs one pass at once (the task calls it every ``interval_s``).
    """

    def __init__(
        self,
        directory: UserDirectory,
        clock: Clock,
        *,
        timer: Timer | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        audit: AuditLog | None = None,
        rpc: str = SUBSCRIBE_RPC,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the session check interval must be positive")
        self._directory = directory
        self._clock = clock
        self._timer = timer or LoopTimer(clock)
        self._interval_ns = int(interval_s * NS_PER_S)
        self._audit = audit
        self._rpc = rpc
        self._groups: dict[tuple[User, str], set[_Entry]] = {}
        self._fresh: set[tuple[User, str]] = set()  # keys not checked since they appeared
        self._generation: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    @property
    def watching(self) -> int:
        """Streams being watched."""
        return sum(len(group) for group in self._groups.values())

    @property
    def running(self) -> bool:
        """True while the periodic task runs (only while streams are watched)."""
        return self._task is not None and not self._task.done()

    def watch(self, user: User, end: EndStream, *, peer: str = "") -> Callable[[], None]:
        """Watches a stream of ``user``; ``end`` is called (once) if it must end.

        Returns the function to call when the stream is over. Call from the event loop.
        """
        entry = _Entry(user, end, peer)
        self._groups.setdefault(entry.key, set()).add(entry)
        self._fresh.add(entry.key)
        if not self.running:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._run(self._wake), name="session-guard"
            )
        return lambda: self._forget(entry)

    def check(self) -> int:
        """Looks at the user database now and ends what must end; returns how many."""
        fresh, self._fresh = self._fresh, set()
        if not self._groups:
            return 0
        ended = 0
        try:
            generation = self._directory.refresh()
            if generation != self._generation:
                self._generation = generation
                keys = list(self._groups)
            else:
                keys = [key for key in fresh if key in self._groups]
            for key in keys:
                revocation = self._directory.revoked(key[0])
                if revocation is not None:
                    ended += self._end([key], ending_for(key[0], revocation))
        except UserDatabaseError as err:
            log.error("ending every Subscribe stream: %s", err)
            self._generation = None
            ended += self._end(list(self._groups), DATABASE_UNAVAILABLE)
        return ended

    def _end(self, keys: list[tuple[User, str]], ending: Ending) -> int:
        ended = 0
        for key in keys:
            for entry in self._groups.pop(key, ()):
                ended += 1
                log.info("ending a Subscribe stream of %r: %s", entry.user.name, ending.message)
                if self._audit is not None:
                    self._audit.record(
                        self._rpc,
                        Outcome.FAILED if ending is DATABASE_UNAVAILABLE else Outcome.DENIED,
                        user=entry.user,
                        peer=entry.peer,
                        code=ending.code,
                        message=ending.message,
                    )
                try:
                    entry.end(ending)
                except Exception:
                    log.exception("ending a Subscribe stream failed")
        self._stop_when_idle()
        return ended

    def _forget(self, entry: _Entry) -> None:
        group = self._groups.get(entry.key)
        if group is None:
            return
        group.discard(entry)
        if not group:
            del self._groups[entry.key]
            self._fresh.discard(entry.key)
        self._stop_when_idle()

    def _stop_when_idle(self) -> None:
        if not self._groups and self._wake is not None:
            self._wake.set()  # the task ends; the next stream starts another

    async def _run(self, wake: asyncio.Event) -> None:
        deadline = self._clock.monotonic_ns() + self._interval_ns
        while self._groups:
            await self._timer.wait(deadline, wake)
            if wake.is_set():  # the last stream closed (and maybe another opened since)
                wake.clear()
                continue
            self.check()
            deadline = self._clock.monotonic_ns() + self._interval_ns
        if self._wake is wake:
            self._task = None
            self._wake = None
