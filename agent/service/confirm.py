"""The commit-confirmed timer shared by every northbound.

One task waits, through the injectable :class:`~agent.telemetry.timer.Timer`, for the
pending commit's deadline (tests drive it with a fake clock instead of sleeping). When
the deadline passes, the commit is rolled back under the writer lock. A rollback that
fails leaves the commit pending (the datastore keeps it, and its devices are reported
degraded); it is audited and retried every ``retry_s`` until it succeeds or the commit
is confirmed or cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from agent.clock import Clock
from agent.datastore.datastore import CommitResult, Pending
from agent.datastore.errors import DatastoreError
from agent.security.audit import AuditLog, Outcome
from agent.service.fair_lock import FairLock
from agent.telemetry.timer import Timer

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000


class Expiring(Protocol):
    """The datastore, as the timer uses it."""

    @property
    def pending(self) -> Pending | None: ...

    def expire_pending(self) -> CommitResult | None: ...


class ConfirmTimer:
    """Rolls back an unconfirmed commit-confirmed commit once its time is up."""

    def __init__(
        self,
        datastore: Expiring,
        lock: FairLock,
        audit: AuditLog,
        clock: Clock,
        timer: Timer,
        *,
        retry_s: float = 1.0,
        blocking: Callable[..., Any] = asyncio.to_thread,
    ) -> None:
        self._datastore = datastore
        self._lock = lock
        self._audit = audit
        self._clock = clock
        self._timer = timer
        self._retry_ns = int(retry_s * NS_PER_S)
        self._blocking = blocking
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failures = 0

    def start(self) -> None:
        """Starts waiting (on the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="commit-confirmed")

    def changed(self) -> None:
        """A commit became pending or its deadline moved: wait anew."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        retry_at: int | None = None
        while True:
            pending = self._datastore.pending
            deadline = None
            if pending is not None:
                remaining = pending.deadline_ns - self._clock.now_ns()
                deadline = self._clock.monotonic_ns() + max(remaining, 0)
                if retry_at is not None:
                    deadline = max(deadline, retry_at)
            self._wake.clear()
            await self._timer.wait(deadline, self._wake)
            if self._wake.is_set():
                continue
            pending = self._datastore.pending
            if pending is None or self._clock.now_ns() < pending.deadline_ns:
                retry_at = None
                continue
            retry_at = (
                None
                if await self._expire(pending)
                else (self._clock.monotonic_ns() + self._retry_ns)
            )

    async def _expire(self, pending: Pending) -> bool:
        """Rolls back ``pending``; False when the rollback failed (it stays pending)."""
        async with self._lock.hold("commit-confirmed"):
            try:
                result = await self._blocking(self._datastore.expire_pending)
            except DatastoreError as err:
                self.failures += 1
                log.error("rolling back commit %r failed: %s", pending.commit_id, err)
                self._audit.record(
                    "rollback",
                    Outcome.FAILED,
                    code="ABORTED",
                    message=f"rolling back unconfirmed commit {pending.commit_id!r} to version "
                    f"{pending.previous_version} failed ({err.message}); it stays pending, its "
                    "devices are reported degraded, and the rollback is retried",
                    version=pending.version,
                )
                return False
        if result is not None:
            self._audit.record(
                "rollback",
                Outcome.OK,
                message=f"commit {pending.commit_id!r} was not confirmed in time: rolled back "
                f"to version {pending.previous_version} as version {result.version}",
                version=result.version,
            )
        return True
