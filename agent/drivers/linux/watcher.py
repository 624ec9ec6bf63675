"""LinkWatcher: a thread that takes in link events as soon as the monitor socket has them."""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class LinkWatcher:
    """Calls ``drain`` on a thread of its own whenever ``fd`` is readable, until stopped.

    ``drain`` may block (on the netdev table's lock, while the backend programs): the
    thread waits for it, and nothing else ever waits for the thread but ``stop``.
    """

    def __init__(self, name: str, fd: int, drain: Callable[[], None]) -> None:
        self._fd = fd
        self._drain = drain
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the thread (before the socket closes). Idempotent."""
        if self._wake_write < 0:
            return
        os.write(self._wake_write, b"\0")
        self._thread.join(5)
        os.close(self._wake_write)
        os.close(self._wake_read)
        self._wake_write = self._wake_read = -1

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        while True:
            ready = dict(poller.poll())
            if self._wake_read in ready or ready.get(self._fd, 0) & select.POLLNVAL:
                return  # stopped, or the socket is gone
            if ready:
                try:
                    self._drain()
                except Exception:  # the watcher must not die silently
                    log.exception("taking in link events failed")
