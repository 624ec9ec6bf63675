"""An in-process site for telemetry tests: the real datastore and mock drivers on a
FakeClock, the TelemetryService on a ManualTimer, and (optionally) a grpc.aio server on
127.0.0.1 whose minimal servicer delegates Subscribe to SubscribeHandler, driven by a
grpc.aio client with our stubs. Everything runs on one event loop; time moves only when
a test calls ``advance``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc import aio

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.hardware import DevicePool
from agent.datastore.persistence import ConfigStore
from agent.drivers.interface import Driver
from agent.drivers.registry import DriverRegistry
from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc
from agent.northbound.server import add_gnmi_servicer
from agent.northbound.subscribe import SubscribeHandler
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.security.errors import AuthenticationError
from agent.security.users import UserStore
from agent.telemetry.limits import TelemetryLimits
from agent.telemetry.service import TelemetryService
from agent.telemetry.timer import ManualTimer

T = TypeVar("T")
STEP = 10  # seconds any single await in a test may take before it counts as a hang


class PoolDrivers(Mapping[str, Driver]):
    """The device pool's current drivers (as the composition root provides them)."""

    def __init__(self, pool: DevicePool) -> None:
        self._pool = pool

    def __getitem__(self, name: str) -> Driver:
        return self._pool.drivers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pool.drivers)

    def __len__(self) -> int:
        return len(self._pool.drivers)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a test coroutine on a fresh event loop."""
    return asyncio.run(coroutine)


async def within(awaitable: Any, seconds: float = STEP) -> Any:
    """Awaits with a real-time guard, so a broken test fails instead of hanging."""
    return await asyncio.wait_for(awaitable, seconds)


class Site:
    """Datastore, drivers and telemetry for one configuration tree."""

    def __init__(
        self,
        engine: SchemaEngine,
        state_dir: Path,
        tree: dict[str, Any],
        *,
        limits: TelemetryLimits | None = None,
    ) -> None:
        self.engine = engine
        self.clock = FakeClock()
        registry = DriverRegistry.discover()
        self.pool = DevicePool(lambda config: registry.create(config, self.clock))
        self.datastore = Datastore(
            engine, self.pool, ConfigStore(state_dir, clock=self.clock), self.clock
        )
        self.tree = tree
        self.timer: ManualTimer | None = None
        self.telemetry: TelemetryService | None = None
        self.limits = limits

    async def start(self) -> Site:
        await asyncio.to_thread(self.datastore.start, self.tree)
        self.timer = ManualTimer(self.clock)
        self.telemetry = TelemetryService(
            self.datastore,
            PoolDrivers(self.pool),
            self.engine.nav,
            self.clock,
            limits=self.limits,
            timer=self.timer,
        )
        await self.telemetry.start()
        await within(self.timer.settled())
        return self

    async def stop(self) -> None:
        if self.telemetry is not None:
            await self.telemetry.stop()
        await asyncio.to_thread(self.datastore.stop)

    @property
    def service(self) -> TelemetryService:
        assert self.telemetry is not None
        return self.telemetry

    async def advance(self, seconds: float) -> None:
        """Moves time forward, running every sample that falls due."""
        assert self.timer is not None
        await within(self.timer.advance(seconds), 120)

    async def settle(self) -> None:
        assert self.timer is not None
        await within(self.timer.settled())

    def hardware(self, device: str) -> Any:
        """The mock hardware behind a device's driver."""
        return self.pool.drivers[device].backend  # type: ignore[attr-defined]

    async def commit(self, *edits: Edit) -> None:
        await asyncio.to_thread(self.datastore.commit, list(edits))
        await self.settle()


def path(text: str, *, origin: str = "", target: str = "") -> Any:
    """A gnmi.Path from ``/a/b[k=v]`` text."""
    message = gnmi_pb2.Path(origin=origin, target=target)
    for elem in DataPath.parse(text).elems:
        name = f"{elem.module}:{elem.name}" if elem.module else elem.name
        message.elem.add(name=name, key=dict(elem.keys))
    return message


def path_text(message: Any) -> str:
    parts = [e.name + "".join(f"[{k}={v}]" for k, v in sorted(e.key.items())) for e in message.elem]
    return "/" + "/".join(parts)


def subscription_list(
    *paths: str,
    mode: int = 0,
    stream_mode: int = 0,
    sample_interval: int = 0,
    heartbeat_interval: int = 0,
    suppress_redundant: bool = False,
    updates_only: bool = False,
    encoding: int = 0,
    prefix: Any = None,
    **fields: Any,
) -> Any:
    """A SubscribeRequest carrying a SubscriptionList."""
    listing = gnmi_pb2.SubscriptionList(
        mode=mode, updates_only=updates_only, encoding=encoding, **fields
    )
    if prefix is not None:
        listing.prefix.CopyFrom(prefix)
    for text in paths:
        listing.subscription.add(
            path=path(text),
            mode=stream_mode,
            sample_interval=sample_interval,
            heartbeat_interval=heartbeat_interval,
            suppress_redundant=suppress_redundant,
        )
    return gnmi_pb2.SubscribeRequest(subscribe=listing)


