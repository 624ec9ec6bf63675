"""A writer lock that serves waiting principals round-robin, not first come.

With a plain lock, a tenant that keeps four writes queued makes every other tenant's
write wait for all four. Here each share (a tenant, or a user without one) has its own
queue, and the lock passes to the shares in turn: a write waits at most for one write
of each other share that is waiting, however many each of them has queued.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FairLock:
    """An asyncio lock granted round-robin between shares."""

    def __init__(self) -> None:
        self._held = False
        self._queues: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    def locked(self) -> bool:
        return self._held

    @asynccontextmanager
    async def hold(self, share: str) -> AsyncIterator[None]:
        """Holds the lock for ``share`` for the block."""
        await self.acquire(share)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, share: str) -> None:
        if not self._held and not self._queues:
            self._held = True
            return
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(share, deque()).append(ticket)
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                self.release()  # granted as the waiter went away: pass it on
            else:
                queue = self._queues.get(share)
                if queue is not None and ticket in queue:
                    queue.remove(ticket)
                    if not queue:
                        del self._queues[share]
            raise

    def release(self) -> None:
        """Passes the lock to the next share in turn, or frees it."""
        while self._queues:
            share, queue = next(iter(self._queues.items()))
            ticket = queue.popleft()
            if queue:
                self._queues.move_to_end(share)  # its next write waits for the others
            else:
                del self._queues[share]
            if not ticket.done():
                ticket.set_result(None)
                return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire("")

    async def __aexit__(self, *_exc: object) -> None:
        self.release()
