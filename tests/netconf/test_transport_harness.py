"""Helpers for the NETCONF transport tests (this module holds no tests).

A NetconfServer on 127.0.0.1 (ephemeral port) runs on its own event loop thread with a
small operation table of its own (echo, whoami, fail, ...) next to close-session and
kill-session, so the tests do not depend on the real operations. Clients are
netconf-client (paramiko, blocking, in the test's thread) and a raw asyncssh client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
from lxml import etree
from netconf_client.connect import connect_ssh
from netconf_client.session import Session

from agent.clock import FakeClock
from agent.northbound.netconf.contracts import (
    NS_BASE,
    Element,
    HandlerTable,
    RpcContext,
    RpcError,
    RpcErrors,
    qname,
)
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.framing import Deframer, Framing, TooBig, encode
from agent.northbound.netconf.registry import (
    SessionEvent,
    SessionLimits,
    SessionRegistry,
    lock_session_name,
)
from agent.northbound.netconf.server import NetconfOptions, NetconfServer
from agent.northbound.netconf.session_ops import session_operations
from agent.northbound.netconf.sshkeys import ensure_host_key
from agent.security.audit import AuditLog
from agent.security.throttle import LoginThrottle, ThrottlePolicy
from agent.security.users import Role, UserStore
from agent.service.locks import RUNNING, DatastoreLocks, LockHolder
from tests.northbound.harness import FAST_SCRYPT

T = TypeVar("T")
NS_TEST = "urn:example:test"
TEST_CAPABILITY = "urn:example:capability:test:1.0"
TIMEOUT = 20.0
USERS = {
    "admin": ("admin-pw", Role.ADMIN),
    "alice": ("alice-pw", Role.READ_ONLY),
    "bob": ("bob-pw", Role.READ_ONLY),
}
BASE_1_0_HELLO = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>'
    b"<capability>urn:ietf:params:netconf:base:1.0</capability>"
    b"</capabilities></hello>"
)
BASE_1_1_HELLO = BASE_1_0_HELLO.replace(
    b"</capabilities>", b"<capability>urn:ietf:params:netconf:base:1.1</capability></capabilities>"
)


@dataclass(frozen=True)
class Module:
    name: str
    revision: str
    namespace: str


MODULES = (Module("example-a", "2024-01-02", "urn:example:a"), Module("example-b", "", "urn:b"))


def rpc(body: str, message_id: str | None = "1", **attributes: str) -> bytes:
    """An ``<rpc>`` document around ``body``."""
    attrs = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    if message_id is not None:
        attrs = f' message-id="{message_id}"' + attrs
    return f'<rpc xmlns="{NS_BASE}"{attrs}>{body}</rpc>'.encode()


def echo(text: str = "hi", message_id: str = "1") -> bytes:
    return rpc(f'<echo xmlns="{NS_TEST}"><said>{text}</said></echo>', message_id)


def operations_table(locks: DatastoreLocks) -> HandlerTable:
    """Operations in the test namespace."""

    def op(rpc_element: Element) -> Element:
        return next(child for child in rpc_element if isinstance(child.tag, str))

    async def echo_op(context: RpcContext, rpc_element: Element) -> Element:
        made = etree.Element(qname(NS_TEST, "echoed"), nsmap={None: NS_TEST})
        for child in op(rpc_element):
            made.append(child)
        return made

    async def whoami(context: RpcContext, rpc_element: Element) -> list[Element]:
        user = etree.Element(qname(NS_TEST, "user"))
        user.text = context.user.name
        session = etree.Element(qname(NS_TEST, "session"))
        session.text = str(context.session_id)
        return [user, session]

    async def fail(context: RpcContext, rpc_element: Element) -> None:
        raise ValueError("boom\nTraceback (most recent call last): secret detail")

    async def errors(context: RpcContext, rpc_element: Element) -> None:
        raise RpcErrors(
            (
                RpcError("invalid-value", "first", info={"bad-element": "a"}),
                RpcError("data-missing", "second", path="/x:y"),
            )
        )

    async def refuse(context: RpcContext, rpc_element: Element) -> None:
        raise RpcError("access-denied", "not you", "protocol")

    async def big(context: RpcContext, rpc_element: Element) -> Element:
        made = etree.Element(qname(NS_TEST, "big"))
        made.text = "x" * int(op(rpc_element).get("size", "1000"))
        return made

    async def notify(context: RpcContext, rpc_element: Element) -> None:
        assert context.send is not None
        for number in range(int(op(rpc_element).get("count", "1"))):
            notification = etree.Element(
                qname("urn:ietf:params:xml:ns:netconf:notification:1.0", "notification")
            )
            etree.SubElement(notification, qname(NS_TEST, "event")).text = str(number)
            await context.send(notification)

    async def sleep(context: RpcContext, rpc_element: Element) -> None:
        await asyncio.sleep(60)

    async def lock(context: RpcContext, rpc_element: Element) -> None:
        name = lock_session_name(context.session_id)
        locks.lock(RUNNING, LockHolder(name, context.user.name, f"NETCONF session {name}"))

    return {
        qname(NS_TEST, "echo"): echo_op,
        qname(NS_TEST, "whoami"): whoami,
        qname(NS_TEST, "fail"): fail,
        qname(NS_TEST, "errors"): errors,
        qname(NS_TEST, "refuse"): refuse,
        qname(NS_TEST, "big"): big,
        qname(NS_TEST, "notify"): notify,
        qname(NS_TEST, "sleep"): sleep,
        qname(NS_TEST, "lock"): lock,
    }


class ServerThread:
    """A NetconfServer with the test operations on an event loop in a thread."""

    def __init__(
        self,
        state_dir: Path,
        *,
        limits: SessionLimits | None = None,
        throttle: LoginThrottle | None = None,
        **options: Any,
    ) -> None:
        self.state_dir = state_dir
        self.clock = FakeClock()
        self.users = UserStore(state_dir / "users.json", scrypt=FAST_SCRYPT)
        for name, (password, role) in USERS.items():
            self.users.add(name, role, password)
        self.audit = AuditLog.in_state_dir(state_dir, clock=self.clock)
        self.registry = SessionRegistry(self.clock, limits)
        self.events: list[SessionEvent] = []
        self.registry.listen(self.events.append)
        self.locks = DatastoreLocks()
        self.throttle = throttle
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        handler = Dispatcher([session_operations(self.registry), operations_table(self.locks)])
        self.server = NetconfServer(
            handler,
            users=self.users,
            registry=self.registry,
            host_key=ensure_host_key(state_dir),
            state_dir=state_dir,
            options=NetconfOptions(host="127.0.0.1", port=0, **options),
            capabilities=[TEST_CAPABILITY],
            modules=MODULES,
            throttle=throttle,
            audit=self.audit,
            release_locks=self.locks.release_all,
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    def call(self, function: Any, *args: Any) -> Any:
        """Runs a plain function on the server's loop (to read its state safely)."""

        async def call() -> Any:
            return function(*args)

        return self.run(call())

    def start(self) -> ServerThread:
        self._thread.start()
        self.run(self.server.start())
        return self

    def stop(self) -> None:
        try:
            self.run(self.server.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(TIMEOUT)
            self.loop.close()
            self.audit.close()

    @property
    def port(self) -> int:
        return self.server.port

    def session_ids(self) -> list[int]:
        return self.call(lambda: [info.session_id for info in self.registry.sessions()])

    def wait_for(self, condition: Any, timeout: float = TIMEOUT) -> None:
        """Waits until ``condition()`` (run on the server's loop) is true."""

        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.01)

        asyncio.run_coroutine_threadsafe(asyncio.wait_for(poll(), timeout), self.loop).result(
            timeout + 1
        )