def leaves_of(response: Any) -> dict[str, Any]:
    """``{'/full/leaf/path': value}`` of one update response (values decoded)."""
    out: dict[str, Any] = {}
    notification = response.update
    prefix = path_text(notification.prefix) if notification.HasField("prefix") else ""
    for update in notification.update:
        full = prefix.rstrip("/") + path_text(update.path)
        kind = update.val.WhichOneof("value")
        raw = getattr(update.val, kind)
        out[full] = json.loads(raw) if kind in ("json_val", "json_ietf_val") else raw
    return out


class _Servicer(gnmi_pb2_grpc.gNMIServicer):  # type: ignore[misc]
    """Subscribe only; with ``users``, callers log in with username/password metadata."""

    def __init__(self, handler: SubscribeHandler, users: UserStore | None = None) -> None:
        self._handler = handler
        self._users = users

    async def Subscribe(self, request_iterator: Any, context: Any) -> Any:  # noqa: N802
        user = None
        if self._users is not None:
            metadata = dict(context.invocation_metadata() or ())
            try:
                user = self._users.authenticate(
                    str(metadata.get("username", "")), str(metadata.get("password", ""))
                )
            except AuthenticationError as err:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, err.message)
        await self._handler(request_iterator, context, user)


class Stream:
    """One Subscribe RPC from the client side."""

    def __init__(self, stub: Any, first: Any, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        """``first`` None: the client closes its side without sending anything."""
        self._outgoing: asyncio.Queue[Any] = asyncio.Queue()
        self._outgoing.put_nowait(first)
        self.call = stub.Subscribe(self._requests(), metadata=metadata or None)

    async def _requests(self) -> AsyncIterator[Any]:
        while True:
            request = await self._outgoing.get()
            if request is None:
                return
            yield request

    def send(self, request: Any) -> None:
        self._outgoing.put_nowait(request)

    def poll(self) -> None:
        self.send(gnmi_pb2.SubscribeRequest(poll=gnmi_pb2.Poll()))

    def done_writing(self) -> None:
        self._outgoing.put_nowait(None)

    async def read(self) -> Any:
        """The next response; aio.EOF at the end of the stream."""
        return await within(self.call.read())

    async def until_sync(self) -> list[Any]:
        """Responses up to (not including) the next sync_response."""
        out = []
        while True:
            response = await self.read()
            assert response is not aio.EOF, "the stream ended before sync_response"
            if response.sync_response:
                return out
            out.append(response)

    async def status(self) -> tuple[grpc.StatusCode, str]:
        """Reads to the end and returns the final status."""
        while True:
            try:
                response = await self.read()
            except aio.AioRpcError as err:
                return err.code(), err.details() or ""
            if response is aio.EOF:
                code = await self.call.code()
                return code, await self.call.details()

    def cancel(self) -> None:
        self.call.cancel()


class Server:
    """A grpc.aio server on 127.0.0.1 (ephemeral port) serving Subscribe only."""

    def __init__(
        self, site: Site, *, users: UserStore | None = None, **handler_options: Any
    ) -> None:
        """``users``: callers must log in (see ``open``'s ``login``)."""
        self.site = site
        self.users = users
        self.handler = SubscribeHandler(
            site.service, site.clock, modules=site.engine.modules, **handler_options
        )
        self.server: Any = None
        self.channels: list[Any] = []

    async def start(self) -> Server:
        self.server = aio.server()
        add_gnmi_servicer(_Servicer(self.handler, self.users), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        return self

    def open(self, first: Any, login: tuple[str, str] | None = None) -> Stream:
        """A new Subscribe RPC; ``login`` is (username, password)."""
        channel = aio.insecure_channel(f"127.0.0.1:{self.port}")
        self.channels.append(channel)
        metadata = () if login is None else (("username", login[0]), ("password", login[1]))
        return Stream(gnmi_pb2_grpc.gNMIStub(channel), first, metadata)

    async def stop(self) -> None:
        for channel in self.channels:
            await channel.close()
        if self.server is not None:
            await self.server.stop(None)


@contextlib.asynccontextmanager
async def serving(
    engine: SchemaEngine,
    state_dir: Path,
    tree: dict[str, Any],
    *,
    limits: TelemetryLimits | None = None,
) -> AsyncIterator[tuple[Site, Server]]:
    """A started site and a Subscribe server for it, stopped afterwards."""
    site = await Site(engine, state_dir, tree, limits=limits).start()
    server = await Server(site).start()
    try:
        yield site, server
    finally:
        await server.stop()
        await site.stop()


def limits(**changes: Any) -> TelemetryLimits:
    return replace(TelemetryLimits(), **changes)
