"""Request workers shared fairly between users.

Heavy request work (Get answers, Set planning) runs in a fixed pool of worker threads,
never on the event loop. :class:`Admission` hands out the workers:

- one user holds at most ``per_user`` workers at once, and all the users of one tenant
  together ``per_tenant``, so one user's (or tenant's) heavy requests leave workers for
  everybody else;
- when all workers are busy, waiting requests are served round-robin by user, not in
  arrival order, so a user with many queued requests cannot starve one with few;
- a tenant's workers may use ``tenant_cpu`` of a core on average: past that its next
  request waits until its use has decayed, so a tenant flooding heavy reads takes a
  bounded share of the interpreter from the others;
- at most ``queue_per_user`` requests of one user wait; more answer at once with
  :class:`AdmissionRefused` (RESOURCE_EXHAUSTED) naming the limit;
- work that has used more than a quantum of CPU steps aside at its checkpoints while
  fresh work runs (:class:`~agent.precedence.ShortFirst`), so one tenant's whole-view
  Get does not halve the speed of another's one-leaf Get;
- each request runs in a :class:`~agent.cancellation.WorkScope`: when the client
  cancels, the scope is cancelled and the worker stops at its next checkpoint. A worker
  counts as busy until its thread has really finished, so cancelled work can never
  oversubscribe the pool.

All methods but the work itself run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from agent.cancellation import CancelReason, WorkScope, running_in
from agent.precedence import Precedence, ShortFirst

T = TypeVar("T")

CPU_WINDOW_S = 1.0
"""The time constant of a tenant's CPU use."""
CPU_RECHECK_S = 0.02
"""How soon waiting tenants over their CPU share are looked at again."""


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    """Worker pool size and per-user shares."""

    workers: int = 4
    per_user: int = 2
    queue_per_user: int = 16
    per_tenant: int = 1
    """Workers all the users of one tenant hold together."""
    tenant_cpu: float = 0.25
    """Worker CPU time a tenant may use, in cores averaged over about a second; a
    tenant over it waits until its use has decayed (like a cgroup CPU quota)."""
    precedence: Precedence | None = field(default_factory=Precedence)
    """How long work steps aside for fresh work; None: it never does."""

    def __post_init__(self) -> None:
        if min(self.workers, self.per_user, self.per_tenant) < 1 or self.queue_per_user < 0:
            raise ValueError("workers and shares must be at least 1, queue_per_user >= 0")


class AdmissionRefused(Exception):
    """Too many requests of one user are already waiting."""

    def __init__(self, user: str, limit: int) -> None:
        super().__init__(
            f"too many requests of {user!r} waiting for a worker "
            f"(limit: {limit} waiting per user); retry later"
        )
        self.user = user
        self.limit = limit


