"""Get (gNMI spec 3.3): requested paths -> one Notification each.

Configuration comes from the running snapshot (no lock, no driver read); state is read
from the drivers, only for the entities a path names, in one batched sample per path.
Answers per path:

- data exists: one Update per matching node (JSON/JSON_IETF: the subtree; PROTO: one per
  leaf), paths relative to the echoed prefix, never with wildcards;
- a concrete path whose data does not exist (or an unset leaf): NOT_FOUND;
- a wildcard path that matches nothing, or a path that cannot hold data of the requested
  ``type``: a Notification without updates;
- unknown schema node: NOT_FOUND; malformed path: INVALID_ARGUMENT; unsupported
  encoding, origin or model: UNIMPLEMENTED.

Configuration is reported as configured (defaults are not filled in); the ``state``
containers show the values the hardware runs, defaults included.

Three caches keep Gets cheap: checked requests by their wire bytes (checking depends
only on the schema), the encoded updates of configuration-only paths by what the access
sees and the identity of the configuration object the path reaches (a commit elsewhere
in the site keeps them), and the JSON text of configuration
subtrees by the identity of their immutable objects, so that a Get after a commit, or
one with state, encodes only what the commit changed plus the state (TreeWriter).
Driver state is never cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from agent.cancellation import checkpoint
from agent.clock import Clock
from agent.datastore.selection import selection_for
from agent.gnmi.encoding import Encoding, encode_updates, parse_encoding
from agent.gnmi.errors import GnmiError, path_text
from agent.gnmi.paths import to_data_path
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.schema_info import SchemaInfo
from agent.gnmi.timestamps import timestamp_ns
from agent.gnmi.tree_writer import TreeWriter
from agent.gnmi.wire import varint
from agent.mapping.state_tree import Selection
from agent.northbound.capabilities import allowed_modules
from agent.northbound.extensions import get_depth
from agent.northbound.lru import Lru
from agent.northbound.view import EMPTY, DataType, DataView, Shape, limit_depth
from agent.schema.library import ModuleInfo
from agent.schema.path import DataPath
from agent.service.views import FULL_VIEW, View

QUERY_CACHE_SIZE = 1024
QUERY_CACHE_BYTES = 4 * 1024 * 1024
"""Request bytes the checked-request cache holds at most."""
QUERY_CACHE_MAX_REQUEST = 16 * 1024
"""Requests larger than this are checked every time, never cached."""
UPDATE_CACHE_SIZE = 1024
ANSWER_CACHE_SIZE = 256
"""Requests whose whole answer is kept for the running version it was made for (the
bodies themselves are shared with the update cache)."""
UPDATE_CACHE_BYTES = 32 * 1024 * 1024
"""Encoded updates (and their request keys) kept at most (larger answers are not cached)."""


class StateSource(Protocol):
    """Reads driver state: ``running`` with a ``state`` container in every selected entry."""

    def read(self, running: Mapping[str, Any], selection: Selection) -> dict[str, Any]: ...


class RunningSource(Protocol):
    """Where the running configuration comes from (the Datastore)."""

    @property
    def running(self) -> Any:
        """A snapshot with ``tree`` (RFC 7951 configuration) and ``version``."""
        ...


@dataclass(frozen=True, slots=True)
class _PathQuery:
    message: Any  # the request's gnmi.Path
    path: DataPath  # prefix + path
    shape: Shape
    needs_state: bool


@dataclass(frozen=True, slots=True)
class GetQuery:
    """A checked GetRequest, ready to be answered."""

    key: bytes | None  # the request's wire form (None: too big to be a cache key)
    prefix: Any  # the echoed prefix for every Notification, or None
    relative_to: DataPath | None  # response paths are relative to this
    queries: tuple[_PathQuery, ...]
    data_type: DataType
    encoding: Encoding
    depth: int
    models: frozenset[str] | None  # None: every module

    @property
    def needs_state(self) -> bool:
        """True when answering reads drivers (callers may run it off the event loop)."""
        return any(q.needs_state for q in self.queries)


class GetHandler:
    """Answers GetRequests from the running configuration and driver state."""

    def __init__(
        self,
        running: RunningSource,
        view: DataView,
        schema: SchemaInfo,
        state: StateSource,
        clock: Clock,
        modules: Iterable[ModuleInfo],
    ) -> None:
        self._running = running
        self._view = view
        self._schema = schema
        self._state = state
        self._clock = clock
        self._modules = {m.name: m for m in modules}
        self._writer = TreeWriter(schema, view.holds_config_only)
        self._queries: Lru[bytes, GetQuery] = Lru(QUERY_CACHE_SIZE, budget=QUERY_CACHE_BYTES)
        self._bodies: Lru[tuple[bytes, int, Any, int], tuple[Any, bytes]] = Lru(
            UPDATE_CACHE_SIZE, budget=UPDATE_CACHE_BYTES
        )
        # (request, view) -> (the running version and tree answered, the bodies): a request
        # repeated while nothing was committed needs no look-up at all (no reference to
        # the tree is kept)
        self._answers: Lru[tuple[bytes, Any], tuple[tuple[int, int], list[bytes]]] = Lru(
            ANSWER_CACHE_SIZE
        )

    @property
    def cached_request_bytes(self) -> int:
        """Request bytes the checked-request cache holds now."""
        return self._queries.weight

    def prepare(self, request: Any) -> GetQuery:
        """Checks a GetRequest; raises GnmiError for what cannot be answered.

        Checked requests are remembered by their wire bytes within a byte budget; a
        request larger than QUERY_CACHE_MAX_REQUEST is never kept (nothing a request
        carries outlives it unless the budget allows)."""
        if request.ByteSize() > QUERY_CACHE_MAX_REQUEST:
            return self._prepare(request, None)  # checked every time; never copied
        key = request.SerializeToString(deterministic=True)
        query = self._queries.get(key)
        if query is None:
            query = self._prepare(request, key)
            self._queries.put(key, query, weight=len(key))
        return query

    def _prepare(self, request: Any, key: bytes | None) -> GetQuery:
        encoding = parse_encoding(request.encoding)
        try:
            data_type = DataType(request.type)
        except ValueError:
            raise GnmiError.invalid_argument(f"unknown Get type {request.type}") from None
        depth = get_depth(request.extension)
        models = allowed_modules(request.use_models, self._modules)
        prefix_msg = request.prefix if request.HasField("prefix") else None
        prefix_path = to_data_path(None, prefix_msg) if prefix_msg is not None else None
        paths = list(request.path) or [gnmi_pb2.Path()]
        queries = []
        for message in paths:
            path = to_data_path(message, prefix_msg)
            shape = self._view.shape(path)
            if models is not None and shape.module is not None and shape.module not in models:
                raise GnmiError.not_found(
                    f"{path_text(path)} is defined by {shape.module}, which use_models leaves out"
                )
            needs_state = data_type is not DataType.CONFIG and shape.state
            queries.append(_PathQuery(message, path, shape, needs_state))
        concrete = prefix_path is None or self._view.shape(prefix_path).concrete
        echo, relative_to = _response_prefix(prefix_msg, prefix_path, concrete)
        return GetQuery(key, echo, relative_to, tuple(queries), data_type, encoding, depth, models)

    def respond(self, query: GetQuery, view: View = FULL_VIEW) -> bytes:
        """The serialized GetResponse: one Notification per requested path, in request
        order, of the data in ``view`` (outside it nothing exists: NOT_FOUND, or no
        updates).

        Reads drivers and encodes; callers run it in a request worker, where it stops at
        a cancellation checkpoint once its request is over."""
        running = self._running.running
        bodies = []
        for index in range(len(query.queries)):
            body = self._body(query, index, running, view)
            assert body is not None  # only a cached_only look-up comes back empty
            bodies.append(body)
        return _response(bodies, timestamp_ns(self._clock))

    def cached_response(self, query: GetQuery, view: View = FULL_VIEW) -> bytes | None:
        """The serialized GetResponse when every path's answer is already encoded for
        the running version (cheap enough for the event loop); None otherwise."""
        if query.needs_state:
            return None
        running = self._running.running
        key = (query.key, getattr(view, "signature", None)) if query.key is not None else None
        known = self._answers.get(key) if key is not None else None
        answered = (running.version, id(running.tree))
        if known is not None and known[0] == answered:
            return _response(known[1], timestamp_ns(self._clock))
        bodies = []
        for index in range(len(query.queries)):
            body = self._body(query, index, running, view, cached_only=True)
            if body is None:
                return None
            bodies.append(body)
        if key is not None:
            self._answers.put(key, (answered, bodies))
        return _response(bodies, timestamp_ns(self._clock))

    def _body(
        self, query: GetQuery, index: int, running: Any, view: View, *, cached_only: bool = False
    ) -> bytes | None:
        """The serialized Notification of path ``index`` without its timestamp (the
        answer's time is added by ``_response``); None when ``cached_only`` and it is not
        encoded yet."""
        q = query.queries[index]
        if not q.shape.reaches(query.data_type):
            return self._serialized(query, [])
        if q.needs_state:
            if cached_only:
                return None
            tree = view.project(self._state.read(running.tree, selection_for(q.path)))
            return self._serialized(query, self._updates_of(query, q, tree))
        if query.key is None:
            if cached_only:
                return None
            return self._serialized(query, self._updates_of(query, q, view.project(running.tree)))
        anchor = self._anchor(running.tree, q)
        key = (query.key, index, getattr(view, "signature", None), id(anchor))
        known = self._bodies.get(key)
        if known is not None and known[0] is anchor:
            return known[1]
        if cached_only:
            return None
        body = self._serialized(query, self._updates_of(query, q, view.project(running.tree)))
        self._bodies.put(key, (anchor, body), weight=len(query.key) + len(body))
        return body

    @staticmethod
    def _serialized(query: GetQuery, updates: list[Any]) -> bytes:
        notification = gnmi_pb2.Notification(update=updates)
        if query.prefix is not None:
            notification.prefix.CopyFrom(query.prefix)
        body: bytes = notification.SerializeToString()
        return body

    def _anchor(self, tree: dict[str, Any], q: _PathQuery) -> Any:
        """The object at the longest concrete prefix of ``path`` in the running tree.

        An answer of configuration depends on that object (trees are immutable: a commit
        that changes anything below it makes a new one) and on what the view shows, so
        the encoded answer is kept by both and outlives commits elsewhere in the site: a
        tenant's Get of its slice stays cached while another tenant commits."""
        if q.shape.concrete:  # the common case: the path itself
            found = self._view.lookup(tree, q.path, q.shape)
            return found[0][1] if found else None
        elems = q.path.elems
        end = next(
            (
                n
                for n, elem in enumerate(elems)
                if elem.name in ("*", "...") or any(v == "*" for _, v in elem.keys)
            ),
            len(elems),
        )
        while end > 0 and not self._view.shape(DataPath(elems[:end])).concrete:
            end -= 1
        found = self._view.lookup(tree, DataPath(elems[:end]))
        return found[0][1] if found else None

    def _updates_of(self, query: GetQuery, q: _PathQuery, tree: dict[str, Any]) -> list[Any]:
        matches = self._view.lookup(tree, q.path, q.shape)
        if not matches and q.shape.concrete:
            raise GnmiError.not_found(f"{path_text(q.path)}: no data")
        origin = q.message.origin if query.prefix is None or not query.prefix.origin else ""
        updates: list[Any] = []
        for concrete, value in matches:
            checkpoint()
            shown = self._filtered(query, concrete, value, q.shape)
            if shown is EMPTY:
                continue
            for update in encode_updates(
                concrete,
                shown,
                query.encoding,
                self._schema,
                prefix=query.relative_to,
                writer=self._writer,
            ):
                if origin:
                    update.path.origin = origin
                updates.append(update)
        return updates

    def _filtered(self, query: GetQuery, path: DataPath, value: Any, shape: Shape) -> Any:
        if query.models is not None:
            value = self._in_models(path, value, query.models)
            if value is EMPTY:
                return EMPTY
        if query.data_type is not DataType.ALL:
            value = self._view.prune(path, value, query.data_type)
            if value is EMPTY:
                return EMPTY
        return limit_depth(value, query.depth)

    def _in_models(self, path: DataPath, value: Any, models: frozenset[str]) -> Any:
        if path.elems:
            module = self._view.info_of(DataPath(path.elems[:1])).module
            return value if module in models else EMPTY
        if not isinstance(value, dict):
            return value
        kept = {k: v for k, v in value.items() if k.partition(":")[0] in models}
        return kept if kept else EMPTY


def _response(bodies: list[bytes], timestamp: int) -> bytes:
    """A serialized GetResponse of Notifications ``bodies`` (each without a timestamp),
    every one stamped ``timestamp`` (Notification field 1; GetResponse field 1)."""
    stamp = b"\x08" + varint(max(timestamp, 1))
    return b"".join(b"\x0a" + varint(len(stamp) + len(b)) + stamp + b for b in bodies)


def _response_prefix(
    prefix: Any, prefix_path: DataPath | None, concrete: bool
) -> tuple[Any, DataPath | None]:
    """The prefix to echo and the path response paths are relative to.

    The request's prefix is echoed as is (target included, never invented). A prefix that
    expands to several nodes (wildcards, unkeyed lists) cannot be echoed, as responses
    carry no wildcards: then only its origin and target are echoed and response paths
    are absolute.
    """
    if prefix is None or prefix_path is None:
        return None, None
    echo = gnmi_pb2.Path()
    echo.CopyFrom(prefix)
    if not concrete:
        del echo.elem[:]
        del echo.element[:]
        return echo, None
    return echo, prefix_path
