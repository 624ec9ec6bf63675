"""Subscribe (gNMI spec 3.5): SubscribeRequests in, SubscribeResponses out.

The handler checks the first request (it must be a SubscriptionList), opens a telemetry
session for it and then does two things at once: it turns the session's batches into
responses, and it reads the client's later requests (Poll for POLL subscriptions; a
second SubscriptionList, or a Poll on another mode, ends the RPC with INVALID_ARGUMENT).

Responses: by default one Notification per sample and top-level node, i.e. the values
observed at one instant (``TelemetryLimits.bundling``; at most
``max_updates_per_notification`` leaves each), its prefix carrying the request's target
and origin, one Update per leaf with the leaf's full path (``compact_paths``: a common
prefix, relative paths in the updates); paths never carry wildcards. Deletes carry the
highest removed node. ``duplicates`` says how many values of that leaf were coalesced
away.
JSON and JSON_IETF carry each leaf as a scalar JSON value, PROTO as a scalar TypedValue.

Responses are written as bytes (``context.write``; the servicer is registered with a
pass-through serializer, ``agent.northbound.server.add_gnmi_servicer``): a sample that
several sessions share (``agent.telemetry.model.Shared``) is encoded once for all of
them, so a session's own work is writing bytes.

A client that stops reading costs nothing but its own queue: the writer waits on gRPC
flow control while the session coalesces.

With a ``SessionGuard`` the stream follows the user database: when the authenticated
user is removed, gets a new password or a new role, the guard ends the session within
its check interval and the RPC ends with the guard's status (UNAUTHENTICATED or
PERMISSION_DENIED); nothing queued after that is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import grpc

from agent.clock import Clock
from agent.gnmi.encoding import Encoding, parse_encoding
from agent.gnmi.errors import GnmiError
from agent.gnmi.paths import to_data_path
from agent.gnmi.timestamps import timestamp_ns
from agent.gnmi.typed_values import ValueEncoder, value_encoder
from agent.gnmi.wire import (
    SYNC_RESPONSE,
    LeafUpdate,
    leaf_path,
    notification,
    notification_head,
    path_elems,
    path_message,
    varint,
    with_duplicates,
    with_head,
)
from agent.northbound.capabilities import allowed_modules
from agent.northbound.extensions import check_subscribe
from agent.schema.library import ModuleInfo
from agent.schema.nav import NodeInfo, SchemaNavigator
from agent.schema.path import DataPath, PathElem
from agent.security.sessions import Ending, SessionGuard
from agent.security.users import User
from agent.service.streams import StreamScopes
from agent.telemetry import (
    Batch,
    Bundling,
    Delete,
    ErrorKind,
    ListMode,
    Session,
    SessionEnded,
    Shared,
    StreamMode,
    SubscribeSpec,
    Subscription,
    TelemetryError,
    TelemetryService,
    Update,
)

log = logging.getLogger(__name__)

CODES: Final = MappingProxyType(
    {
        ErrorKind.INVALID: grpc.StatusCode.INVALID_ARGUMENT,
        ErrorKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
        ErrorKind.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
        ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
        ErrorKind.UNSUPPORTED: grpc.StatusCode.UNIMPLEMENTED,
    }
)
"""How a refused or ended subscription ends the RPC."""
_CACHE_LIMIT: Final = 65536


class SubscribeHandler:
    """Serves Subscribe RPCs from a TelemetryService.

    The servicer delegates with ``await handler(requests, context, user)``; the handler
    writes the responses. ``sessions`` ends the streams of users who are no longer
    current; ``scopes`` gives each user's view and fair share.
    """

    def __init__(
        self,
        telemetry: TelemetryService,
        clock: Clock,
        *,
        modules: Iterable[ModuleInfo] = (),
        sessions: SessionGuard | None = None,
        scopes: StreamScopes | None = None,
    ) -> None:
        """``scopes``: the view and fair share of each subscriber (None: everything)."""
        self._telemetry = telemetry
        self._clock = clock
        self._modules = {m.name: m for m in modules}
        self._values = ValueEncoders(telemetry.nav)
        self._sessions = sessions
        self._scopes = scopes

    async def __call__(
        self, requests: AsyncIterator[Any], context: Any, user: User | None = None
    ) -> None:
        """Serves one Subscribe RPC, writing its responses with ``context.write``; ends
        the RPC with a status on error. ``user`` (the authenticated caller) names the
        client for the per-client cap (else the peer address does) and is watched by the
        session guard, if any."""
        stream = aiter(requests)
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, _NO_LIST)
            return
        try:
            spec, encoder = self.plan(first)
            view_of, share = (
                self._scopes.of(user) if self._scopes is not None and user else (None, None)
            )
            client = user.name if user is not None else _peer_host(context)
            session = await self._telemetry.open(spec, client, view_of=view_of, share=share)
        except GnmiError as err:
            await _abort(context, err.code, err.message)
            return
        except TelemetryError as err:
            await _abort(context, CODES[err.kind], err.message)
            return
        _on_done(context, session.close)
        revoked: list[Ending] = []
        unwatch = self._watch(user, session, revoked, context)
        reader = asyncio.create_task(self._read_rest(stream, session))
        write = context.write
        try:
            while not revoked:
                try:
                    batch = await session.next()
                except SessionEnded as end:
                    if not revoked and end.error is not None:
                        await _abort(context, CODES[end.error.kind], end.error.message)
                    break
                for response in encoder.responses(batch):
                    if revoked:
                        break
                    await write(response)
            if revoked:
                await _abort(context, revoked[0].code, revoked[0].message)
        finally:
            reader.cancel()
            unwatch()
            session.close()

    def _watch(
        self, user: User | None, session: Session, revoked: list[Ending], context: Any
    ) -> Callable[[], None]:
        """Has the guard end ``session`` (recording why in ``revoked``) if ``user`` is
        no longer current; returns the function that stops watching."""
        if self._sessions is None or user is None:
            return _nothing

        def end(ending: Ending) -> None:
            revoked.append(ending)
            session.fail(TelemetryError(ErrorKind.UNAVAILABLE, ending.message))

        return self._sessions.watch(user, end, peer=_peer(context))

    def plan(self, request: Any) -> tuple[SubscribeSpec, ResponseEncoder]:
        """Checks the first SubscribeRequest; raises GnmiError for what cannot be served."""
        if request.WhichOneof("request") != "subscribe":
            raise GnmiError.invalid_argument(_NO_LIST)
        check_subscribe(request.extension)
        listing = request.subscribe
        encoding = parse_encoding(listing.encoding)
        try:
            mode = ListMode(listing.mode)
        except ValueError:
            raise GnmiError.invalid_argument(
                f"unknown subscription list mode {listing.mode}"
            ) from None
        prefix = listing.prefix if listing.HasField("prefix") else None
        subscriptions: list[Subscription] = []
        origins: list[str] = []
        for index, entry in enumerate(listing.subscription):
            try:
                stream_mode = StreamMode(entry.mode)
            except ValueError:
                raise GnmiError.invalid_argument(
                    f"subscription {index}: unknown mode {entry.mode}"
                ) from None
            path = to_data_path(entry.path, prefix)
            subscriptions.append(
                Subscription(
                    path,
                    stream_mode,
                    sample_interval_ns=entry.sample_interval,
                    suppress_redundant=entry.suppress_redundant,
                    heartbeat_interval_ns=entry.heartbeat_interval,
                )
            )
            origins.append((prefix.origin if prefix is not None else "") or entry.path.origin)
        spec = SubscribeSpec(
            mode,
            tuple(subscriptions),
            updates_only=listing.updates_only,
            modules=allowed_modules(listing.use_models, self._modules),
        )
        encoder = ResponseEncoder(
            Encoding(encoding),
            self._values,
            target=prefix.target if prefix is not None else "",
            origins=origins,
            bundling=self._telemetry.limits.bundling,
            max_updates=self._telemetry.limits.max_updates_per_notification,
            compact_paths=self._telemetry.limits.compact_paths,
            fallback_ns=lambda: timestamp_ns(self._clock),
        )
        return spec, encoder

    async def _read_rest(self, requests: AsyncIterator[Any], session: Session) -> None:
        """Handles the client's requests after the first one."""
        polled = session.spec.mode is ListMode.POLL
        try:
            async for request in requests:
                kind = request.WhichOneof("request")
                if kind == "poll" and polled:
                    await session.poll()
                    continue
                if kind == "poll":
                    message = "Poll is only for POLL subscriptions"
                elif kind == "subscribe":
                    message = "a second SubscriptionList on one Subscribe RPC is not allowed"
                else:
                    message = "a SubscribeRequest without subscribe or poll (aliases are not "
                    message += "part of gNMI 0.10.0)"
                session.fail(TelemetryError(ErrorKind.INVALID, message))
                return
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the client went away
            log.debug("Subscribe request stream ended: %s", err)
            return
        if polled:
            session.finish()  # no more polls can come


