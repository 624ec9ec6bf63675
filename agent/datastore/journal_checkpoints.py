"""Checkpoints written in the background: one worker thread, newest request wins.

The journal asks for a checkpoint after every N records or M bytes. Writing one means
encoding the whole tree, which must not sit on the commit path nor hold the event loop:
the worker encodes it in pieces (``canonical_chunks``), so the interpreter lock changes
hands between list entries, and writes it with the lock released. A request that comes
while one is being written replaces any other waiting request; a failed checkpoint is
logged and the journal simply grows until the next one succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from agent.datastore.journal import Head, Worker

log = logging.getLogger(__name__)


class BackgroundCheckpoints(Worker):
    """Runs ``write(head)`` for the newest requested head on a worker thread."""

    def __init__(self, write: Callable[[Head], None]) -> None:
        super().__init__("journal-checkpoints")
        self._write = write
        self._wanted: Head | None = None
        self._busy = False
        self.written = 0

    def request(self, head: Head) -> None:
        """Asks for a checkpoint of ``head`` (replacing a request not yet started)."""
        with self._cond:
            if self._closing:
                return
            self._wanted = head
            self._wake()

    def wait_idle(self) -> None:
        """Returns once no checkpoint is waiting or being written."""
        with self._cond:
            self._cond.wait_for(lambda: self._wanted is None and not self._busy)

    def close(self) -> None:
        """Finishes the checkpoint being written (a waiting one too) and stops."""
        self._stop()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted is not None or self._closing)
                head, self._wanted = self._wanted, None
                if head is None:
                    return
                self._busy = True
            try:
                self._write(head)
                self.written += 1
            except Exception:
                log.exception("checkpoint of version %d failed", head.version)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
