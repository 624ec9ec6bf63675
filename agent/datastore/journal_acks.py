"""Acknowledging a commit only once its journal record is durable.

The datastore stages and applies a commit under its writer lock, hands the record to the
journal and lets the next commit in while the record waits for the group's fdatasync.
When that write fails, the commits whose records it held are lost: the datastore goes
back to the last durable commit (``settle``) before any of them is answered, and each is
answered with a storage error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from agent.datastore.errors import DatastoreError, ErrorKind


def storage_error(err: BaseException) -> DatastoreError:
    """What a commit whose record could not be made durable answers."""
    return DatastoreError(
        ErrorKind.STORAGE, f"saving the configuration failed: {err}; the commit was undone"
    )


def wait_durable(durable: Future[int] | None, settle: Callable[[], None]) -> None:
    """Blocks until ``durable`` resolves; on failure runs ``settle`` and raises the
    storage error. Safe under the writer lock (the journal never takes it)."""
    if durable is None:
        return
    try:
        durable.result()
    except Exception as err:
        settle()
        raise storage_error(err) from err


def settled(durable: Future[int], settle: Callable[[], None]) -> Future[int]:
    """A Future for callers outside the writer lock: it resolves with ``durable`` or,
    when that fails, fails with the storage error once ``settle`` has run (on a thread
    of its own, since the journal's thread must never wait for the writer lock)."""
    done: Future[int] = Future()

    def finish(source: Future[int]) -> None:
        err = source.exception()
        if err is None:
            done.set_result(source.result())
            return

        def fail() -> None:
            try:
                settle()
            finally:
                done.set_exception(storage_error(err))

        threading.Thread(target=fail, name="commit-settle", daemon=True).start()

    durable.add_done_callback(finish)
    return done
