"""On-disk encoding of the journal: segment files of framed commit records.

A segment ``journal/00000042.log`` holds the commits after version 42 (its base). It
starts with one sealed JSON line (``format``, ``base_version``, ``created_at_ns``,
``validated_by``, ``sha256``), written atomically with the file. Frames follow back to
back; each is appended by one write and made durable by one fdatasync, and carries the
commits of one group commit::

    magic    4 bytes   0x1e "EJ1" (0x1e never appears raw in JSON text)
    length   4 bytes   payload length, big-endian
    sha256  32 bytes   of the length bytes and the payload
    payload            JSON array, one record per commit:
                       {"version", "saved_at_ns", "meta", "delta"} (see journal_delta)

Reading: a frame that fails a check is a torn tail when no valid frame follows it (the
crash hit while it was being written, so nothing in it was acknowledged), and damage
otherwise: ``DamagedJournal`` names the offset, never skipping a record silently.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.datastore.persist_format import FormatError, canonical_json, natural, seal, unseal

JOURNAL_FORMAT = "edge-agent/journal/1"
FRAME_MAGIC = b"\x1eEJ1"
FRAME_HEAD = struct.Struct(">4sI32s")
MAX_PAYLOAD = (1 << 32) - 1

_LENGTH = struct.Struct(">I")
_HEADER_LIMIT = 1 << 16


class DamagedJournal(FormatError):
    """A record that fails a check while valid records follow it: damage, not a tear."""

    def __init__(self, offset: int, problem: str) -> None:
        self.offset = offset
        self.problem = problem
        super().__init__(f"at byte {offset}: {problem}")


@dataclass(frozen=True, slots=True)
class SegmentHeader:
    """What a segment says about itself: the version its records follow, when it was
    created and the schema stamp of the agent that writes it."""

    base_version: int
    created_at_ns: int
    validated_by: str


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One commit: its version, time, meta and the delta from the version before."""

    version: int
    saved_at_ns: int
    meta: Mapping[str, Any]
    delta: list[Any]


@dataclass(frozen=True, slots=True)
class Frame:
    """One durable write: where it sits in the segment and the records it holds."""

    offset: int
    end: int
    records: tuple[JournalRecord, ...]


@dataclass(frozen=True, slots=True)
class SegmentContent:
    """A segment read back: every valid frame, where they end and, when bytes after
    them fail a check (a torn tail), what is wrong with them."""

    header: SegmentHeader
    frames: tuple[Frame, ...]
    end: int
    size: int
    torn: str | None = None

    @property
    def records(self) -> list[JournalRecord]:
        return [record for frame in self.frames for record in frame.records]


def encode_segment_header(header: SegmentHeader) -> bytes:
    fields = {
        "format": JOURNAL_FORMAT,
        "base_version": header.base_version,
        "created_at_ns": header.created_at_ns,
        "validated_by": header.validated_by,
    }
    return seal(fields, "sha256")


def encode_record(
    version: int, saved_at_ns: int, meta: Mapping[str, Any], delta: list[Any]
) -> bytes:
    """One record's payload text; TypeError or ValueError when it is not JSON."""
    return canonical_json(
        {"version": version, "saved_at_ns": saved_at_ns, "meta": dict(meta), "delta": delta}
    )


def encode_frame(records: Sequence[bytes]) -> bytes:
    """One frame holding the already encoded ``records``."""
    payload = b"[" + b",".join(records) + b"]"
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a journal frame of {len(payload)} bytes is too large")
    length = _LENGTH.pack(len(payload))
    digest = hashlib.sha256(length)
    digest.update(payload)
    return FRAME_HEAD.pack(FRAME_MAGIC, len(payload), digest.digest()) + payload


def read_segment(data: bytes) -> SegmentContent:
    """Checks and decodes a whole segment file.

    Raises FormatError when the header line is unusable and DamagedJournal when a frame
    that fails a check is followed by a valid one or a valid frame holds bad records."""
    end = data.find(b"\n", 0, _HEADER_LIMIT)
    if end < 0:
        raise FormatError("no complete header line" if data else "empty file")
    fields = unseal(data[:end], JOURNAL_FORMAT, "sha256", "journal header")
    stamp = fields.get("validated_by")
    if not isinstance(stamp, str):
        raise FormatError("header field 'validated_by' is not a string")
    header = SegmentHeader(natural(fields, "base_version"), natural(fields, "created_at_ns"), stamp)
    frames: list[Frame] = []
    offset = end + 1
    while offset < len(data):
        payload, problem = _frame_at(data, offset)
        if payload is None:
            _refuse_if_valid_frame_follows(data, offset, problem)
            return SegmentContent(header, tuple(frames), offset, len(data), problem)
        stop = offset + FRAME_HEAD.size + len(payload)
        try:
            records = _records(payload)
        except FormatError as err:
            raise DamagedJournal(offset, f"frame with a valid checksum holds {err}") from None
        frames.append(Frame(offset, stop, records))
        offset = stop
    return SegmentContent(header, tuple(frames), offset, len(data))


def highest_version(data: bytes) -> int | None:
    """The highest version in any valid frame of a segment's bytes, damaged or not (so
    that versions stay above everything ever written)."""
    highest = None
    candidate = data.find(FRAME_MAGIC)
    while candidate >= 0:
        payload, _ = _frame_at(data, candidate)
        if payload is not None:
            try:
                versions = [r.version for r in _records(payload)]
            except FormatError:
                versions = []
            if versions:
                highest = max(versions) if highest is None else max(highest, *versions)
        candidate = data.find(FRAME_MAGIC, candidate + 1)
    return highest


def _frame_at(data: bytes, offset: int) -> tuple[bytes | None, str]:
    """The payload of the frame at ``offset``, or None and what is wrong with it."""
    head = data[offset : offset + FRAME_HEAD.size]
    if len(head) < FRAME_HEAD.size:
        return None, f"{len(data) - offset} bytes, too short for a frame header"
    magic, length, checksum = FRAME_HEAD.unpack(head)
    if magic != FRAME_MAGIC:
        return None, "no frame marker"
    start = offset + FRAME_HEAD.size
    payload = data[start : start + length]
    if len(payload) < length:
        return None, f"frame truncated: {len(payload)} of {length} payload bytes"
    digest = hashlib.sha256(_LENGTH.pack(length))
    digest.update(payload)
    if digest.digest() != checksum:
        return None, "frame checksum mismatch"
    return payload, ""


def _refuse_if_valid_frame_follows(data: bytes, offset: int, problem: str) -> None:
    candidate = data.find(FRAME_MAGIC, offset + 1)
    while candidate >= 0:
        if _frame_at(data, candidate)[0] is not None:
            raise DamagedJournal(
                offset, f"{problem}, but a valid frame follows at byte {candidate}"
            )
        candidate = data.find(FRAME_MAGIC, candidate + 1)


def _records(payload: bytes) -> tuple[JournalRecord, ...]:
    try:
        items = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"a payload that is not JSON: {exc}") from None
    if not isinstance(items, list) or not items:
        raise FormatError("a payload that is not a list of records")
    records = []
    for item in items:
        if not isinstance(item, dict):
            raise FormatError("a record that is not a JSON object")
        meta, delta = item.get("meta"), item.get("delta")
        if not isinstance(meta, dict) or not isinstance(delta, list):
            raise FormatError("a record without its meta object or delta list")
        records.append(
            JournalRecord(natural(item, "version"), natural(item, "saved_at_ns"), meta, delta)
        )
    return tuple(records)
