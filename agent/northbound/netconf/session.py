"""One NETCONF session (RFC 6241) over a byte channel, independent of SSH.

The session sends its hello at once and waits for the client's; until both are
exchanged messages use the end-of-message framing, then chunks if both sides announced
base:1.1. A missing, late or wrong client hello (an ``<rpc>`` first, no base
capability, a session id) ends the session. After the hellos each ``<rpc>`` is parsed
safely and answered in order by the RpcHandler: replies echo the ``<rpc>`` attributes;
RpcError and RpcErrors become ``<rpc-error>``; any other exception is an
``operation-failed`` with one log line. A message that is not XML, not an ``<rpc>``,
without message-id or over the size limit gets an ``<rpc-error>`` and the session goes
on; bytes that break the framing end it. A session idle for too long, whose user was
removed or changed, or whose client went away ends; its datastore locks are released
and the registry forgets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from lxml import etree

from agent.northbound.netconf.contracts import (
    BASE_1_1,
    NS_BASE,
    Element,
    EncodedData,
    RpcContext,
    RpcError,
    RpcErrors,
    RpcHandler,
    qname,
)
from agent.northbound.netconf.errors import render
from agent.northbound.netconf.framing import Deframer, Framing, FramingError, TooBig, encode
from agent.northbound.netconf.hello import (
    ClientHello,
    HelloError,
    parse_client_hello,
    server_hello,
)
from agent.northbound.netconf.messages import MalformedMessage, parse_message, start_tag
from agent.northbound.netconf.registry import (
    Counter,
    SessionInfo,
    SessionRegistry,
    TerminationReason,
)
from agent.northbound.netconf.replies import (
    ErrorRenderer,
    data_reply,
    error_reply,
    rpc_reply,
    serialize,
)
from agent.security.users import User

log = logging.getLogger(__name__)

RPC: Final = qname(NS_BASE, "rpc")
_PARSE_IN_THREAD: Final = 256 * 1024  # larger messages are parsed off the event loop
_MAX_QUEUED: Final = 32  # pipelined messages held before the channel stops reading
MAX_HELLO_BYTES: Final = 1024 * 1024  # a client hello is parsed on the event loop


class Channel(Protocol):
    """What a session needs from its transport."""

    def write(self, data: bytes) -> None:
        """Queues bytes for the client."""
        ...

    async def drain(self) -> None:
        """Returns once the transport's send buffer is low enough."""
        ...

    def close(self) -> None:
        """Ends the transport (the session has ended)."""
        ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """The behaviour of every session of a server."""

    capabilities: tuple[str, ...]  # the server hello's, bases included
    max_message_bytes: int = 64 * 1024 * 1024
    idle_timeout_s: float = 3600.0
    hello_timeout_s: float = 30.0
    user_check_s: float = 1.0  # how often an idle session looks at its user
    render_error: ErrorRenderer = render


Revoked = Callable[[User], str | None]
"""Why a user authenticated earlier may no longer act (removed, ...), or None."""