_NO_LIST: Final = (
    "the first SubscribeRequest must carry a SubscriptionList (subscribe); there is no "
    "subscription to poll or alias yet"
)


class ValueEncoders:
    """Value encoders by schema node, leaf and encoding, shared by every Subscribe RPC."""

    def __init__(self, nav: SchemaNavigator) -> None:
        self._nav = nav
        self._found: dict[tuple[int, str, int], ValueEncoder] = {}

    def of(self, info: NodeInfo, leaf: str, encoding: int) -> ValueEncoder:
        key = (id(info.node), leaf, encoding)
        found = self._found.get(key)
        if found is None:
            child = self._nav.child(info, leaf)
            leaf_type = child.leaf_type if child is not None else None
            where = DataPath.root().child(info.name).child(leaf)
            found = self._found[key] = value_encoder(leaf_type, encoding, where)
        return found


class _Piece:
    """A container's leaves in one encoding below one prefix depth (kept in the cache
    group's memo, so every RPC encoding alike shares it): per leaf a cell (see ``_cell``);
    the leaf names, values and Updates encoded last, in order; the value map they came
    from."""

    __slots__ = ("cells", "container", "encoded", "info", "last", "names", "row", "seen")

    def __init__(self, container: bytes, info: NodeInfo) -> None:
        self.container = container  # the elem fields of the container below the prefix
        self.info = info
        self.cells: dict[str, list[Any]] = {}
        self.names: tuple[str, ...] = ()
        self.row: list[list[Any]] = []  # the cells of ``names``
        self.last: list[Any] = []
        self.encoded: list[bytes] = []
        self.seen: object = None