def throttle(peer_failures: int = 3) -> LoginThrottle:
    """A throttle on a clock that does not move: a lock-out lasts until the test ends."""
    policy = ThrottlePolicy(peer_failures=peer_failures, lockout_s=600, max_lockout_s=600)
    return LoginThrottle(policy, clock=FakeClock())


def client(port: int, user: str = "admin", password: str | None = None) -> Session:
    """A netconf-client session (base:1.1 after the hellos)."""
    secret = password if password is not None else USERS[user][0]
    return connect_ssh(
        host="127.0.0.1",
        port=port,
        username=user,
        password=secret,
        initial_timeout=TIMEOUT,
        general_timeout=TIMEOUT,
    )


def call(session: Session, message: bytes) -> Element:
    """Sends ``message`` and returns the parsed reply (RpcError for an rpc-error)."""
    _raw, element = session.send_rpc(message).result(TIMEOUT)
    return element


class RawClient:
    """A raw asyncssh client on the netconf subsystem: bytes in, bytes out."""

    def __init__(self, conn: Any, writer: Any, reader: Any) -> None:
        self.conn = conn
        self.writer = writer
        self.reader = reader
        self.deframer = Deframer(1 << 30)
        self.framing = Framing.END_OF_MESSAGE

    @classmethod
    async def connect(
        cls, port: int, user: str = "admin", password: str | None = None, **options: Any
    ) -> RawClient:
        conn = await asyncssh.connect(
            "127.0.0.1",
            port,
            username=user,
            password=password if password is not None else USERS[user][0],
            known_hosts=None,
            client_keys=None,
            agent_path=None,
            **options,
        )
        writer, reader, _ = await conn.open_session(subsystem="netconf", encoding=None)
        return cls(conn, writer, reader)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def send_message(self, message: bytes) -> None:
        self.writer.write(encode(message, self.framing))

    async def hello(self, hello: bytes = BASE_1_0_HELLO) -> Element:
        """Exchanges hellos; the framing follows."""
        server = etree.fromstring(await self.receive())
        self.send_message(hello)
        if b"base:1.1" in hello:
            self.framing = Framing.CHUNKED
            self.deframer.switch(Framing.CHUNKED)
        return server

    async def receive(self) -> bytes:
        """The next whole message; EOFError when the server closed."""

        async def read() -> bytes:
            while True:
                found = self.deframer.next()
                if isinstance(found, TooBig):
                    raise AssertionError("the server sent an oversized message")
                if found is not None:
                    return found
                data = await self.reader.read(65536)
                if not data:
                    raise EOFError("the server closed the session")
                self.deframer.feed(data)

        return await asyncio.wait_for(read(), TIMEOUT)

    async def reply(self, message: bytes) -> Element:
        self.send_message(message)
        return etree.fromstring(await self.receive())

    async def closed(self) -> bool:
        """True once the server closed the channel (nothing else arrived first)."""
        try:
            data = await asyncio.wait_for(self.reader.read(65536), TIMEOUT)
        except (asyncssh.Error, OSError):
            return True
        return data == b""

    async def close(self) -> None:
        self.conn.close()
        await self.conn.wait_closed()


def errors_of(reply: Element) -> list[dict[str, Any]]:
    """The rpc-errors of a reply, as dictionaries of their children's text."""
    found = []
    for error in reply.iterfind(qname(NS_BASE, "rpc-error")):
        entry: dict[str, Any] = {}
        for child in error:
            name = etree.QName(child).localname
            if name == "error-info":
                entry[name] = {etree.QName(c).localname: c.text for c in child}
            else:
                entry[name] = child.text
        found.append(entry)
    return found


def tags(reply: Element) -> Sequence[str]:
    return [error["error-tag"] for error in errors_of(reply)]