class NetconfSession:
    """The protocol state of one session; the transport feeds it bytes."""

    def __init__(
        self,
        info: SessionInfo,
        registry: SessionRegistry,
        handler: RpcHandler,
        channel: Channel,
        options: SessionOptions,
        *,
        release_locks: Callable[[str], None] | None = None,
        revoked: Revoked | None = None,
    ) -> None:
        self.info = info
        self._registry = registry
        self._handler = handler
        self._channel = channel
        self._options = options
        self._release_locks = release_locks
        self._revoked = revoked
        self._deframer = Deframer(min(options.max_message_bytes, MAX_HELLO_BYTES))
        self._framing = Framing.END_OF_MESSAGE
        self._hello: ClientHello | None = None
        self.context: RpcContext | None = None
        self._queue: deque[bytes | TooBig] = deque()
        self._queued_bytes = 0
        self._paused = False
        self._wake = asyncio.Event()
        self._eof = False
        self._ending: tuple[TerminationReason, int | None] | None = None
        self._closed = False  # the channel is gone or closed
        self._ended = asyncio.Event()
        self._end_after_reply: TerminationReason | None = None
        self._last_activity = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def session_id(self) -> int:
        return self.info.session_id

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def framing(self) -> Framing:
        """The framing of messages now (chunked after a base:1.1 hello exchange)."""
        return self._framing

    def start(self) -> None:
        """Sends the server hello and starts answering."""
        loop = asyncio.get_running_loop()
        self.info.terminate = self.terminate
        self._last_activity = loop.time()
        hello = server_hello(self.session_id, self._options.capabilities)
        self._channel.write(encode(hello, Framing.END_OF_MESSAGE))
        self._registry.totals.in_sessions += 1
        self._task = loop.create_task(self._run(), name=f"netconf-session-{self.session_id}")
        # A task cancelled before its first step never runs its finally: clean up here too.
        self._task.add_done_callback(lambda _task: self._cleanup())

    async def terminate(self, reason: TerminationReason, killed_by: int | None = None) -> None:
        """Ends the session (an RPC in progress is cancelled); returns once it has ended."""
        self._end(reason, killed_by)
        if self._task is not None and self._task is not asyncio.current_task():
            await self._ended.wait()

    # From the transport

    def data_received(self, data: bytes) -> None:
        if self._ending is not None:
            return
        self._deframer.feed(data)
        try:
            while self._ending is None:
                item = self._deframer.next()
                if item is None:
                    break
                if self._hello is None:
                    self._accept_hello(item)
                    continue
                self._queue.append(item)
                self._queued_bytes += len(item) if isinstance(item, bytes) else len(item.prefix)
                self._wake.set()
        except FramingError as exc:
            log.warning("%s: bad framing, closing the session: %s", self._name(), exc)
            self._end(TerminationReason.DROPPED)
            return
        # The deframer holds at most one message of the limit; complete messages
        # waiting for their turn are bounded here.
        if not self._paused and (
            len(self._queue) >= _MAX_QUEUED or self._queued_bytes >= self._options.max_message_bytes
        ):
            self._paused = True
            self._channel.pause_reading()

    def eof_received(self) -> None:
        """The client sends no more: queued RPCs are still answered."""
        self._eof = True
        if self._hello is None:
            self._end(TerminationReason.DROPPED)
        self._wake.set()

    def connection_lost(self) -> None:
        self._closed = True
        self._end(TerminationReason.DROPPED)

    # The hello

    def _accept_hello(self, item: bytes | TooBig) -> None:
        try:
            if isinstance(item, TooBig):
                raise HelloError(f"a <hello> of {item.size} bytes is over the message limit")
            hello = parse_client_hello(parse_message(item))
        except (MalformedMessage, HelloError) as exc:
            log.warning("%s: bad hello, closing the session: %s", self._name(), exc)
            self._end(TerminationReason.BAD_HELLO)
            return
        self._hello = hello
        self._framing = hello.framing
        self._deframer.switch(hello.framing)
        self._deframer.max_message_bytes = self._options.max_message_bytes
        self.context = RpcContext(
            session_id=self.session_id,
            user=self.info.user,
            peer=self.info.peer,
            capabilities=hello.capabilities,
            close=self._close_requested,
            kill=self._kill,
            send=self._send_notification,
        )
        self.info.context = self.context
        self._registry.started(self.info)
        log.info(
            "%s: started (%s framing)",
            self._name(),
            "chunked" if hello.framing is Framing.CHUNKED else "end-of-message",
        )
        self._wake.set()

    # The RPC loop

    async def _run(self) -> None:
        try:
            if await self._wait_for_hello():
                while True:
                    item = await self._next_item()
                    if item is None:
                        break
                    await self._serve(item)
                    if self._end_after_reply is not None:
                        self._end(self._end_after_reply)
                        break
        except asyncio.CancelledError:
            if self._ending is None:
                self._ending = (TerminationReason.OTHER, None)
                raise
        except Exception as exc:  # a bug: one line, the session ends
            log.error("%s: ended by %s: %s", self._name(), type(exc).__name__, exc)
            log.debug("session failure", exc_info=True)
            self._end(TerminationReason.OTHER)
        finally:
            self._cleanup()

    async def _wait_for_hello(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._options.hello_timeout_s
        while self._hello is None and self._ending is None:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - loop.time()))
            if self._hello is None and self._ending is None and loop.time() >= deadline:
                log.warning(
                    "%s: no <hello> within %.0f s, closing the session",
                    self._name(),
                    self._options.hello_timeout_s,
                )
                self._end(TerminationReason.TIMEOUT)
        return self._ending is None

    async def _next_item(self) -> bytes | TooBig | None:
        """The next received message; None once the session ends (idle, EOF, ...)."""
        loop = asyncio.get_running_loop()
        idle = self._options.idle_timeout_s
        while self._ending is None:
            if self._queue:
                item = self._queue.popleft()
                self._queued_bytes -= len(item) if isinstance(item, bytes) else len(item.prefix)
                if (
                    self._paused
                    and len(self._queue) < _MAX_QUEUED // 2
                    and self._queued_bytes < self._options.max_message_bytes // 2
                ):
                    self._paused = False
                    self._channel.resume_reading()
                self._last_activity = loop.time()
                return item
            if self._eof:
                self._end(TerminationReason.DROPPED)
                break
            remaining = self._last_activity + idle - loop.time()
            if remaining <= 0:
                log.info("%s: idle for %.0f s, closing the session", self._name(), idle)
                self._end(TerminationReason.TIMEOUT)
                break
            wait = min(remaining, self._options.user_check_s) if self._revoked else remaining
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            if not self._queue and self._user_gone() is not None:
                break
        return None

    async def _serve(self, item: bytes | TooBig) -> None:
        """Answers one received message."""
        if isinstance(item, TooBig):
            found = start_tag(item.prefix)
            attributes, nsmap = (found[1], found[2]) if found and found[0] == RPC else ({}, None)
            limit = self._options.max_message_bytes
            message = f"the message of {item.size} bytes is over the limit of {limit} bytes"
            await self._bad_rpc(attributes, nsmap, RpcError("too-big", message, "rpc"))
            return
        try:
            if len(item) > _PARSE_IN_THREAD:
                document = await asyncio.to_thread(parse_message, item)
            else:
                document = parse_message(item)
        except MalformedMessage as exc:
            await self._bad_rpc({}, None, RpcError(self._malformed_tag(), str(exc), "rpc"))
            return
        problem = _rpc_problem(document)
        attributes, nsmap = dict(document.attrib), dict(document.nsmap)
        if problem is not None:
            echoed = attributes if document.tag == RPC else {}
            await self._bad_rpc(echoed, nsmap if echoed else None, problem)
            return
        self._registry.count(self.info, Counter.IN_RPCS)
        gone = self._user_gone()
        if gone is not None:
            denied = RpcError("access-denied", f"{gone}: the session ends", "protocol")
            await self._reply(self._error_reply(attributes, nsmap, [denied]), errors=True)
            return
        await self._answer(document, attributes, nsmap)

    async def _answer(
        self, document: Element, attributes: dict[str, str], nsmap: dict[str | None, str]
    ) -> None:
        assert self.context is not None
        try:
            body = await self._handler(self.context, document)
        except RpcError as error:
            await self._reply(self._error_reply(attributes, nsmap, [error]), errors=True)
            return
        except RpcErrors as errors:
            await self._reply(self._error_reply(attributes, nsmap, errors.errors), errors=True)
            return
        except Exception as exc:
            operation = _operation_name(document)
            log.error(
                "%s: %s (message-id %s) failed: %s: %s",
                self._name(),
                operation,
                attributes.get("message-id"),
                type(exc).__name__,
                " ".join(str(exc).split())[:300],
            )
            log.debug("operation failure", exc_info=True)
            failed = RpcError(
                "operation-failed",
                f"{operation} failed inside the agent (the agent's log has the details)",
                "application",
            )
            await self._reply(self._error_reply(attributes, nsmap, [failed]), errors=True)
            return
        if body is None:
            await self._reply(rpc_reply(attributes, nsmap), errors=False)
            return
        if isinstance(body, EncodedData):
            data = data_reply(attributes, nsmap, body)
        else:
            elements = body if isinstance(body, list) else [body]
            reply = rpc_reply(attributes, nsmap, elements)
            data = await asyncio.to_thread(serialize, reply)
        if len(data) > self._options.max_message_bytes:
            limit = self._options.max_message_bytes
            too_big = RpcError(
                "too-big",
                f"the reply of {len(data)} bytes would be over the limit of {limit} bytes",
                "application",
            )
            await self._reply(self._error_reply(attributes, nsmap, [too_big]), errors=True)
            return
        await self._write(data)

    async def _bad_rpc(
        self,
        attributes: dict[str, str],
        nsmap: dict[str | None, str] | None,
        error: RpcError,
    ) -> None:
        self._registry.count(self.info, Counter.IN_BAD_RPCS)
        log.info("%s: refused a message: %s", self._name(), error)
        await self._reply(self._error_reply(attributes, nsmap, [error]), errors=True)

    async def _reply(self, reply: Element, *, errors: bool) -> None:
        if errors:
            self._registry.count(self.info, Counter.OUT_RPC_ERRORS)
        await self._write(serialize(reply))

    async def _write(self, message: bytes) -> None:
        if self._closed:
            return
        try:
            self._channel.write(encode(message, self._framing))
            await self._channel.drain()
        except (OSError, EOFError) as exc:
            log.info("%s: the client went away: %s", self._name(), exc)
            self._closed = True
            self._end(TerminationReason.DROPPED)
        self._last_activity = asyncio.get_running_loop().time()

    def _error_reply(
        self,
        attributes: dict[str, str],
        nsmap: dict[str | None, str] | None,
        errors: Iterable[RpcError],
    ) -> Element:
        return error_reply(attributes, nsmap, errors, self._options.render_error)

    def _malformed_tag(self) -> str:
        """malformed-message is new in base:1.1: base:1.0 clients get operation-failed."""
        hello = self._hello
        return (
            "malformed-message" if hello and BASE_1_1 in hello.capabilities else "operation-failed"
        )

    # For the operations (RpcContext)

    def _close_requested(self) -> None:
        if self._end_after_reply is None:
            self._end_after_reply = TerminationReason.CLOSED

    async def _kill(self, session_id: int) -> None:
        await self._registry.kill(session_id, by=self.session_id)

    async def _send_notification(self, notification: Element) -> None:
        """Sends a ``<notification>``, framed like replies; nothing once ended."""
        if self._ending is not None or self._closed:
            return
        data = serialize(notification)
        if len(data) > self._options.max_message_bytes:
            log.warning(
                "%s: a notification of %d bytes is over the message limit, not sent",
                self._name(),
                len(data),
            )
            return
        await self._write(data)
        self._registry.count(self.info, Counter.OUT_NOTIFICATIONS)

    # Ending

    def _user_gone(self) -> str | None:
        """Why the session's user may no longer act (the session then ends), or None."""
        if self._revoked is None:
            return None
        try:
            reason = self._revoked(self.info.user)
        except Exception as exc:
            reason = f"the user database is unavailable ({type(exc).__name__})"
        if reason is not None and self._end_after_reply is None:
            log.warning("%s: %s, closing the session", self._name(), reason)
            self._end_after_reply = TerminationReason.OTHER
            if not self._queue:
                self._end(TerminationReason.OTHER)
        return reason

    def _end(self, reason: TerminationReason, killed_by: int | None = None) -> None:
        if self._ending is not None:
            return
        self._ending = (reason, killed_by)
        self._wake.set()
        task = self._task
        if task is None:
            self._cleanup()
        elif task is not asyncio.current_task() and not task.done():
            task.cancel()

    def _cleanup(self) -> None:
        if self._ended.is_set():
            return
        reason, killed_by = self._ending or (TerminationReason.OTHER, None)
        if self._release_locks is not None:
            try:
                self._release_locks(self.info.lock_session)
            except Exception as exc:
                log.error("%s: releasing its locks failed: %s", self._name(), exc)
        self._registry.remove(self.info, reason, killed_by)
        if not self._closed:
            self._closed = True
            self._channel.close()
        by = f" by session {killed_by}" if killed_by is not None else ""
        log.info("%s: ended (%s%s)", self._name(), reason.value, by)
        self._ended.set()

    def _name(self) -> str:
        return f"NETCONF session {self.session_id} ({self.info.user.name}@{self.info.peer})"


def _rpc_problem(document: Element) -> RpcError | None:
    """What makes ``document`` no ``<rpc>`` we can answer, or None."""
    name = etree.QName(document)
    if document.tag != RPC:
        if name.localname == "rpc":
            return RpcError(
                "unknown-namespace",
                f"<rpc> must be in the namespace {NS_BASE}",
                "protocol",
                info={"bad-element": "rpc", "bad-namespace": name.namespace or ""},
            )
        return RpcError(
            "unknown-element",
            f"expected <rpc>, got <{name.localname}>",
            "protocol",
            info={"bad-element": name.localname},
        )
    if document.get("message-id") is None:
        return RpcError(
            "missing-attribute",
            "the <rpc> has no message-id attribute",
            "rpc",
            info={"bad-attribute": "message-id", "bad-element": "rpc"},
        )
    return None


def _operation_name(document: Element) -> str:
    for child in document:
        if isinstance(child.tag, str):
            return str(etree.QName(child).localname)
    return "the rpc"