def _changed(piece: _Piece, values: Mapping[str, Any]) -> None:
    """Re-encodes, in place, the values that changed since the last map of the same
    leaves in the same order (the common case: a new sample of a container). A leaf's
    values are of one type (the schema's), so equal values encode alike."""
    last, row, out = piece.last, piece.row, piece.encoded
    for index, value in enumerate(values.values()):
        if value != last[index]:
            cell = row[index]
            out[index] = _encoded(cell, value)
            last[index] = value


def _encoded(cell: list[Any], value: Any) -> bytes:
    """The Update of ``value`` for the leaf of ``cell``."""
    heads = cell[2]
    if heads is not None and type(value) is int and cell[3] <= value <= cell[4]:
        encoded = varint(value)
        update: bytes = heads[len(encoded)] + encoded
        return update
    general: bytes = cell[5](value)
    return general


def _cell(leaf: LeafUpdate, encoder: ValueEncoder) -> list[Any]:
    """[value encoded last, its Update, Update heads by varint length (PROTO integers:
    the value's varint completes the Update) or None, low, high, value -> Update]."""
    heads = leaf.varint_heads(encoder.varint_field) if encoder.varint_field else None
    general = encoder.encode
    return [_NOTHING, b"", heads, encoder.low, encoder.high, lambda v: leaf.update(general(v))]


