"""A private asyncio loop on its own thread, where one device's netlink sockets live.

pyroute2's AsyncIPRoute (traffic control) needs a running loop, and its synchronous
wrapper cannot run inside one (the agent's own loop serves gRPC). Drivers are called
synchronously from worker threads, so each linux device keeps a loop of its own: ``run``
hands a coroutine to it and waits for the result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopStopped(RuntimeError):
    """The loop was stopped; nothing more runs on it."""


class NetlinkLoop:
    """An event loop on a daemon thread; ``run`` executes coroutines there."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._stopped = False
        self._thread.start()
        self._ready.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    @property
    def on_loop(self) -> bool:
        """Whether the caller runs on this loop's thread."""
        return threading.current_thread() is self._thread

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Runs ``coroutine`` on the loop and returns its result (or raises its error).

        Raises TimeoutError after ``timeout`` seconds (the coroutine is cancelled).
        """
        if self._stopped:
            coroutine.close()
            raise LoopStopped("the netlink loop is stopped")
        if self.on_loop:
            coroutine.close()
            raise RuntimeError("NetlinkLoop.run called from its own loop")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout} s") from None

    def stop(self) -> None:
        """Cancels what still runs, stops the loop and joins its thread. Idempotent."""
        if self._stopped:
            return
        self._stopped = True

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
