"""Group commit onto a journal segment: one flusher thread, one write and fdatasync per
group of records.

Committers ``submit`` an encoded record and get a Future. The flusher takes every record
queued so far, appends them as one frame (``journal_format``), makes it durable with one
fdatasync and only then, in version order, runs each record's ``on_durable`` and resolves
its Future. Records that arrive while a frame is being synced wait for the next one, so
concurrent commits share a sync.

A failed write or sync fails its records and every record queued behind them, and
refuses new ones until ``recover`` has cut the segment back to its last durable frame:
after an fsync error the kernel may have dropped the pages, so nothing written since the
last good sync is trusted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.datastore.journal_format import SegmentHeader, encode_frame, encode_segment_header
from agent.durable_files import atomic_write

log = logging.getLogger(__name__)


class JournalUnavailable(OSError):
    """The journal refuses records: an earlier write failed and was not recovered yet, or
    it is closed."""


class JournalWriteFailed(OSError):
    """Writing or syncing the frame that held a record failed: it is not durable."""


@dataclass(frozen=True, slots=True)
class Head:
    """A commit as the journal knows it: its version, tree, meta and time."""

    version: int
    tree: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    saved_at_ns: int = 0


class SegmentFile:
    """One segment open for appending (O_APPEND); ``size`` is what is durable."""

    def __init__(self, path: Path, base_version: int, fd: int, size: int) -> None:
        self.path = path
        self.base_version = base_version
        self.size = size
        self._fd = fd

    @classmethod
    def create(cls, path: Path, header: SegmentHeader) -> SegmentFile:
        """A new segment holding only ``header`` (created atomically, directory synced)."""
        data = encode_segment_header(header)
        atomic_write(path, data)
        return cls(path, header.base_version, os.open(path, os.O_WRONLY | os.O_APPEND), len(data))

    @classmethod
    def reopen(cls, path: Path, base_version: int, size: int) -> SegmentFile:
        """An existing segment, cut back to ``size`` bytes (its valid frames) first."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, base_version, fd, size)

    def append(self, frame: bytes) -> None:
        """Writes ``frame`` at the end and makes it durable."""
        view = memoryview(frame)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fdatasync(self._fd)
        self.size += len(frame)

    def cut_back(self) -> None:
        """Drops whatever follows the last durable frame."""
        os.ftruncate(self._fd, self.size)
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


class Worker:
    """A daemon thread running ``_run``, started by the first ``_wake`` and stopped by
    ``_stop``; ``_cond`` guards the subclass's state and ``_closing``."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        """Starts the thread if needed and wakes it (the caller holds ``_cond``)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _stop(self) -> None:
        """Has the thread finish what it was given, then joins it."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()


AfterBatch = Callable[[Head, int, int], SegmentFile | None]
"""Called by the flusher after each durable frame with the newest commit, the frame's
bytes and its record count; may return a new segment to continue in (a rotation)."""


@dataclass(slots=True)
class _Ticket:
    head: Head
    payload: bytes
    on_durable: Callable[[], None] | None
    future: Future[int] = field(default_factory=Future)


class GroupCommitter(Worker):
    """Appends submitted records to ``segment`` in groups from a flusher thread."""

    def __init__(self, segment: SegmentFile, durable: Head, after_batch: AfterBatch) -> None:
        super().__init__("journal-flusher")
        self._segment = segment
        self._durable = durable
        self._after_batch = after_batch
        self._io = threading.Lock()
        self._queue: list[_Ticket] = []
        self._submitted = 0
        self._finished = 0
        self._failure: BaseException | None = None

    @property
    def durable(self) -> Head:
        """The newest commit whose record is durable."""
        return self._durable

    @property
    def failure(self) -> BaseException | None:
        """The error that stopped the journal, until ``recover``."""
        return self._failure

    @property
    def segment(self) -> SegmentFile:
        return self._segment

    def submit(
        self, head: Head, payload: bytes, on_durable: Callable[[], None] | None = None
    ) -> Future[int]:
        """Queues the record of ``head``; the Future resolves to its version once it is
        durable (after ``on_durable`` ran) or fails with the write's error."""
        ticket = _Ticket(head, payload, on_durable)
        with self._cond:
            if self._failure is not None:
                raise JournalUnavailable(
                    f"the journal is stopped by an earlier error: {self._failure}"
                )
            if self._closing:
                raise JournalUnavailable("the journal is closed")
            self._queue.append(ticket)
            self._submitted += 1
            self._wake()
        return ticket.future

    def sync(self) -> None:
        """Returns once every record submitted so far is durable or has failed."""
        with self._cond:
            target = self._submitted
            self._cond.wait_for(lambda: self._finished >= target)
        with self._io:  # and the flusher's work after them (a rotation)
            pass

    def switch(self, segment: SegmentFile) -> None:
        """Continues in ``segment`` (between frames); the old one is closed."""
        with self._io:
            self._segment.close()
            self._segment = segment

    def restart(self, segment: SegmentFile, durable: Head) -> None:
        """Continues in ``segment`` from ``durable``, a commit saved whole (nothing may be
        queued: the caller synced and holds off committers)."""
        with self._io:
            self._segment.close()
            self._segment = segment
            self._durable = durable

    def recover(self) -> None:
        """Cuts the segment back to its last durable frame and accepts records again;
        raises OSError (still stopped) when that fails."""
        with self._io:
            if self._failure is None:
                return
            self._segment.cut_back()
            with self._cond:
                self._failure = None

    def close(self) -> None:
        """Writes what is queued, stops the flusher and closes the segment."""
        self._stop()
        with self._io:
            self._segment.close()

    # --- the flusher --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._closing)
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
            with self._io:
                self._flush(batch)

    def _flush(self, batch: list[_Ticket]) -> None:
        try:
            frame = encode_frame([ticket.payload for ticket in batch])
            self._segment.append(frame)
        except BaseException as err:  # every failure fails the records
            self._fail(batch, err)
            return
        self._durable = batch[-1].head
        for ticket in batch:
            if ticket.on_durable is not None:
                try:
                    ticket.on_durable()
                except Exception:
                    log.exception("after the record of version %d", ticket.head.version)
            ticket.future.set_result(ticket.head.version)
        with self._cond:
            self._finished += len(batch)
            self._cond.notify_all()
        try:
            replacement = self._after_batch(self._durable, len(frame), len(batch))
        except Exception:
            log.exception("journal: after version %d", self._durable.version)
            return
        if replacement is not None:
            self._segment.close()
            self._segment = replacement

    def _fail(self, batch: list[_Ticket], err: BaseException) -> None:
        log.error(
            "journal %s: writing versions %d..%d failed: %s",
            self._segment.path,
            batch[0].head.version,
            batch[-1].head.version,
            err,
        )
        with self._cond:
            self._failure = err
            failed = batch + self._queue
            self._queue = []
        for ticket in failed:
            ticket.future.set_exception(JournalWriteFailed(f"writing the journal failed: {err}"))
        with self._cond:
            self._finished += len(failed)
            self._cond.notify_all()
