"""One session's notification subscription: a bounded queue sent in order by its own task.

When a slow client lets the queue fill up, the oldest notification is dropped and
counted (``dropped``), so memory stays bounded and the session stays up. Sending that
fails (the session went away) ends the subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from agent.northbound.netconf.contracts import Element, RpcContext

log = logging.getLogger(__name__)

ContentFilter = Callable[[Element], Element | None]
"""A subscription's filter: the part of an event's content it selects (None: none)."""


class Subscription:
    """Notifications for one session, in order, never more than ``limit`` waiting."""

    def __init__(
        self,
        context: RpcContext,
        send: Callable[[Element], Awaitable[None]],
        *,
        limit: int,
        content_filter: ContentFilter | None,
        on_end: Callable[[Subscription], None],
    ) -> None:
        self.context = context
        self.user: Any = context.user
        self.content_filter = content_filter
        self.dropped = 0
        self.sent = 0
        self._send = send
        self._limit = limit
        self._on_end = on_end
        self._queue: deque[Element] = deque()
        self._ready = asyncio.Event()
        self._ended = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"netconf-notifications-{context.session_id}"
        )

    @property
    def active(self) -> bool:
        return not self._ended

    @property
    def queued(self) -> int:
        return len(self._queue)

    def offer(self, notification: Element) -> None:
        """Queues ``notification``; the oldest waiting one is dropped when full."""
        if self._ended:
            return
        self._queue.append(notification)
        if len(self._queue) > self._limit:
            self._queue.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % self._limit == 0:
                log.warning(
                    "NETCONF session %d reads notifications too slowly: %d dropped so far",
                    self.context.session_id,
                    self.dropped,
                )
        self._ready.set()

    def end(self) -> None:
        """Stops sending; waiting notifications are discarded."""
        if not self._ended:
            self._task.cancel()
            self._finish()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                notification = self._queue.popleft()
                try:
                    await self._send(notification)
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    log.info(
                        "NETCONF session %d: a notification could not be sent (%s): the "
                        "subscription ends",
                        self.context.session_id,
                        err,
                    )
                    self._finish()
                    return
                self.sent += 1

    def _finish(self) -> None:
        self._ended = True
        self._queue.clear()
        self._on_end(self)
