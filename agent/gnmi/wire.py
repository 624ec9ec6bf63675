"""gNMI messages assembled as protobuf wire bytes: what Subscribe sends, built once.

Telemetry encodes a sample once and hands the same bytes to every subscriber, so the
parts of a SubscribeResponse are kept as bytes and joined, never built as protobuf
objects: a leaf's path is encoded once per container (``leaf_path``), its Update per
value (``LeafUpdate``: the path bytes and the varint lengths around the value are
precomputed), and a Notification is the timestamp, the prefix and the Updates joined
(``notification``). The output is what ``SerializeToString`` of the same messages
gives (field order by number); tests parse it back with the generated classes.

Field numbers (gnmi.proto 0.10.0): SubscribeResponse update=1, sync_response=3;
Notification timestamp=1, prefix=2, update=4, delete=5; Update path=1, val=3,
duplicates=4; Path origin=2, elem=3, target=4; PathElem name=1, key=2 (map entries
key=1, value=2); TypedValue per ``agent.gnmi.typed_values``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

_LOW: Final = 0x3FFF  # 14 bits: one table lookup gives two varint bytes
_U64: Final = (1 << 64) - 1


def _short_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_TAIL: Final = tuple(_short_varint(n) for n in range(_LOW + 1))
"""The varint of every 14-bit number (the last one or two bytes of a varint)."""
_BODY: Final = tuple(bytes(((n & 0x7F) | 0x80, (n >> 7) | 0x80)) for n in range(_LOW + 1))
"""Fourteen bits of a longer varint: two bytes, both with the continuation bit."""


def varint(value: int) -> bytes:
    """The base-128 varint of ``value`` (0 <= value < 2**64; negative int64 values are
    encoded as their two's complement, ten bytes, as protobuf does)."""
    if value < 0:
        value &= _U64
    if value <= _LOW:
        return _TAIL[value]
    if value < 1 << 28:
        return _BODY[value & _LOW] + _TAIL[value >> 14]
    if value < 1 << 42:
        return _BODY[value & _LOW] + _BODY[(value >> 14) & _LOW] + _TAIL[value >> 28]
    if value < 1 << 56:
        return (
            _BODY[value & _LOW]
            + _BODY[(value >> 14) & _LOW]
            + _BODY[(value >> 28) & _LOW]
            + _TAIL[value >> 42]
        )
    return (  # up to 70 bits: every uint64 (and timestamps in ns)
        _BODY[value & _LOW]
        + _BODY[(value >> 14) & _LOW]
        + _BODY[(value >> 28) & _LOW]
        + _BODY[(value >> 42) & _LOW]
        + _TAIL[value >> 56]
    )


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a string, bytes or a nested message)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def path_elem(name: str, keys: Iterable[tuple[str, str]] = ()) -> bytes:
    """A ``gnmi.PathElem`` message."""
    out = field(1, name.encode("utf-8"))
    for key, value in keys:
        out += field(2, field(1, key.encode("utf-8")) + field(2, value.encode("utf-8")))
    return out


def path_elems(elems: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> bytes:
    """The ``elem`` fields of a ``gnmi.Path`` for (name, keys) pairs: concatenated with
    more elem fields, they extend the path."""
    return b"".join(field(3, path_elem(name, keys)) for name, keys in elems)


def path_message(elems: bytes = b"", *, origin: str = "", target: str = "") -> bytes:
    """A ``gnmi.Path`` from its elem fields (``path_elems``), origin and target."""
    out = field(2, origin.encode("utf-8")) if origin else b""
    out += elems
    if target:
        out += field(4, target.encode("utf-8"))
    return out


def leaf_path(container: bytes, leaf: str) -> bytes:
    """The ``path`` field of an Update for ``leaf`` below a container whose elem fields
    are ``container``."""
    return field(1, container + field(3, path_elem(leaf)))


class LeafUpdate:
    """Encodes Updates of one leaf at one path: ``update(typed_value)`` for a serialized
    TypedValue; ``varint_update(field, n)`` for a TypedValue that is a varint field (a
    PROTO integer), without building the TypedValue first (``varint_heads(field)[k]`` is
    such an Update up to a value whose varint has ``k`` bytes)."""

    __slots__ = ("_heads", "_path")

    def __init__(self, path_field: bytes) -> None:
        self._path = path_field
        self._heads: dict[int, tuple[bytes, ...]] = {}

    def update(self, typed_value: bytes) -> bytes:
        body = self._path + b"\x1a" + varint(len(typed_value)) + typed_value
        return b"\x22" + varint(len(body)) + body

    def varint_update(self, number: int, value: int) -> bytes:
        """The Update whose value is the varint ``value`` in TypedValue field ``number``."""
        encoded = varint(value)
        return self.varint_heads(number)[len(encoded)] + encoded

    def varint_heads(self, number: int) -> tuple[bytes, ...]:
        """Everything before the value's varint, by the varint's length (1..10)."""
        found = self._heads.get(number)
        if found is not None:
            return found
        tag = bytes((number << 3,))
        heads = [b""]
        for size in range(1, 11):
            typed = 1 + size  # the tag byte and the varint
            body = len(self._path) + 2 + typed
            heads.append(b"\x22" + varint(body) + self._path + b"\x1a" + bytes((typed,)) + tag)
        found = self._heads[number] = tuple(heads)
        return found


def with_duplicates(update: bytes, duplicates: int) -> bytes:
    """An Update (as ``LeafUpdate`` makes it) with its ``duplicates`` count set."""
    start = 1
    while update[start] & 0x80:
        start += 1
    body = update[start + 1 :] + b"\x20" + varint(duplicates)
    return b"\x22" + varint(len(body)) + body


SYNC_RESPONSE: Final = b"\x18\x01"
"""A SubscribeResponse with ``sync_response`` true."""


def notification(
    timestamp_ns: int, prefix: bytes, updates: Sequence[bytes] = (), deletes: Sequence[bytes] = ()
) -> bytes:
    """A SubscribeResponse carrying one Notification: ``prefix`` is a serialized Path
    (always present, possibly empty), ``updates`` serialized Update fields (as
    ``LeafUpdate`` makes them), ``deletes`` serialized Paths."""
    body = b"".join(updates)
    for path in deletes:
        body += b"\x2a" + varint(len(path)) + path
    return with_head(notification_head(timestamp_ns, prefix), body)


def notification_head(timestamp_ns: int, prefix: bytes) -> bytes:
    """The timestamp and prefix fields of a Notification: the same for every message of
    one sample (see ``with_head``)."""
    return b"\x08" + varint(timestamp_ns) + b"\x12" + varint(len(prefix)) + prefix


def with_head(head: bytes, body: bytes) -> bytes:
    """A SubscribeResponse whose Notification is ``head`` (``notification_head``) and then
    ``body`` (its Update and delete fields, joined)."""
    return b"\x0a" + varint(len(head) + len(body)) + head + body
