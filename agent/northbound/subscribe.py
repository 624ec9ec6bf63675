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
from agent.gnmi.json_value import dump_json
from agent.gnmi.paths import to_data_path
from agent.gnmi.pb import PathMsg, TypedValueMsg, gnmi_pb2
from agent.gnmi.scalars import leaf_typed_value, untyped_typed_value
from agent.gnmi.timestamps import timestamp_ns
from agent.gnmi.tree_codec import json_leaf
from agent.northbound.capabilities import allowed_modules
from agent.northbound.extensions import check_subscribe
from agent.schema.leaf_types import SIGNED_INTS, UNSIGNED_INTS, BaseType, LeafType
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

Setter = Callable[[TypedValueMsg, Any], None]


class SubscribeHandler:
    """Serves Subscribe RPCs from a TelemetryService.

    The servicer delegates with ``async for r in handler.subscribe(requests, context):
    yield r`` (or calls the handler itself with the authenticated user, whose name then
    counts against the per-client cap; without one the peer address does). ``sessions``
    ends the streams of users who are no longer current.
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
        self._sessions = sessions
        self._scopes = scopes

    def __call__(
        self, requests: AsyncIterator[Any], context: Any, user: User | None = None
    ) -> AsyncIterator[Any]:
        name = None if user is None else user.name
        return self.subscribe(requests, context, client=name, user=user)

    async def subscribe(
        self,
        request_iterator: AsyncIterator[Any],
        context: Any,
        *,
        client: str | None = None,
        user: User | None = None,
    ) -> AsyncIterator[Any]:
        """The responses of one Subscribe RPC; ends the RPC with a status on error.

        ``user`` (the authenticated caller) is watched by the session guard, if any.
        """
        requests = aiter(request_iterator)
        try:
            first = await anext(requests)
        except StopAsyncIteration:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, _NO_LIST)
            return
        try:
            spec, encoder = self.plan(first)
            view_of, share = (
                self._scopes.of(user) if self._scopes is not None and user else (None, None)
            )
            session = await self._telemetry.open(
                spec, client or _peer_host(context), view_of=view_of, share=share
            )
        except GnmiError as err:
            await _abort(context, err.code, err.message)
            return
        except TelemetryError as err:
            await _abort(context, CODES[err.kind], err.message)
            return
        _on_done(context, session.close)
        revoked: list[Ending] = []
        unwatch = self._watch(user, session, revoked, context)
        reader = asyncio.create_task(self._read_rest(requests, session))
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
                    yield response
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
            self._telemetry.nav,
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


class _Piece:
    """How to encode one container's leaves below a bundle prefix: the serialized
    Updates (paths only) and a value setter per leaf, in the order of ``keys``."""

    __slots__ = ("keys", "setters", "skeleton", "uint")

    def __init__(self, keys: tuple[str, ...], skeleton: bytes, setters: list[Setter]) -> None:
        self.keys = keys
        self.skeleton = skeleton
        self.setters = setters
        self.uint = all(s is _set_uint for s in setters)


class ResponseEncoder:
    """Turns a session's batches into SubscribeResponses for one RPC.

    A Notification's skeleton (prefix and leaf paths) is serialized once per container
    and leaf set and parsed back for each message; only timestamps and values are set
    per message. Consecutive containers with the same timestamp are bundled as
    ``bundling`` allows.
    """

    def __init__(
        self,
        encoding: Encoding,
        nav: SchemaNavigator,
        *,
        target: str,
        origins: Sequence[str],
        bundling: Bundling = Bundling.CONTAINER,
        max_updates: int = 256,
        compact_paths: bool = False,
        fallback_ns: Callable[[], int],
    ) -> None:
        self._encoding = encoding
        self._nav = nav
        self._target = target
        self._origins = tuple(origins)
        self._bundling = bundling
        self._compact = compact_paths
        self._max = 1 if bundling is Bundling.LEAF else max(1, max_updates)
        self._fallback_ns = fallback_ns
        self._pieces: dict[tuple[object, int, int], _Piece] = {}
        self._prefixes: dict[tuple[tuple[PathElem, ...], int], bytes] = {}
        self._setters: dict[tuple[int, str], Setter] = {}

    def responses(self, batch: Batch) -> Iterator[Any]:
        bundle: list[tuple[Update, Mapping[str, Any]]] = []
        key: tuple[int, int, tuple[PathElem, ...]] | None = None
        count = 0
        for item in batch.items:
            if isinstance(item, Delete):
                if bundle:
                    yield self._notification(bundle)
                    bundle, count = [], 0
                yield self._delete(item)
                continue
            here = (item.timestamp_ns, item.tag, self._base(item))  # what may share a message
            for values in self._chunks(item.values):
                size = len(values)
                if bundle and (here != key or count + size > self._max):
                    yield self._notification(bundle)
                    bundle, count = [], 0
                bundle.append((item, values))
                key = here
                count += size
        if bundle:
            yield self._notification(bundle)
        if batch.sync:
            yield gnmi_pb2.SubscribeResponse(sync_response=True)

    def _base(self, item: Update) -> tuple[PathElem, ...]:
        """The prefix path of the Notification that can carry ``item``; with full paths
        the container still decides what shares a message (unless SAMPLE)."""
        if self._bundling is Bundling.SAMPLE:
            return item.path.elems[:1]
        return item.path.elems

    def _prefix_depth(self, base: tuple[PathElem, ...]) -> int:
        return len(base) if self._compact else 0

    def _chunks(self, values: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        if len(values) <= self._max:
            yield values
            return
        leaves = list(values.items())
        for start in range(0, len(leaves), self._max):
            yield dict(leaves[start : start + self._max])

    def _notification(self, bundle: list[tuple[Update, Mapping[str, Any]]]) -> Any:
        first = bundle[0][0]
        base = self._base(first)
        depth = self._prefix_depth(base)
        skeleton = [self._prefix(base[:depth], first.tag)]
        pieces = []
        for item, values in bundle:
            piece = self._piece(item, values, depth)
            skeleton.append(piece.skeleton)
            pieces.append(piece)
        response = gnmi_pb2.SubscribeResponse()
        notification = response.update
        notification.MergeFromString(b"".join(skeleton))
        notification.timestamp = first.timestamp_ns or self._fallback_ns()
        updates = iter(notification.update)
        for (_, values), piece in zip(bundle, pieces, strict=True):
            # the values come first: zip stops on them without taking another update
            if piece.uint:
                for value, update in zip(values.values(), updates, strict=False):
                    update.val.uint_val = int(value)
            else:
                for value, setter, update in zip(
                    values.values(), piece.setters, updates, strict=False
                ):
                    setter(update.val, value)
        index = 0
        for (item, _), piece in zip(bundle, pieces, strict=True):
            duplicates = item.duplicates
            if duplicates:
                for offset, leaf in enumerate(piece.keys):
                    if leaf in duplicates:
                        notification.update[index + offset].duplicates = duplicates[leaf]
            index += len(piece.keys)
        return response

    def _prefix(self, base: tuple[PathElem, ...], tag: int) -> bytes:
        key = (base, tag)
        found = self._prefixes.get(key)
        if found is None:
            if len(self._prefixes) >= _CACHE_LIMIT:
                self._prefixes.clear()
            prefix = _path_msg(DataPath(base), origin=self._origin(tag), target=self._target)
            found = gnmi_pb2.Notification(prefix=prefix).SerializeToString()
            self._prefixes[key] = found
        return found

    def _piece(self, item: Update, values: Mapping[str, Any], depth: int) -> _Piece:
        keys = tuple(values)
        piece_key = (item.anchor, item.tag, depth)
        found = self._pieces.get(piece_key)
        if found is None or found.keys != keys:
            below = DataPath(item.path.elems[depth:])
            skeleton = gnmi_pb2.Notification()
            for leaf in keys:
                path = skeleton.update.add().path
                for elem in below.elems:
                    path.elem.add(name=elem.name, key=dict(elem.keys))
                path.elem.add(name=leaf)
            setters = [self._setter(item.info, leaf) for leaf in keys]
            found = _Piece(keys, skeleton.SerializeToString(), setters)
            if len(self._pieces) >= _CACHE_LIMIT:
                self._pieces.clear()
            self._pieces[piece_key] = found
        return found

    def _delete(self, item: Delete) -> Any:
        response = gnmi_pb2.SubscribeResponse()
        notification = response.update
        notification.timestamp = item.timestamp_ns or self._fallback_ns()
        notification.prefix.origin = self._origin(item.tag)
        notification.prefix.target = self._target
        notification.delete.append(_path_msg(item.path))
        return response

    def _origin(self, tag: int) -> str:
        return self._origins[tag] if 0 <= tag < len(self._origins) else ""

    def _setter(self, info: NodeInfo, leaf: str) -> Setter:
        key = (id(info.node), leaf)
        found = self._setters.get(key)
        if found is None:
            child = self._nav.child(info, leaf)
            leaf_type = child.leaf_type if child is not None else None
            where = DataPath.root().child(info.name).child(leaf)
            found = self._setters[key] = value_setter(leaf_type, self._encoding, where)
        return found


def value_setter(leaf: LeafType | None, encoding: Encoding, where: DataPath) -> Setter:
    """A function that writes a leaf's RFC 7951 value into a TypedValue in ``encoding``.

    Common scalar types take a short path; everything else goes through the wire
    layer's general leaf conversions, so the results are the same as Get's.
    """
    if leaf is None:
        return _untyped(encoding, where)
    base = leaf.base
    if not leaf.is_list:
        if encoding is Encoding.PROTO:
            if base in UNSIGNED_INTS:
                return _set_uint
            if base in SIGNED_INTS:
                return _set_int
            if base is BaseType.BOOLEAN:
                return _set_bool
            if base in (BaseType.STRING, BaseType.ENUMERATION):
                return _set_string
        elif base in SIGNED_INTS or base in UNSIGNED_INTS:
            wide = base in (BaseType.INT64, BaseType.UINT64)
            if encoding is Encoding.JSON_IETF and wide:
                return _set_ietf_wide
            return _set_json_int if encoding is Encoding.JSON else _set_ietf_int
        elif base is BaseType.BOOLEAN:
            return _set_json_bool if encoding is Encoding.JSON else _set_ietf_bool
    return _general(leaf, encoding, where)


def _set_uint(typed: TypedValueMsg, value: Any) -> None:
    typed.uint_val = int(value)


def _set_int(typed: TypedValueMsg, value: Any) -> None:
    typed.int_val = int(value)


def _set_bool(typed: TypedValueMsg, value: Any) -> None:
    typed.bool_val = bool(value)


def _set_string(typed: TypedValueMsg, value: Any) -> None:
    typed.string_val = str(value)


def _set_json_int(typed: TypedValueMsg, value: Any) -> None:
    typed.json_val = b"%d" % int(value)


def _set_ietf_int(typed: TypedValueMsg, value: Any) -> None:
    typed.json_ietf_val = b"%d" % int(value)


def _set_ietf_wide(typed: TypedValueMsg, value: Any) -> None:
    typed.json_ietf_val = b'"%d"' % int(value)


def _set_json_bool(typed: TypedValueMsg, value: Any) -> None:
    typed.json_val = b"true" if value else b"false"


def _set_ietf_bool(typed: TypedValueMsg, value: Any) -> None:
    typed.json_ietf_val = b"true" if value else b"false"


def _general(leaf: LeafType, encoding: Encoding, where: DataPath) -> Setter:
    def convert(value: Any) -> Any:
        return json_leaf(value, leaf, where, ietf=encoding is Encoding.JSON_IETF)

    if encoding is Encoding.PROTO:

        def proto(typed: TypedValueMsg, value: Any) -> None:
            try:
                typed.CopyFrom(leaf_typed_value(value, leaf, where))
            except GnmiError as err:
                raise GnmiError.internal(f"cannot encode stored value: {err.message}") from err

        return proto
    if encoding is Encoding.JSON_IETF:

        def ietf(typed: TypedValueMsg, value: Any) -> None:
            typed.json_ietf_val = dump_json(convert(value))

        return ietf

    def json(typed: TypedValueMsg, value: Any) -> None:
        typed.json_val = dump_json(convert(value))

    return json


def _untyped(encoding: Encoding, where: DataPath) -> Setter:
    if encoding is Encoding.PROTO:

        def proto(typed: TypedValueMsg, value: Any) -> None:
            typed.CopyFrom(untyped_typed_value(value, where))

        return proto

    def text(typed: TypedValueMsg, value: Any) -> None:
        if encoding is Encoding.JSON_IETF:
            typed.json_ietf_val = dump_json(value)
        else:
            typed.json_val = dump_json(value)

    return text


def _path_msg(path: DataPath, *, origin: str = "", target: str = "") -> PathMsg:
    message = gnmi_pb2.Path(origin=origin, target=target)
    for elem in path.elems:
        message.elem.add(name=elem.name, key=dict(elem.keys))
    return message


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
