"""Datastore locks (NETCONF lock/unlock) that every northbound respects.

A session may lock a datastore (``running``, ``candidate``); while it holds the lock,
every other session's write to that datastore is refused with Kind.LOCKED naming the
holder, whatever its protocol: a gNMI Set, another NETCONF session, a commit. Locks are
released by unlock, or when their session ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from agent.service.errors import Kind, ServiceError

RUNNING = "running"
CANDIDATE = "candidate"


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock: the session (e.g. ``netconf:7``) and its user."""

    session: str
    user: str
    describe: str  # e.g. "NETCONF session 7 (user alice)"


class DatastoreLocks:
    """The lock of each datastore, by session."""

    def __init__(self) -> None:
        self._held: dict[str, LockHolder] = {}
        self._mutex = threading.Lock()

    def holder(self, datastore: str) -> LockHolder | None:
        return self._held.get(datastore)

    def lock(self, datastore: str, holder: LockHolder) -> None:
        """Takes the lock or raises ServiceError LOCKED naming who holds it."""
        with self._mutex:
            current = self._held.get(datastore)
            if current is not None:
                raise ServiceError(
                    Kind.LOCKED, f"the {datastore} datastore is locked by {current.describe}"
                )
            self._held[datastore] = holder

    def unlock(self, datastore: str, session: str) -> None:
        """Releases the lock held by ``session``; raises ServiceError otherwise."""
        with self._mutex:
            current = self._held.get(datastore)
            if current is None:
                raise ServiceError(Kind.CONFLICT, f"the {datastore} datastore is not locked")
            if current.session != session:
                raise ServiceError(
                    Kind.LOCKED, f"the {datastore} datastore is locked by {current.describe}"
                )
            del self._held[datastore]

    def release_all(self, session: str) -> None:
        """Releases every lock of a session that ended."""
        with self._mutex:
            for datastore in [d for d, h in self._held.items() if h.session == session]:
                del self._held[datastore]

    def check_write(self, datastore: str, session: str | None) -> None:
        """Raises ServiceError LOCKED when another session holds ``datastore``."""
        current = self._held.get(datastore)
        if current is not None and current.session != session:
            raise ServiceError(
                Kind.LOCKED,
                f"the {datastore} datastore is locked by {current.describe}: writes of other "
                "sessions are refused until it is unlocked",
            )