class Admission:
    """A worker pool whose workers are shared fairly by user."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self._limits = limits or AdmissionLimits()
        self._executor: ThreadPoolExecutor | None = None
        self._busy = 0
        self._active: dict[str, int] = {}
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        self._tenants: set[str] = set()
        self._cpu: dict[str, tuple[float, int]] = {}  # share -> (decayed CPU s, at ns)
        self._wakeup: asyncio.TimerHandle | None = None
        chosen = self._limits.precedence
        self.short_first = ShortFirst(chosen) if chosen is not None else None

    @property
    def limits(self) -> AdmissionLimits:
        return self._limits

    @property
    def busy(self) -> int:
        """Workers running (or finishing cancelled) work now."""
        return self._busy

    def waiting(self, user: str | None = None) -> int:
        """Requests waiting for a worker (of ``user``, or of everybody)."""
        if user is not None:
            return len(self._waiting.get(user, ()))
        return sum(len(q) for q in self._waiting.values())

    async def run(
        self, user: str, scope: WorkScope, work: Callable[[], T], *, tenant: bool = False
    ) -> T:
        """Runs ``work()`` in a worker inside ``scope``; cancelling the caller cancels
        the scope. ``user`` names the share (``tenant``: a tenant's, which holds
        ``per_tenant`` workers). Raises AdmissionRefused when the share has too many
        requests waiting."""
        if tenant:
            self._tenants.add(user)
        await self._acquire(user)
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()

        spent = [0]

        def in_scope() -> T:
            started = time.thread_time_ns()
            turn = self.short_first.start() if self.short_first is not None else None
            scope.take_turns(turn)
            try:
                with running_in(scope):
                    return work()
            finally:
                if turn is not None:
                    turn.end()
                spent[0] = time.thread_time_ns() - started

        try:
            future = loop.run_in_executor(self._pool(), context.run, in_scope)
        except BaseException:
            self._release(user)
            raise
        future.add_done_callback(lambda _f: self._release(user, spent[0]))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            scope.cancel(CancelReason.CANCELLED)
            raise

    def close(self) -> None:
        """Stops the pool; running work is cancelled at its next checkpoint by its scope."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._limits.workers, thread_name_prefix="request-worker"
            )
        return self._executor

    async def _acquire(self, user: str) -> None:
        if self._free_for(user) and not self._waiting:
            self._grant(user)
            return
        queue = self._waiting.get(user)
        if queue is not None and len(queue) >= self._limits.queue_per_user:
            raise AdmissionRefused(user, self._limits.queue_per_user)
        if queue is None:
            queue = self._waiting[user] = deque()
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(ticket)
        self._dispatch()
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                self._release(user)  # granted just as the caller went away
            else:
                self._forget(user, ticket)
            raise

    def _free_for(self, user: str) -> bool:
        tenant = user in self._tenants
        share = self._limits.per_tenant if tenant else self._limits.per_user
        if self._busy >= self._limits.workers or self._active.get(user, 0) >= share:
            return False
        return not tenant or self._cpu_used(user) <= self._limits.tenant_cpu * CPU_WINDOW_S

    def _cpu_used(self, user: str) -> float:
        """The share's CPU seconds, decayed with time constant CPU_WINDOW_S."""
        used, at = self._cpu.get(user, (0.0, 0))
        if not used:
            return 0.0
        elapsed = (time.monotonic_ns() - at) / 1e9
        return used * math.exp(-elapsed / CPU_WINDOW_S)

    def _charge(self, user: str, spent_ns: int) -> None:
        if user in self._tenants and spent_ns > 0:
            self._cpu[user] = (self._cpu_used(user) + spent_ns / 1e9, time.monotonic_ns())

    def _grant(self, user: str) -> None:
        self._busy += 1
        self._active[user] = self._active.get(user, 0) + 1

    def _release(self, user: str, spent_ns: int = 0) -> None:
        self._charge(user, spent_ns)
        self._busy -= 1
        left = self._active.get(user, 0) - 1
        if left > 0:
            self._active[user] = left
        else:
            self._active.pop(user, None)
        self._dispatch()

    def _dispatch(self) -> None:
        """Grants free workers to waiting users, round-robin; when only tenants over
        their CPU share wait, looks again once their use has decayed."""
        self._grant_waiting()
        if self._waiting and self._busy < self._limits.workers and self._wakeup is None:
            loop = asyncio.get_running_loop()
            self._wakeup = loop.call_later(CPU_RECHECK_S, self._recheck)

    def _recheck(self) -> None:
        self._wakeup = None
        self._dispatch()

    def _grant_waiting(self) -> None:
        progressed = True
        while progressed and self._busy < self._limits.workers and self._waiting:
            progressed = False
            for user in list(self._waiting):
                if not self._free_for(user):
                    continue
                queue = self._waiting[user]
                ticket = queue.popleft()
                if not queue:
                    del self._waiting[user]
                else:
                    self._waiting.move_to_end(user)  # next round starts with others
                self._grant(user)
                ticket.set_result(None)
                progressed = True
                break

    def _forget(self, user: str, ticket: asyncio.Future[None]) -> None:
        queue = self._waiting.get(user)
        if queue is None:
            return
        try:
            queue.remove(ticket)
        except ValueError:
            return
        if not queue:
            del self._waiting[user]