class ResponseEncoder:
    """Turns a session's batches into serialized SubscribeResponses for one RPC.

    A container's leaf paths are encoded once (per encoding and prefix depth, shared by
    every RPC); per message only values that changed and the timestamp are encoded.
    A Shared group is encoded once for all RPCs with equal encoders (``key``).
    Consecutive containers with the same timestamp are bundled as ``bundling`` allows.
    """

    def __init__(
        self,
        encoding: Encoding,
        values: ValueEncoders,
        *,
        target: str,
        origins: Sequence[str],
        bundling: Bundling = Bundling.CONTAINER,
        max_updates: int = 256,
        compact_paths: bool = False,
        fallback_ns: Callable[[], int],
    ) -> None:
        self._encoding = int(encoding)
        self._values = values
        self._target = target
        self._origins = tuple(origins)
        self._bundling = bundling
        self._compact = compact_paths
        self._max = 1 if bundling is Bundling.LEAF else max(1, max_updates)
        self._fallback_ns = fallback_ns
        self._prefixes: dict[tuple[tuple[PathElem, ...], int], bytes] = {}
        self._piece_keys = tuple((_PIECE, self._encoding, depth) for depth in range(16))
        self._head_key: tuple[int, int, tuple[PathElem, ...]] | None = None
        self._head = b""
        self.key = (self._encoding, target, bundling, self._max, compact_paths)
        """Encoders with equal keys (and equal origins) make the same bytes."""

    def responses(self, batch: Batch) -> Iterator[bytes]:
        """The messages of one batch, in order, then sync_response if it carries one."""
        run: list[Update] = []
        for entry in batch.entries:
            if isinstance(entry, Update):
                run.append(entry)
                continue
            if run:
                yield from self._encode(run)
                run = []
            if isinstance(entry, Shared):
                yield from self._shared(entry)
            else:
                yield self._delete(entry)
        if run:
            yield from self._encode(run)
        if batch.sync:
            yield SYNC_RESPONSE

    def _shared(self, shared: Shared) -> list[bytes]:
        tag = shared.items[0].tag if shared.items else 0
        key = (self.key, self._origin(tag))
        found: list[bytes] | None = shared.encoded.get(key)
        if found is None:
            found = shared.encoded[key] = self._encode(shared.items)
        return found

    def _encode(self, items: Sequence[Update]) -> list[bytes]:
        if self._bundling is Bundling.SAMPLE:
            return self._bundled(items)
        out: list[bytes] = []  # a container (LEAF: a leaf) per message
        limit = self._max
        for item in items:
            updates = self._updates(item)
            if len(updates) <= limit:
                out.append(self._message(item, updates))
                continue
            for start in range(0, len(updates), limit):
                out.append(self._message(item, updates[start : start + limit]))
        return out

    def _bundled(self, items: Sequence[Update]) -> list[bytes]:
        """Values of one timestamp, subscription and top-level node share messages."""
        out: list[bytes] = []
        bundle: list[bytes] = []
        first: Update | None = None
        key: tuple[int, int, str] | None = None
        limit = self._max
        for item in items:
            here = (item.timestamp_ns, item.tag, item.path.elems[0].name)
            updates = self._updates(item)
            if bundle and (here != key or len(bundle) + len(updates) > limit):
                out.append(self._message(first, bundle))
                bundle = []
            if not bundle:
                first, key = item, here
            if len(bundle) + len(updates) <= limit:
                bundle += updates
                continue
            for start in range(0, len(updates), limit):  # more than one message holds
                chunk = updates[start : start + limit]
                if len(chunk) < limit:
                    bundle = chunk
                else:
                    out.append(self._message(item, chunk))
        if bundle:
            out.append(self._message(first, bundle))
        return out

    def _base(self, item: Update) -> tuple[PathElem, ...]:
        """The prefix path of a Notification carrying ``item`` (with compact paths)."""
        if not self._compact:
            return ()
        if self._bundling is Bundling.SAMPLE:
            return item.path.elems[:1]
        return item.path.elems

    def _message(self, first: Update | None, updates: list[bytes]) -> bytes:
        assert first is not None
        timestamp = first.timestamp_ns or self._fallback_ns()
        base = self._base(first)
        head_key = (timestamp, first.tag, base)
        if head_key != self._head_key:  # messages of one sample share their head
            self._head_key = head_key
            self._head = notification_head(timestamp, self._prefix(base, first.tag))
        return with_head(self._head, b"".join(updates))

    def _updates(self, item: Update) -> list[bytes]:
        """The item's Updates (with their duplicates counts), in the order of its values;
        a value encoded last time for the container is not encoded again."""
        piece = self._piece(item)
        values = item.values
        if values is not piece.seen:
            names = tuple(values)
            if names == piece.names:
                _changed(piece, values)
            else:
                self._anew(piece, values, names)
            piece.seen = values
        duplicates = item.duplicates
        if not duplicates:
            return piece.encoded
        out = list(piece.encoded)
        for index, name in enumerate(piece.names):
            count = duplicates.get(name)
            if count:
                out[index] = with_duplicates(out[index], count)
        return out

    def _anew(self, piece: _Piece, values: Mapping[str, Any], names: tuple[str, ...]) -> None:
        """Encodes a value map with other leaves (or in another order) than the last one,
        reusing each leaf's latest Update where its value is the same."""
        cells = piece.cells
        row: list[list[Any]] = []
        out: list[bytes] = []
        for name, value in values.items():
            cell = cells.get(name)
            if cell is None:
                cell = cells[name] = self._cell(piece, name)
            if cell[0] != value or type(cell[0]) is not type(value):
                cell[0], cell[1] = value, _encoded(cell, value)
            row.append(cell)
            out.append(cell[1])
        piece.names, piece.row, piece.last, piece.encoded = names, row, list(values.values()), out

    def _piece(self, item: Update) -> _Piece:
        depth = len(self._base(item)) if self._compact else 0
        memo = getattr(item.anchor, "memo", None)
        key = self._piece_keys[depth] if depth < len(self._piece_keys) else None
        if key is None:
            key = (_PIECE, self._encoding, depth)
        found: _Piece | None = memo.get(key) if memo is not None else None
        if found is None or found.info is not item.info:
            elems = path_elems((e.name, e.keys) for e in item.path.elems[depth:])
            found = _Piece(elems, item.info)
            if memo is not None:
                memo[key] = found
        return found

    def _cell(self, piece: _Piece, name: str) -> list[Any]:
        encoder = self._values.of(piece.info, name, self._encoding)
        return _cell(LeafUpdate(leaf_path(piece.container, name)), encoder)

    def _prefix(self, base: tuple[PathElem, ...], tag: int) -> bytes:
        key = (base, tag)
        found = self._prefixes.get(key)
        if found is None:
            if len(self._prefixes) >= _CACHE_LIMIT:
                self._prefixes.clear()
            elems = path_elems((e.name, e.keys) for e in base)
            found = path_message(elems, origin=self._origin(tag), target=self._target)
            self._prefixes[key] = found
        return found

    def _delete(self, item: Delete) -> bytes:
        deleted = path_message(path_elems((e.name, e.keys) for e in item.path.elems))
        prefix = path_message(origin=self._origin(item.tag), target=self._target)
        return notification(item.timestamp_ns or self._fallback_ns(), prefix, deletes=[deleted])

    def _origin(self, tag: int) -> str:
        return self._origins[tag] if 0 <= tag < len(self._origins) else ""


_PIECE: Final = "subscribe"
_NOTHING: Final = object()


def _nothing() -> None:
    return None


def _peer(context: Any) -> str:
    try:
        return str(context.peer())
    except Exception:
        return ""


def _peer_host(context: Any) -> str:
    """``ipv4:127.0.0.1:5000`` -> ``ipv4:127.0.0.1`` (the client, whatever its port)."""
    try:
        peer = str(context.peer())
    except Exception:
        return ""
    host, sep, _ = peer.rpartition(":")
    return host if sep else peer


def _on_done(context: Any, callback: Callable[[], None]) -> None:
    add = getattr(context, "add_done_callback", None)
    if add is None:
        return
    try:
        add(lambda _context: callback())
    except Exception:  # an RPC already over, or a context without callbacks
        log.debug("cannot watch the end of the Subscribe RPC", exc_info=True)


async def _abort(context: Any, code: grpc.StatusCode, message: str) -> None:
    await context.abort(code, message[:4096])
