"""Crash-safe persistence of the running configuration: checkpoints, a journal of the
commits since, and a pending commit-confirmed record.

State directory layout::

    running.json                 the newest checkpoint: the whole tree at its version
    checkpoints/00000042.json    the newest ``keep`` checkpoints, independent copies
    journal/00000042.log         the commits after version 42 (see journal_format)
    pending-confirm.json         present only while a commit-confirmed awaits confirmation
    .tmp-*                       leftovers of an interrupted write, removed on load

In the JOURNAL mode a commit appends one record (its version, its delta, a checksum) to
the newest segment through group commit (``journal.GroupCommitter``): one fdatasync makes
every record queued meanwhile durable, and a commit is acknowledged only once its own
record is. Every ``CheckpointPolicy.every_records`` records or ``every_bytes`` bytes the
journal continues in a new segment and the tree of the last record is written as a
checkpoint in the background (``journal_checkpoints``), then older segments and
checkpoints beyond ``keep`` are removed. The REWRITE mode writes the whole tree at every
commit (``save``), as a baseline and for very small sites.

Loading is the newest checkpoint plus the replay of the segments from its version on. A
torn tail (the last frame of the last segment fails a check and nothing valid follows) is
a write that was never acknowledged: it is cut off. Anything else that fails a check (a
damaged frame with valid frames after it, a gap in the versions, a record that does not
apply) raises CorruptJournalError naming the segment and the byte; nothing is skipped.

Crash safety: every file is created through a fsynced temp file, rename and directory
fsync; a checkpoint replaces ``running.json`` first and then writes its copy in
``checkpoints/`` (a missing copy of the current version is written again on load); a new
segment exists durably before records go into it; segments and checkpoints are removed
only once a newer checkpoint covers them. Versions only grow: restoring a checkpoint saves
its tree as a new version.

One store per state directory and process. Calls may come from several threads; the
datastore's writer lock orders commits.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.clock import Clock, SystemClock
from agent.datastore.journal import GroupCommitter, Head, JournalUnavailable, SegmentFile
from agent.datastore.journal_checkpoints import BackgroundCheckpoints
from agent.datastore.journal_delta import DeltaError, apply_delta, tree_delta
from agent.datastore.journal_format import (
    DamagedJournal,
    SegmentContent,
    SegmentHeader,
    encode_record,
    highest_version,
    read_segment,
)
from agent.datastore.persist_errors import (
    CHECKPOINT_DIR,
    JOURNAL_DIR,
    CheckpointNotFoundError,
    CorruptConfigError,
    CorruptFileError,
    CorruptJournalError,
    PersistenceError,
    StaleVersionError,
)
from agent.datastore.persist_format import (
    CheckpointInfo,
    ConfigHeader,
    FormatError,
    PendingConfirm,
    Snapshot,
    decode_config,
    decode_header,
    decode_pending,
    encode_config,
    encode_pending,
    split_config,
)
from agent.durable_files import atomic_write, ensure_dir, remove_durably, temp_files

__all__ = [
    "CheckpointInfo",
    "CheckpointNotFoundError",
    "CheckpointPolicy",
    "ConfigHeader",
    "ConfigStore",
    "CorruptConfigError",
    "CorruptFileError",
    "CorruptJournalError",
    "PendingConfirm",
    "PersistMode",
    "PersistenceError",
    "SegmentInfo",
    "Snapshot",
    "StaleVersionError",
]

CURRENT_NAME = "running.json"
PENDING_NAME = "pending-confirm.json"
DEFAULT_KEEP = 3

_CHECKPOINT_NAME = re.compile(r"(\d+)\.json")
_SEGMENT_NAME = re.compile(r"(\d+)\.log")
_HEADER_LIMIT = 1 << 20

log = logging.getLogger(__name__)


class PersistMode(enum.Enum):
    """How a commit is made durable."""

    JOURNAL = "journal"  # one journal record per commit, group commit, checkpoints behind
    REWRITE = "rewrite"  # the whole tree rewritten at every commit


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """A checkpoint is written after this many journal records or bytes, whichever
    comes first (and after a load that replayed as many)."""

    every_records: int = 1000
    every_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        if self.every_records < 1 or self.every_bytes < 1:
            raise ValueError("checkpoint intervals must be at least 1")


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """One journal segment as read: the versions it holds (after ``base_version``, up to
    ``last_version``), where its valid frames end, the stamp it was written under and
    what is wrong with it, if anything."""

    path: Path
    base_version: int
    last_version: int
    records: int = 0
    end: int = 0
    validated_by: str = ""
    problem: str | None = None


class ConfigStore:
    """The running configuration of one agent, kept in a state directory."""

    def __init__(
        self,
        state_dir: Path | str,
        *,
        keep: int = DEFAULT_KEEP,
        clock: Clock | None = None,
        mode: PersistMode = PersistMode.JOURNAL,
        policy: CheckpointPolicy | None = None,
    ) -> None:
        """``keep`` is how many of the newest checkpoints stay (at least 1)."""
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self._dir = Path(state_dir)
        self._keep = keep
        self._clock: Clock = clock or SystemClock()
        self._mode = mode
        self._policy = policy or CheckpointPolicy()
        self._lock = threading.RLock()  # head, writer, saves
        self._files = threading.Lock()  # installing checkpoints, pruning, new segments
        self._head: Head | None = None
        self._stamp = ""
        self._tail: SegmentInfo | None = None
        self._installed = 0  # version of running.json as this store last wrote or read it
        self._journal_end = 0  # the newest version any segment holds
        self._since_checkpoint = (0, 0)  # records, bytes
        self._writer: GroupCommitter | None = None
        self._checkpoints = BackgroundCheckpoints(self._write_checkpoint)

    @property
    def state_dir(self) -> Path:
        return self._dir

    @property
    def mode(self) -> PersistMode:
        return self._mode

    @property
    def current_path(self) -> Path:
        return self._dir / CURRENT_NAME

    @property
    def checkpoint_dir(self) -> Path:
        return self._dir / CHECKPOINT_DIR

    @property
    def journal_dir(self) -> Path:
        return self._dir / JOURNAL_DIR

    @property
    def pending_path(self) -> Path:
        return self._dir / PENDING_NAME

    def checkpoint_path(self, version: int) -> Path:
        return self.checkpoint_dir / f"{version:08d}.json"

    def segment_path(self, base_version: int) -> Path:
        return self.journal_dir / f"{base_version:08d}.log"

    # -- loading ---------------------------------------------------------------------------

    def load(self, *, validated_by: str = "") -> Snapshot | None:
        """The current configuration (newest checkpoint plus journal), or None for a new
        (empty or missing) state directory.

        ``validated_by`` is the caller's schema stamp: it goes into everything written
        from now on. The snapshot's ``validated_by`` is the stamp every part loaded was
        written under ("" when they differ). Removes leftover temp files, cuts a torn journal
        tail and rewrites a missing checkpoint of the current file. Raises
        CorruptConfigError when the current file is missing while checkpoints exist,
        unreadable or fails a check, CorruptJournalError when the journal cannot be
        replayed; never falls back to defaults or to an older checkpoint.
        """
        with self._lock:
            self._stop_writer()
            self._stamp = validated_by
            remove_durably(
                [
                    *temp_files(self._dir),
                    *temp_files(self.checkpoint_dir),
                    *temp_files(self.journal_dir),
                ]
            )
            try:
                data = self.current_path.read_bytes()
            except FileNotFoundError:
                if self._checkpoint_versions() or self._segments():
                    raise self._corrupt("missing, but checkpoints or a journal exist") from None
                self._head = None
                return None
            except OSError as exc:
                raise self._corrupt(f"cannot be read: {exc.strerror or exc}") from None
            try:
                header, tree = decode_config(data)
            except FormatError as exc:
                raise self._corrupt(str(exc)) from None
            self._ensure_checkpoint(header, data)
            snapshot, tail, journal_bytes = self._replay(header, tree, upto=None)
            if tail is not None and tail.end < tail.path.stat().st_size:
                self._cut_torn_tail(tail)
            self._tail = tail
            self._installed = header.version
            self._journal_end = max(tail.last_version if tail else 0, header.version)
            self._since_checkpoint = (snapshot.replayed, journal_bytes)
            self._head = Head(
                snapshot.version, snapshot.tree, dict(snapshot.meta), snapshot.saved_at_ns
            )
            return snapshot

    def load_version(self, version: int) -> Snapshot:
        """The tree saved as ``version``: the newest checkpoint at or before it plus the
        journal up to it (e.g. a commit-confirmed rollback target)."""
        with self._lock:
            if self._writer is not None:
                self._writer.sync()
            older = [v for v in self._checkpoint_versions() if v <= version]
            if not older:
                raise CheckpointNotFoundError(f"no checkpoint at or before version {version}")
            header, tree = self._decoded_checkpoint(max(older))
            snapshot, _, _ = self._replay(header, tree, upto=version)
            if snapshot.version != version:
                raise CheckpointNotFoundError(
                    f"version {version} is neither a checkpoint nor in the journal after "
                    f"checkpoint {header.version}"
                )
            return snapshot

    # -- committing ------------------------------------------------------------------------

    def commit(
        self,
        version: int,
        tree: dict[str, Any],
        meta: Mapping[str, Any] | None = None,
        *,
        pending: PendingConfirm | None = None,
        on_durable: Callable[[], None] | None = None,
    ) -> Future[int]:
        """Makes ``tree`` version ``version`` (the one after the current); the Future
        resolves to the version once that is durable, after ``on_durable`` ran, or fails
        with an OSError when the write failed.

        Raises at once (nothing written) for a version that does not follow the current
        one, a tree or meta that is not JSON, or a journal stopped by an earlier error.
        ``pending`` (for ``version``) is written durably before the record.
        """
        if self._mode is PersistMode.REWRITE:
            self.save(version, tree, meta, pending=pending)
            if on_durable is not None:
                on_durable()
            done: Future[int] = Future()
            done.set_result(version)
            return done
        with self._lock:
            head = self._current_head()
            if version != head.version + 1:
                raise StaleVersionError(f"version {version} does not follow version {head.version}")
            _check_pending_for(pending, version)
            saved_at = self._clock.now_ns()
            payload = encode_record(version, saved_at, meta or {}, tree_delta(head.tree, tree))
            writer = self._writer or self._start_writer(head)
            if writer.failure is not None:
                raise JournalUnavailable(
                    f"the journal is stopped by an earlier error: {writer.failure}"
                )
            if pending is not None:
                self.write_pending(pending)
            new = Head(version, tree, dict(meta or {}), saved_at)
            try:
                future = writer.submit(new, payload, on_durable)
            except JournalUnavailable:
                if pending is not None:
                    remove_durably([self.pending_path])
                raise
            self._head = new
            return future

    def save(
        self,
        version: int,
        tree: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
        *,
        pending: PendingConfirm | None = None,
    ) -> ConfigHeader:
        """Durably makes ``tree`` the current configuration as ``version`` by writing it
        whole (a synchronous checkpoint): the first configuration, a restore, and every
        commit in the REWRITE mode.

        ``version`` must be above every stored version. ``tree`` and ``meta`` must be
        JSON-serialisable; nothing is written otherwise. With ``pending`` (whose ``version``
        must equal ``version``) the commit-confirmed record is written before the
        configuration, so a crash in between leaves a record that ``resolve_pending``
        recognises as stale.
        """
        _check_version(version)
        with self._lock:
            if self._writer is not None:
                self._writer.sync()
            latest = self.latest_version()
            if latest is not None and version <= latest:
                raise StaleVersionError(f"version {version} is not above stored version {latest}")
            _check_pending_for(pending, version)
            saved_at = self._clock.now_ns()
            header, data = encode_config(version, tree, meta or {}, saved_at, self._stamp)
            if pending is not None:
                self.write_pending(pending)
            try:
                with self._files:
                    self._install(header, data)
            except BaseException:
                if pending is not None:
                    remove_durably([self.pending_path])
                raise
            new = Head(
                version, tree if isinstance(tree, dict) else dict(tree), dict(meta or {}), saved_at
            )
            self._head, self._tail = new, None
            if self._writer is not None:
                self._writer.restart(self._new_segment(version), new)
                self._since_checkpoint = (0, 0)
            return header

    def sync(self) -> None:
        """Returns once every commit made so far is durable (or has failed)."""
        writer = self._writer
        if writer is not None:
            writer.sync()

    @property
    def failure(self) -> BaseException | None:
        """The write error that stopped the journal, until ``recover``."""
        writer = self._writer
        return writer.failure if writer is not None else None

    def recover(self) -> int:
        """After a failed journal write: cuts the journal back to its last durable record,
        drops a pending record of a lost commit, and accepts commits again. Returns the
        durable version (the one after it is the next to commit); raises OSError when the
        journal cannot be cut back."""
        with self._lock:
            writer = self._writer
            if writer is None:
                return self._current_head().version
            writer.recover()
            self._head = writer.durable
            self.resolve_pending(self._head.version)
            return self._head.version

    def request_checkpoint(self) -> None:
        """Has the current configuration written as a checkpoint in the background (in
        the JOURNAL mode; e.g. after a load under another schema stamp, so that the next
        load finds everything under the current one)."""
        with self._lock:
            if self._mode is PersistMode.REWRITE or self._head is None:
                return
            if self._writer is None:
                self._since_checkpoint = (self._policy.every_records, 0)
                self._start_writer(self._head)
            else:
                self._writer.sync()
                self._writer.switch(self._new_segment(self._head.version))
                self._checkpoints.request(self._head)

    def wait_for_checkpoints(self) -> None:
        """Returns once no background checkpoint is waiting or being written."""
        self._checkpoints.wait_idle()

    def close(self) -> None:
        """Makes what was committed durable and stops the journal and checkpoint threads."""
        with self._lock:
            self._stop_writer()
            self._checkpoints.close()
            self._checkpoints = BackgroundCheckpoints(self._write_checkpoint)

    def latest_version(self) -> int | None:
        """The highest version stored or committed (None when empty)."""
        versions = self._checkpoint_versions()
        head = self._head
        if head is not None:
            versions.append(head.version)
        else:
            current = self._current_header()
            if current is not None:
                versions.append(current.version)
            versions.extend(self._journal_versions_on_disk())
        return max(versions, default=None)

    # -- checkpoints -----------------------------------------------------------------------

    def list_checkpoints(self) -> list[CheckpointInfo]:
        """Every checkpoint, oldest first, each fully checked."""
        return [self._inspect_checkpoint(v) for v in sorted(self._checkpoint_versions())]

    def load_checkpoint(self, version: int) -> Snapshot:
        """The checkpoint file of ``version`` exactly."""
        header, tree = self._decoded_checkpoint(version)
        return Snapshot.of_checkpoint(header, tree)

    def restore_checkpoint(self, version: int) -> ConfigHeader:
        """Atomically makes the tree of ``version`` (a checkpoint, or a version the journal
        after one holds) the current configuration.

        The tree is saved as a new version above every stored one, with meta
        ``{"restored_from": version}``; any pending commit-confirmed record is cleared.
        Works when the current file or a later part of the journal is damaged.
        """
        with self._lock:
            if version in self._checkpoint_versions():
                snapshot = self.load_checkpoint(version)
            else:
                snapshot = self.load_version(version)
            new_version = max(self.latest_version() or 0, version) + 1
            header = self.save(new_version, snapshot.tree, {"restored_from": version})
            self.clear_pending()
            return header

    def list_journal(self) -> list[SegmentInfo]:
        """Every journal segment, oldest first, each read and checked (not repaired)."""
        found = []
        for base, path in self._segments():
            try:
                content = _read_segment(path, base)
            except CorruptJournalError as err:
                where = f" at byte {err.offset}" if err.offset is not None else ""
                found.append(SegmentInfo(path, base, base, problem=f"{err.problem}{where}"))
                continue
            records = content.records
            last = records[-1].version if records else base
            torn = f"torn tail at byte {content.end}" if content.torn else None
            found.append(SegmentInfo(path, base, last, len(records), content.end, problem=torn))
        return found

    # -- pending commit-confirmed ----------------------------------------------------------

    def write_pending(self, record: PendingConfirm) -> None:
        """Durably records a commit-confirmed awaiting confirmation (replacing any other).

        The rollback target must be loadable: a valid checkpoint at or before it exists
        (and is kept, with the journal after it, until the record is cleared).
        """
        if record.previous_version >= record.version:
            raise ValueError("previous_version must be below version")
        target = record.previous_version
        older = [v for v in self._checkpoint_versions() if v <= target]
        head = self._head
        if not older or (head is not None and target > head.version):
            raise CheckpointNotFoundError(f"no checkpoint of rollback target version {target}")
        info = self._inspect_checkpoint(max(older))
        if info.problem is not None:
            raise CorruptFileError(info.path, info.problem)
        ensure_dir(self._dir)
        atomic_write(self.pending_path, encode_pending(record))

    def read_pending(self) -> PendingConfirm | None:
        """The pending commit-confirmed record, or None; CorruptFileError when damaged."""
        try:
            data = self.pending_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptFileError(self.pending_path, f"cannot be read: {exc.strerror}") from None
        try:
            return decode_pending(data)
        except FormatError as exc:
            raise CorruptFileError(self.pending_path, str(exc)) from None

    def clear_pending(self) -> None:
        """Durably removes the pending record (confirmation, rollback done or cancel),
        once every commit made before is durable."""
        self.sync()
        remove_durably([self.pending_path])

    def resolve_pending(self, current_version: int) -> PendingConfirm | None:
        """The pending record that applies to the loaded ``current_version``, if any.

        A record whose commit never became durable (``current_version`` below its
        ``version``) is stale: it is cleared and None returned. Otherwise the caller
        rolls back to ``previous_version`` once ``deadline_wall_ns`` has passed.
        """
        record = self.read_pending()
        if record is None or current_version >= record.version:
            return record
        remove_durably([self.pending_path])
        return None

    # -- the journal -----------------------------------------------------------------------

    def _current_head(self) -> Head:
        if self._head is None:
            raise PersistenceError("no configuration yet: load() or save() first")
        return self._head

    def _start_writer(self, head: Head) -> GroupCommitter:
        """Continues the newest segment when it ends at ``head`` and was written under
        the same stamp; otherwise (or when the load replayed enough for a checkpoint)
        starts a new one at ``head``."""
        tail = self._tail
        records, size = self._since_checkpoint
        due = records >= self._policy.every_records or size >= self._policy.every_bytes
        if (
            not due
            and tail is not None
            and tail.last_version == head.version
            and tail.validated_by == self._stamp
        ):
            segment = SegmentFile.reopen(tail.path, tail.base_version, tail.end)
        else:
            segment = self._new_segment(head.version)
        self._writer = GroupCommitter(segment, head, self._after_batch)
        if due:
            self._since_checkpoint = (0, 0)
            self._checkpoints.request(head)
        return self._writer

    def _stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def _new_segment(self, base_version: int) -> SegmentFile:
        ensure_dir(self.journal_dir)
        header = SegmentHeader(base_version, self._clock.now_ns(), self._stamp)
        with self._files:
            return SegmentFile.create(self.segment_path(base_version), header)

    def _after_batch(self, durable: Head, frame_bytes: int, records: int) -> SegmentFile | None:
        """On the flusher thread after each durable frame: rotates and asks for a
        checkpoint when the policy says so."""
        self._journal_end = durable.version
        count, size = self._since_checkpoint
        count, size = count + records, size + frame_bytes
        if count < self._policy.every_records and size < self._policy.every_bytes:
            self._since_checkpoint = (count, size)
            return None
        self._since_checkpoint = (0, 0)
        segment = self._new_segment(durable.version)
        self._checkpoints.request(durable)
        return segment

    def _write_checkpoint(self, head: Head) -> None:
        """On the checkpoint thread: the whole tree of ``head``, encoded in pieces."""
        header, data = encode_config(
            head.version, head.tree, head.meta, head.saved_at_ns, self._stamp, in_pieces=True
        )
        with self._files:
            if head.version >= self._installed:  # the same version again: a new stamp
                self._install(header, data)

    def _replay(
        self, header: ConfigHeader, tree: dict[str, Any], *, upto: int | None
    ) -> tuple[Snapshot, SegmentInfo | None, int]:
        """Checkpoint ``header``/``tree`` plus the journal after it (up to ``upto``): the
        snapshot, the newest segment read and the bytes of journal replayed."""
        version, meta, saved_at = header.version, header.meta, header.saved_at_ns
        stamp, replayed, journal_bytes = header.validated_by, 0, 0
        segments = [(b, p) for b, p in self._segments() if b >= header.version]
        tail = None
        for number, (base, path) in enumerate(segments):
            if upto is not None and version >= upto:
                break
            if base != version:
                raise CorruptJournalError(
                    path, f"starts after version {base}, but the commits before end at {version}"
                )
            content = _read_segment(path, base)
            last = number == len(segments) - 1
            if content.torn is not None and not last:
                raise CorruptJournalError(
                    path, f"{content.torn}, and a newer segment follows", content.end
                )
            for frame in content.frames:
                for record in frame.records:
                    if upto is not None and record.version > upto:
                        break
                    if record.version != version + 1:
                        raise CorruptJournalError(
                            path,
                            f"a record of version {record.version} where version "
                            f"{version + 1} belongs",
                            frame.offset,
                        )
                    try:
                        apply_delta(tree, record.delta)
                    except DeltaError as err:
                        raise CorruptJournalError(
                            path,
                            f"the record of version {record.version} does not apply to "
                            f"version {version}: {err}",
                            frame.offset,
                        ) from None
                    version, meta, saved_at = record.version, record.meta, record.saved_at_ns
                    replayed += 1
                    if content.header.validated_by != stamp:
                        stamp = ""
            journal_bytes += content.end
            tail = SegmentInfo(
                path, base, version, len(content.records), content.end, content.header.validated_by
            )
        snapshot = Snapshot(version, tree, meta, saved_at, header, replayed, stamp)
        return snapshot, tail, journal_bytes

    def _cut_torn_tail(self, tail: SegmentInfo) -> None:
        size = tail.path.stat().st_size
        log.warning(
            "journal %s: dropping a torn tail of %d bytes after version %d (a write the "
            "crash interrupted; it was never acknowledged)",
            tail.path,
            size - tail.end,
            tail.last_version,
        )
        SegmentFile.reopen(tail.path, tail.base_version, tail.end).close()

    def _segments(self) -> list[tuple[int, Path]]:
        try:
            names = [p.name for p in self.journal_dir.iterdir()]
        except FileNotFoundError:
            return []
        found = [
            (int(m[1]), self.journal_dir / n) for n in names if (m := _SEGMENT_NAME.fullmatch(n))
        ]
        return sorted(found)

    def _journal_versions_on_disk(self) -> list[int]:
        """Segment bases and the highest version in any valid frame (for a store not
        loaded, whatever damage the segments have)."""
        versions = []
        for base, path in self._segments():
            versions.append(base)
            try:
                highest = highest_version(path.read_bytes())
            except OSError:
                highest = None
            versions.extend([highest] if highest is not None else [])
        return versions

    # -- checkpoint files ------------------------------------------------------------------

    def _install(self, header: ConfigHeader, data: bytes) -> None:
        """Makes ``data`` the current file and a checkpoint; the caller holds _files."""
        ensure_dir(self.checkpoint_dir)
        atomic_write(self.current_path, data)
        atomic_write(self.checkpoint_path(header.version), data)
        self._installed = header.version
        self._prune()

    def _prune(self) -> None:
        versions = sorted(self._checkpoint_versions())
        keep = set(versions[-self._keep :])
        try:
            record = self.read_pending()
        except CorruptFileError:
            return  # cannot tell which rollback target is pinned: keep everything
        if record is not None:
            support = [v for v in versions if v <= record.previous_version]
            keep.update(support[-1:])
        remove_durably([self.checkpoint_path(v) for v in versions if v not in keep])
        # A segment goes once the oldest checkpoint kept is at or past its last record
        # (the next segment's base). The newest one is the journal's end, and the one
        # being written to, while a writer exists.
        horizon = min(keep, default=0)
        segments = self._segments()
        end = self._journal_end
        if self._head is None:  # not loaded: what the newest segment holds, from disk
            end = max(self._journal_versions_on_disk(), default=0)
        bounds = [base for base, _ in segments[1:]] + [end] * bool(segments)
        writer = self._writer
        if writer is not None:
            protected = {writer.segment.path, *(path for _, path in segments[-1:])}
        else:
            protected = set()
        remove_durably(
            [
                path
                for (_, path), upper in zip(segments, bounds, strict=True)
                if upper <= horizon and path not in protected
            ]
        )

    def _ensure_checkpoint(self, header: ConfigHeader, data: bytes) -> None:
        path = self.checkpoint_path(header.version)
        try:
            intact = path.stat().st_size == len(data) and _read_header(path) == header
        except (OSError, FormatError):
            intact = False
        if not intact:
            ensure_dir(self.checkpoint_dir)
            atomic_write(path, data)

    def _current_header(self) -> ConfigHeader | None:
        try:
            return _read_header(self.current_path)
        except (OSError, FormatError):
            return None

    def _checkpoint_versions(self) -> list[int]:
        try:
            names = [p.name for p in self.checkpoint_dir.iterdir()]
        except FileNotFoundError:
            return []
        return [int(m[1]) for n in names if (m := _CHECKPOINT_NAME.fullmatch(n))]

    def _decoded_checkpoint(self, version: int) -> tuple[ConfigHeader, dict[str, Any]]:
        path = self.checkpoint_path(version)
        try:
            return decode_config(path.read_bytes())
        except FileNotFoundError:
            raise CheckpointNotFoundError(f"no checkpoint of version {version}") from None
        except OSError as exc:
            raise CorruptFileError(path, f"cannot be read: {exc.strerror}") from None
        except FormatError as exc:
            raise CorruptFileError(path, str(exc)) from None

    def _inspect_checkpoint(self, version: int) -> CheckpointInfo:
        path = self.checkpoint_path(version)
        try:
            header, _ = split_config(path.read_bytes())
        except FileNotFoundError:
            return CheckpointInfo(version, path, None, "missing")
        except OSError as exc:
            return CheckpointInfo(version, path, None, f"cannot be read: {exc.strerror}")
        except FormatError as exc:
            return CheckpointInfo(version, path, None, str(exc))
        if header.version != version:
            return CheckpointInfo(version, path, None, f"holds version {header.version}")
        return CheckpointInfo(version, path, header)

    def _newest_valid_checkpoint(self) -> CheckpointInfo | None:
        try:
            versions = sorted(self._checkpoint_versions(), reverse=True)
        except OSError:
            return None
        for version in versions:
            info = self._inspect_checkpoint(version)
            if info.valid:
                return info
        return None

    def _corrupt(self, problem: str) -> CorruptConfigError:
        return CorruptConfigError(self.current_path, problem, self._newest_valid_checkpoint())


def _read_segment(path: Path, base: int) -> SegmentContent:
    try:
        content = read_segment(path.read_bytes())
    except OSError as exc:
        raise CorruptJournalError(path, f"cannot be read: {exc.strerror or exc}") from None
    except DamagedJournal as exc:
        raise CorruptJournalError(path, exc.problem, exc.offset) from None
    except FormatError as exc:
        raise CorruptJournalError(path, str(exc)) from None
    if content.header.base_version != base:
        raise CorruptJournalError(
            path, f"its header says base version {content.header.base_version}"
        )
    return content


def _read_header(path: Path) -> ConfigHeader:
    with path.open("rb") as handle:
        line = handle.readline(_HEADER_LIMIT)
    if not line.endswith(b"\n"):
        raise FormatError("no complete header line")
    return decode_header(line[:-1])


def _check_version(version: int) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version must be a non-negative integer, not {version!r}")


def _check_pending_for(pending: PendingConfirm | None, version: int) -> None:
    if pending is not None and pending.version != version:
        raise ValueError(f"pending record is for version {pending.version}, not {version}")
