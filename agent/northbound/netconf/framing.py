"""NETCONF message framing over SSH (RFC 6242 section 4).

Two framings exist: base:1.0 ends each message with ``]]>]]>``; base:1.1 sends each
message as chunks (``\\n#SIZE\\n`` then SIZE bytes, repeated) closed by ``\\n##\\n``.
Hellos always use the end-of-message framing; the session switches to chunks after
the hellos when both peers announced base:1.1.

:class:`Deframer` turns the bytes of a channel into messages without any I/O. A message
longer than the limit is not kept: its bytes are counted and dropped up to its end,
then :class:`TooBig` (with the start of the message, to echo its attributes) stands in
for it, so the session answers ``too-big`` and goes on. Bytes that break the framing
itself (a bad chunk header) raise :class:`FramingError`: the stream cannot be resynced
and the session must end.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

END_OF_MESSAGE: Final = b"]]>]]>"
END_OF_CHUNKS: Final = b"\n##\n"
MAX_CHUNK_SIZE: Final = 4294967295  # RFC 6242: chunk-size is 1..4294967295
_MAX_SIZE_DIGITS: Final = len(str(MAX_CHUNK_SIZE))
PREFIX_BYTES: Final = 4096
"""How much of an oversized message is kept (enough for the ``<rpc>`` start tag)."""


class Framing(enum.Enum):
    """How messages are delimited."""

    END_OF_MESSAGE = "base:1.0"
    CHUNKED = "base:1.1"


class FramingError(ValueError):
    """The byte stream does not follow the framing; it cannot be resynchronised."""


@dataclass(frozen=True, slots=True)
class TooBig:
    """A message over the limit, dropped: its first bytes and its whole size."""

    prefix: bytes
    size: int


def encode(message: bytes, framing: Framing) -> bytes:
    """``message`` framed for sending (one chunk in the chunked framing)."""
    if framing is Framing.END_OF_MESSAGE:
        return message + END_OF_MESSAGE
    if not message:
        raise ValueError("a chunked message holds at least one byte")
    parts = []
    for start in range(0, len(message), MAX_CHUNK_SIZE):
        chunk = message[start : start + MAX_CHUNK_SIZE]
        parts.append(b"\n#%d\n" % len(chunk))
        parts.append(chunk)
    parts.append(END_OF_CHUNKS)
    return b"".join(parts)


class Deframer:
    """Splits received bytes into messages: :meth:`feed` bytes, then call :meth:`next`
    until it returns None. The framing may change between two messages."""

    def __init__(self, max_message_bytes: int) -> None:
        if max_message_bytes <= 0:
            raise ValueError("max_message_bytes must be above 0")
        self._max = max_message_bytes
        self._framing = Framing.END_OF_MESSAGE
        self._buffer = bytearray()
        # The message being collected (chunked framing) or counted while dropped.
        self._message = bytearray()
        self._size = 0
        self._dropping = False
        self._prefix = b""
        self._chunk_left = 0  # bytes of the current chunk still to come
        self._scan_from = 0  # end-of-message framing: where to look for the delimiter

    @property
    def framing(self) -> Framing:
        return self._framing

    @property
    def max_message_bytes(self) -> int:
        return self._max

    @max_message_bytes.setter
    def max_message_bytes(self, limit: int) -> None:
        """A new limit, from the next message on."""
        if limit <= 0:
            raise ValueError("max_message_bytes must be above 0")
        self._max = limit

    @property
    def buffered(self) -> int:
        """Bytes held: received but not yet returned as messages."""
        return len(self._buffer) + len(self._message)

    @property
    def idle(self) -> bool:
        """True between messages (nothing of a next message received yet)."""
        return not self._buffer and not self._size and not self._chunk_left

    def switch(self, framing: Framing) -> None:
        """Uses ``framing`` from the next message on (call between messages)."""
        if self._size or self._chunk_left:
            raise FramingError("the framing changes only between messages")
        self._framing = framing
        self._scan_from = 0

    def feed(self, data: bytes) -> None:
        """Adds received bytes."""
        self._buffer += data

    def next(self) -> bytes | TooBig | None:
        """The next whole message, a TooBig for a dropped one, or None for now.

        Raises FramingError when the bytes break the framing.
        """
        if self._framing is Framing.END_OF_MESSAGE:
            return self._next_delimited()
        return self._next_chunked()

    # base:1.0

    def _next_delimited(self) -> bytes | TooBig | None:
        buffer = self._buffer
        end = buffer.find(END_OF_MESSAGE, self._scan_from)
        if end < 0:
            keep = len(END_OF_MESSAGE) - 1  # a delimiter may straddle two reads
            if self._dropping or self._size + len(buffer) > self._max:
                self._drop(len(buffer) - keep)
            self._scan_from = max(0, len(buffer) - keep)
            return None
        self._scan_from = 0
        body = bytes(buffer[:end])
        del buffer[: end + len(END_OF_MESSAGE)]
        if self._dropping or self._size + len(body) > self._max:
            self._count_dropped(body)
            return self._dropped()
        return body

    def _drop(self, count: int) -> None:
        """Drops the first ``count`` buffered bytes of an oversized message."""
        if count <= 0:
            return
        self._count_dropped(bytes(self._buffer[:count]))
        del self._buffer[:count]

    def _count_dropped(self, data: bytes) -> None:
        if not self._dropping:
            self._dropping = True
            self._prefix = bytes(self._message[:PREFIX_BYTES])
            self._message.clear()
        if len(self._prefix) < PREFIX_BYTES:
            self._prefix += data[: PREFIX_BYTES - len(self._prefix)]
        self._size += len(data)

    def _dropped(self) -> TooBig:
        result = TooBig(self._prefix, self._size)
        self._dropping = False
        self._prefix = b""
        self._size = 0
        self._message.clear()
        return result

    # base:1.1

    def _next_chunked(self) -> bytes | TooBig | None:
        buffer = self._buffer
        while True:
            if self._chunk_left:
                if not buffer:
                    return None
                taken = min(self._chunk_left, len(buffer))
                self._take(bytes(buffer[:taken]))
                del buffer[:taken]
                self._chunk_left -= taken
                continue
            header = self._header()
            if header is None:
                return None
            if header == 0:  # end of chunks
                if self._dropping:
                    return self._dropped()
                body = bytes(self._message)
                self._message.clear()
                self._size = 0
                return body
            self._chunk_left = header

    def _header(self) -> int | None:
        """Consumes one chunk header: its size, 0 for the end of chunks, None when
        incomplete. Raises FramingError for anything else."""
        buffer = self._buffer
        if len(buffer) < 2:
            if buffer and buffer[:1] != b"\n":
                raise FramingError(f"expected a chunk header, got {bytes(buffer[:16])!r}")
            return None
        if buffer[:2] != b"\n#":
            raise FramingError(f"expected a chunk header, got {bytes(buffer[:16])!r}")
        if buffer[2:3] == b"#":
            if len(buffer) < len(END_OF_CHUNKS):
                return None
            if buffer[:4] != END_OF_CHUNKS:
                raise FramingError(f"bad end of chunks {bytes(buffer[:4])!r}")
            if not self._size:
                raise FramingError("end of chunks before any chunk")
            del buffer[:4]
            return 0
        newline = buffer.find(b"\n", 2, 3 + _MAX_SIZE_DIGITS)
        if newline < 0:
            digits = bytes(buffer[2 : 3 + _MAX_SIZE_DIGITS])
            if len(digits) > _MAX_SIZE_DIGITS or (digits and not digits.isdigit()):
                raise FramingError(f"bad chunk size {digits[:16]!r}")
            return None
        digits = bytes(buffer[2:newline])
        if not digits.isdigit() or digits.startswith(b"0"):
            raise FramingError(f"bad chunk size {digits!r}")
        size = int(digits)
        if size > MAX_CHUNK_SIZE:
            raise FramingError(f"chunk size {size} above {MAX_CHUNK_SIZE}")
        del buffer[: newline + 1]
        return size

    def _take(self, data: bytes) -> None:
        """Adds chunk data to the message, or counts it once the message is too big."""
        if self._dropping or self._size + len(data) > self._max:
            self._count_dropped(data)
            return
        self._message += data
        self._size += len(data)
