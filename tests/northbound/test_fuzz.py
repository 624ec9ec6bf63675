"""Hostile input, generated: every gNMI RPC answers random paths, values and bytes with a
clear status (never UNKNOWN or INTERNAL), logs no traceback, keeps answering, and a
refused Set leaves the configuration as it was.

One agent (built by build_agent, over real gRPC on 127.0.0.1) serves each test.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.gnmi.pb import gnmi_pb2
from agent.schema.engine import SchemaEngine
from tests.northbound.harness import TIMEOUT, AgentThread, Client, agent_settings

UNCLEAR = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
FUZZ = settings(
    max_examples=int(os.environ.get("EDGE_AGENT_FUZZ_EXAMPLES", "200")),
    # The same examples on every run, so CI judges the code, not the dice; set
    # EDGE_AGENT_FUZZ_RANDOM=1 (and more examples) to explore new ones.
    derandomize=not os.environ.get("EDGE_AGENT_FUZZ_RANDOM"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = [
    "ports", "port", "config", "state", "mtu", "name", "description", "enabled", "slices",
    "slice", "members", "member", "platform", "devices", "device", "counters", "in-octets",
    "edge-ports:ports", "edge-slices:slices", "*", "...", "", "a:b:c", "port[name=x]",
]  # fmt: skip
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["\x00", "tor-tf1/1", "*", "]", "[", "=", "/", "\\", "\ufffe", "a" * 300])


@pytest.fixture(scope="module")
def fuzz_agent(engine: SchemaEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    state: Path = tmp_path_factory.mktemp("fuzz") / "state"
    running = AgentThread(agent_settings(state), schema=engine).start()
    client = Client(running.target, "admin")
    try:
        yield running, client
    finally:
        client.close()
        running.stop()


@pytest.fixture
def tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """Log records so far with a traceback or at ERROR and above (a callable)."""
    with caplog.at_level(logging.WARNING):
        yield lambda: [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


elem = st.builds(
    lambda name, keys: gnmi_pb2.PathElem(name=name, key=keys),
    st.sampled_from(NAMES) | TEXT,
    st.dictionaries(st.sampled_from(["name", "port", "k"]) | TEXT, TEXT, max_size=3),
)
gnmi_path = st.builds(
    lambda elems, origin, element: gnmi_pb2.Path(elem=elems, origin=origin, element=element),
    st.lists(elem, max_size=10),
    st.sampled_from(["", "openconfig", "edge-ports", "bogus"]) | TEXT,
    st.lists(TEXT, max_size=2),
)
json_bytes = st.one_of(
    st.binary(max_size=64),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=12,
    ).map(lambda v: __import__("json").dumps(v).encode()),
    st.sampled_from([b"[" * 5000, b'{"a":' * 3000, b'{"mtu": 1, "mtu": 2}', b"\xff"]),
)
typed_value = st.one_of(
    json_bytes.map(lambda b: gnmi_pb2.TypedValue(json_val=b)),
    json_bytes.map(lambda b: gnmi_pb2.TypedValue(json_ietf_val=b)),
    TEXT.map(lambda t: gnmi_pb2.TypedValue(string_val=t)),
    st.integers(-(2**63), 2**63 - 1).map(lambda i: gnmi_pb2.TypedValue(int_val=i)),
    st.integers(0, 2**64 - 1).map(lambda i: gnmi_pb2.TypedValue(uint_val=i)),
    st.booleans().map(lambda b: gnmi_pb2.TypedValue(bool_val=b)),
    st.binary(max_size=16).map(lambda b: gnmi_pb2.TypedValue(bytes_val=b)),
    st.floats().map(lambda f: gnmi_pb2.TypedValue(double_val=f)),
    TEXT.map(lambda t: gnmi_pb2.TypedValue(ascii_val=t)),
    st.binary(max_size=16).map(lambda b: gnmi_pb2.TypedValue(proto_bytes=b)),
    st.builds(
        lambda d, p: gnmi_pb2.TypedValue(decimal_val=gnmi_pb2.Decimal64(digits=d, precision=p)),
        st.integers(-(2**63), 2**63 - 1),
        st.integers(0, 2**32 - 1),
    ),
)
real_paths = st.sampled_from(
    [
        "/ports/port[name=tor-tf1/1]/config/mtu",
        "/ports/port[name=tor-tf1/1]/config/description",
        "/ports/port[name=tor-tf1/1]/config",
        "/ports/port[name=new]",
        "/slices/slice[name=embb]/config",
        "/slices",
        "/",
    ]
)


def _code(call: Any) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as err:
        return err.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def _path_from_text(text: str) -> gnmi_pb2.Path:
    from tests.northbound.harness import path

    return path(text)  # type: ignore[no-any-return]


def _still_serving(agent: AgentThread, client: Client, version: int) -> None:
    answer = client.get("/ports/port[name=tor-tf1/1]/config/mtu")
    assert answer.notification[0].update
    assert agent.agent.datastore.running.version == version


@FUZZ
@given(
    paths=st.lists(gnmi_path, min_size=1, max_size=3),
    prefix=st.none() | gnmi_path,
    kind=st.integers(0, 4),
)
def test_get_with_random_paths(fuzz_agent: Any, tracebacks: Any, paths, prefix, kind) -> None:
    _, client = fuzz_agent
    request = gnmi_pb2.GetRequest(path=paths, type=kind % 4, encoding=kind)
    if prefix is not None:
        request.prefix.CopyFrom(prefix)
    assert _code(lambda: client.get_request(request)) not in UNCLEAR
    assert not tracebacks()


@FUZZ
@given(
    deletes=st.lists(gnmi_path, max_size=2),
    updates=st.lists(
        st.tuples(gnmi_path | real_paths.map(_path_from_text), typed_value), max_size=3
    ),
    replace=st.booleans(),
)
def test_set_with_random_paths_and_values(
    fuzz_agent: Any, tracebacks: Any, deletes, updates, replace
) -> None:
    agent, client = fuzz_agent
    before = agent.agent.datastore.running
    changes = [gnmi_pb2.Update(path=p, val=v) for p, v in updates]
    request = gnmi_pb2.SetRequest(delete=deletes, **{"replace" if replace else "update": changes})
    code = _code(lambda: client.set_request(request))
    assert code not in UNCLEAR
    after = agent.agent.datastore.running
    if code is not grpc.StatusCode.OK:
        assert after.version == before.version and after.tree == before.tree
    assert not tracebacks()
    if code is grpc.StatusCode.OK:  # put the site back for the next example
        restore = gnmi_pb2.SetRequest(
            replace=[
                gnmi_pb2.Update(
                    path=gnmi_pb2.Path(),
                    val=gnmi_pb2.TypedValue(
                        json_ietf_val=__import__("json").dumps(before.tree).encode()
                    ),
                )
            ]
        )
        client.set_request(restore)


@FUZZ
@given(
    path_=gnmi_path,
    mode=st.integers(0, 3),
    stream_mode=st.integers(0, 3),
    interval=st.integers(0, 2**40),
)
def test_subscribe_once_with_random_paths(
    fuzz_agent: Any, tracebacks: Any, path_, mode, stream_mode, interval
) -> None:
    _, client = fuzz_agent
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            subscription=[
                gnmi_pb2.Subscription(path=path_, mode=stream_mode, sample_interval=interval)
            ],
            mode=gnmi_pb2.SubscriptionList.ONCE if mode != 3 else mode,
        )
    )
    code = _code(
        lambda: list(
            client.stub.Subscribe(iter([request]), metadata=client.metadata, timeout=TIMEOUT)
        )
    )
    assert code not in UNCLEAR
    assert not tracebacks()


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    def mutate(data: bytes, position: int, byte: int, cut: int) -> bytes:
        if not data:
            return bytes([byte])
        i = position % len(data)
        changed = data[:i] + bytes([byte]) + data[i + 1 :]
        return changed[: len(changed) - cut % 4]

    return st.builds(
        mutate, st.just(valid), st.integers(0, 10_000), st.integers(0, 255), st.integers(0, 8)
    )


VALID = {
    "Capabilities": gnmi_pb2.CapabilityRequest().SerializeToString(),
    "Get": gnmi_pb2.GetRequest(
        path=[_path_from_text("/ports/port[name=tor-tf1/1]/config/mtu")]
    ).SerializeToString(),
    "Set": gnmi_pb2.SetRequest(
        update=[
            gnmi_pb2.Update(
                path=_path_from_text("/ports/port[name=tor-tf1/1]/config/description"),
                val=gnmi_pb2.TypedValue(string_val="fuzz"),
            )
        ]
    ).SerializeToString(),
    "Subscribe": gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            subscription=[gnmi_pb2.Subscription(path=_path_from_text("/ports/port/config/mtu"))],
            mode=gnmi_pb2.SubscriptionList.ONCE,
        )
    ).SerializeToString(),
}


@FUZZ
@given(
    method=st.sampled_from(sorted(VALID)),
    data=st.data(),
    credentials=st.booleans(),
)
def test_raw_request_bytes(
    fuzz_agent: Any, tracebacks: Any, method: str, data, credentials: bool
) -> None:
    agent, client = fuzz_agent
    payload = data.draw(st.binary(max_size=256) | _mutations(VALID[method]))
    metadata = client.metadata if credentials else ()
    version = agent.agent.datastore.running.version
    full = f"/gnmi.gNMI/{method}"
    if method == "Subscribe":
        call = client.channel.stream_stream(
            full, request_serializer=None, response_deserializer=None
        )
        code = _code(lambda: list(call(iter([payload]), metadata=metadata, timeout=TIMEOUT)))
    else:
        unary = client.channel.unary_unary(
            full, request_serializer=None, response_deserializer=None
        )
        code = _code(lambda: unary(payload, metadata=metadata, timeout=TIMEOUT))
    assert code not in UNCLEAR
    assert not tracebacks()
    if method != "Set" or code is not grpc.StatusCode.OK:
        _still_serving(agent, client, version)
