"""An agent running in-process on its own event loop thread, and a gNMI client for it.

The agent is built with ``agent.app.build_agent`` exactly as ``edge-agent serve`` builds
it (only the password hashing is cheaper), listens on 127.0.0.1 on an ephemeral port and
is driven over a real gRPC channel with our own stubs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import grpc

from agent.app import Agent, build_agent
from agent.clock import Clock
from agent.config import ListenAddress, NetconfSettings, Settings, TlsSettings
from agent.datastore.datastore import Running
from agent.gnmi.pb import gnmi_ext_pb2, gnmi_pb2, gnmi_pb2_grpc
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.security.passwords import ScryptParams
from agent.security.users import Role

FAST_SCRYPT = ScryptParams(n=16, r=1, p=1)
TIMEOUT = 20
USERS = {
    "admin": ("admin-pw", Role.ADMIN, None),
    "reader": ("reader-pw", Role.READ_ONLY, None),
    "tenant-a": ("tenant-pw", Role.TENANT, "operator-a"),
    "tenant-b": ("tenant-b-pw", Role.TENANT, "operator-b"),
}
MAX_MESSAGE = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
]

T = TypeVar("T")


def agent_settings(state_dir: Path, *, insecure: bool = True, **changes: Any) -> Settings:
    """Settings for an agent on 127.0.0.1, ephemeral port, ``state_dir``."""
    settings = Settings(
        listen=ListenAddress("127.0.0.1", 0),
        state_dir=state_dir,
        tls=TlsSettings(insecure=insecure),
        commit_check_interval_s=0.05,
        netconf=NetconfSettings(listen=ListenAddress("127.0.0.1", 0)),
    )
    return replace(settings, **changes)


class AgentThread:
    """Runs an Agent on an event loop in a background thread."""

    def __init__(
        self,
        settings: Settings,
        *,
        schema: SchemaEngine | None = None,
        clock: Clock | None = None,
        users: bool = True,
    ) -> None:
        self.agent: Agent = build_agent(settings, scrypt=FAST_SCRYPT, schema=schema, clock=clock)
        if users:
            for name, (password, role, tenant) in USERS.items():
                if self.agent.users.get(name) is None:
                    self.agent.users.add(name, role, password, tenant)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.running: Running | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Runs ``coroutine`` on the agent's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(TIMEOUT)

    def start(self) -> AgentThread:
        self._thread.start()
        self.running = self.run(self.agent.start())
        return self

    def stop(self) -> None:
        try:
            self.run(self.agent.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(TIMEOUT)
            self._loop.close()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.agent.port}"

    def driver(self, device: str) -> Any:
        return self.agent.datastore.devices.drivers[device]

    def hardware(self, device: str) -> Any:
        """The mock hardware behind a device's driver."""
        return self.driver(device).backend


class Client:
    """A gNMI client with our stubs, authenticating as one user."""

    def __init__(
        self,
        target: str,
        user: str | None = "admin",
        password: str | None = None,
        *,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        if credentials is None:
            self.channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
        self.stub = gnmi_pb2_grpc.gNMIStub(self.channel)
        self.metadata: tuple[tuple[str, str], ...] = ()
        if user is not None:
            secret = password if password is not None else USERS[user][0]
            self.metadata = (("username", user), ("password", secret))

    def close(self) -> None:
        self.channel.close()

    def capabilities(self, **fields: Any) -> Any:
        return self.stub.Capabilities(
            gnmi_pb2.CapabilityRequest(**fields), metadata=self.metadata, timeout=TIMEOUT
        )

    def get_request(self, request: Any) -> Any:
        return self.stub.Get(request, metadata=self.metadata, timeout=TIMEOUT)

    def get(self, *paths: str, encoding: int = 0, prefix: str | None = None, **fields: Any) -> Any:
        request = gnmi_pb2.GetRequest(
            path=[path(p) for p in paths] if paths else [],
            encoding=encoding,
            **fields,
        )
        if prefix is not None:
            request.prefix.CopyFrom(path(prefix))
        return self.get_request(request)

    def set_request(self, request: Any) -> Any:
        return self.stub.Set(request, metadata=self.metadata, timeout=TIMEOUT)

    def set(
        self,
        *,
        delete: Iterable[str] = (),
        replace: Iterable[tuple[str, bytes]] = (),
        update: Iterable[tuple[str, bytes]] = (),
        extension: Iterable[Any] = (),
        ietf: bool = False,
    ) -> Any:
        return self.set_request(
            gnmi_pb2.SetRequest(
                delete=[path(p) for p in delete],
                replace=[update_msg(p, v, ietf=ietf) for p, v in replace],
                update=[update_msg(p, v, ietf=ietf) for p, v in update],
                extension=list(extension),
            )
        )


def path(text: str, *, origin: str = "", target: str = "") -> Any:
    """A gnmi.Path from ``/a/b[k=v]`` text."""
    message = gnmi_pb2.Path(origin=origin, target=target)
    for elem in DataPath.parse(text).elems:
        name = f"{elem.module}:{elem.name}" if elem.module else elem.name
        message.elem.add(name=name, key=dict(elem.keys))
    return message


def update_msg(text: str, value: bytes, *, ietf: bool = False) -> Any:
    typed = (
        gnmi_pb2.TypedValue(json_ietf_val=value) if ietf else gnmi_pb2.TypedValue(json_val=value)
    )
    return gnmi_pb2.Update(path=path(text), val=typed)


def path_str(message: Any) -> str:
    """``/a/b[k=v]`` text of a gnmi.Path (for assertions)."""
    parts = [e.name + "".join(f"[{k}={v}]" for k, v in sorted(e.key.items())) for e in message.elem]
    return "/" + "/".join(parts)


def commit_ext(commit_id: str, action: str, seconds: float | None = None) -> Any:
    """A commit-confirmed extension."""
    commit = gnmi_ext_pb2.Commit(id=commit_id)
    if action == "commit":
        commit.commit.SetInParent()
        if seconds is not None:
            commit.commit.rollback_duration.FromNanoseconds(int(seconds * 1e9))
    elif action == "confirm":
        commit.confirm.SetInParent()
    elif action == "cancel":
        commit.cancel.SetInParent()
    else:
        commit.set_rollback_duration.SetInParent()
        if seconds is not None:
            commit.set_rollback_duration.rollback_duration.FromNanoseconds(int(seconds * 1e9))
    return gnmi_ext_pb2.Extension(commit=commit)


def arbitration_ext(election_id: int, role: str | None = None) -> Any:
    """A master arbitration extension."""
    message = gnmi_ext_pb2.MasterArbitration(
        election_id=gnmi_ext_pb2.Uint128(high=election_id >> 64, low=election_id & (2**64 - 1))
    )
    if role is not None:
        message.role.id = role
    return gnmi_ext_pb2.Extension(master_arbitration=message)


def code_of(call: Any) -> tuple[grpc.StatusCode, str]:
    """Runs ``call()`` and returns the status code and details of the RpcError it raised."""
    try:
        call()
    except grpc.RpcError as err:
        return err.code(), err.details() or ""
    raise AssertionError("the call succeeded")
