"""Every request bounded: path sizes, wildcards, undecodable bytes, extensions, workers.

Driven over real gRPC against the in-process agent (built by build_agent as in serve).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from agent.config import LimitSettings
from agent.gnmi.pb import gnmi_ext_pb2, gnmi_pb2
from agent.schema.engine import SchemaEngine
from agent.sitegen import scaled_site
from tests.northbound.harness import TIMEOUT, AgentThread, Client, agent_settings, path

GNMI = "/gnmi.gNMI"
METHODS = ("Capabilities", "Get", "Set")
BAD_UTF8_NAME = b"\xff\xfe"


def _dots(count: int) -> gnmi_pb2.Path:
    return gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="...") for _ in range(count)])


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failed:
        call()
    return failed.value.code()


def _details(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as failed:
        call()
    return failed.value.code(), failed.value.details()


# --- path sizes ------------------------------------------------------------------------


def test_3000_any_depth_elements_are_refused_at_once(admin: Client) -> None:
    code, details = _details(lambda: admin.get_request(gnmi_pb2.GetRequest(path=[_dots(3000)])))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert "limit of 64 elements" in details


def test_consecutive_any_depth_elements_mean_one(admin: Client) -> None:
    for data_type in (gnmi_pb2.GetRequest.CONFIG, gnmi_pb2.GetRequest.ALL):
        one = admin.get_request(gnmi_pb2.GetRequest(path=[_dots(1)], type=data_type))
        many = admin.get_request(gnmi_pb2.GetRequest(path=[_dots(64)], type=data_type))
        assert [u.path for u in one.notification[0].update] == [
            u.path for u in many.notification[0].update
        ]
        assert len(one.notification[0].update) > 100


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        (gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="ports")] * 65), "64 elements"),
        (gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="p" * 300)]), "256 characters"),
        (
            gnmi_pb2.Path(
                elem=[
                    gnmi_pb2.PathElem(name="ports"),
                    gnmi_pb2.PathElem(name="port", key={"name": "x" * 1025}),
                ]
            ),
            "1024 bytes",
        ),
        (
            gnmi_pb2.Path(
                elem=[gnmi_pb2.PathElem(name="port", key={f"k{i}": "v" for i in range(9)})]
            ),
            "8 keys",
        ),
        (gnmi_pb2.Path(element=["ports/port[name=" + "x" * 5000 + "]"]), "1024 bytes"),
        (gnmi_pb2.Path(element=["ports/port[name=" + "x" * 50000 + "]"]), "characters"),
    ],
)
def test_oversized_paths_are_invalid_argument_in_every_rpc(admin: Client, message, limit) -> None:
    calls = {
        "get": lambda: admin.get_request(gnmi_pb2.GetRequest(path=[message])),
        "set": lambda: admin.set_request(gnmi_pb2.SetRequest(delete=[message])),
        "subscribe": lambda: list(
            admin.stub.Subscribe(
                iter([_subscribe_request(message, gnmi_pb2.SubscriptionList.ONCE)]),
                metadata=admin.metadata,
                timeout=TIMEOUT,
            )
        ),
    }
    for call in calls.values():
        code, details = _details(call)
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert limit in details


def test_huge_keys_leave_nothing_behind(agent: AgentThread, admin: Client) -> None:
    get = agent.agent.server._servicer._get  # the servicer's Get handler
    for i in range(8):
        key = chr(ord("a") + i) * (4 * 1024 * 1024)
        message = path("/ports/port/config/mtu")
        message.elem[1].key["name"] = key
        code = _code(lambda message=message: admin.get_request(gnmi_pb2.GetRequest(path=[message])))
        assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert get.cached_request_bytes == 0


def test_the_checked_request_cache_keeps_to_its_byte_budget(
    agent: AgentThread, admin: Client
) -> None:
    get = agent.agent.server._servicer._get
    for i in range(64):
        paths = [
            path(f"/ports/port[name=tor-tf1/{n}-{i}-{'x' * 900}]/config/mtu") for n in range(20)
        ]
        for request in (gnmi_pb2.GetRequest(path=paths[:1]), gnmi_pb2.GetRequest(path=paths)):
            assert _code(lambda r=request: admin.get_request(r)) is grpc.StatusCode.NOT_FOUND
    small = gnmi_pb2.GetRequest(path=[path("/ports/port[name=tor-tf1/1]/config/mtu")])
    admin.get_request(small)
    assert 0 < get.cached_request_bytes <= 4 * 1024 * 1024


# --- undecodable requests --------------------------------------------------------------


def _raw_call(channel: grpc.Channel, method: str, payload: bytes, metadata=()) -> grpc.StatusCode:
    call = channel.unary_unary(
        f"{GNMI}/{method}", request_serializer=None, response_deserializer=None
    )
    with pytest.raises(grpc.RpcError) as failed:
        call(payload, metadata=metadata, timeout=TIMEOUT)
    return failed.value.code()


def _bad_utf8(request) -> bytes:
    """``request`` serialized with a string field holding bytes that are not UTF-8."""
    return request.SerializeToString().replace(b"QQ", BAD_UTF8_NAME)


def _bad_utf8_get() -> bytes:
    return _bad_utf8(gnmi_pb2.GetRequest(path=[gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="QQ")])]))


UNDECODABLE = [
    (method, payload) for method in METHODS for payload in (b"\xff\xff\xff\xff", b"\x0a\x80")
] + [
    ("Get", _bad_utf8_get()),
    ("Set", _bad_utf8(gnmi_pb2.SetRequest(delete=[gnmi_pb2.Path(target="QQ")]))),
]


@pytest.mark.parametrize("with_credentials", [True, False])
@pytest.mark.parametrize(("method", "payload"), UNDECODABLE)
def test_undecodable_requests_are_invalid_argument(
    agent: AgentThread, admin: Client, method: str, payload: bytes, with_credentials: bool
) -> None:
    metadata = admin.metadata if with_credentials else ()
    assert _raw_call(admin.channel, method, payload, metadata) is grpc.StatusCode.INVALID_ARGUMENT
    assert admin.get("/ports/port[name=tor-tf1/1]/config/mtu").notification  # still answering


@pytest.mark.parametrize("with_credentials", [True, False])
def test_undecodable_subscribe_request_is_invalid_argument(
    admin: Client, with_credentials: bool
) -> None:
    call = admin.channel.stream_stream(
        f"{GNMI}/Subscribe", request_serializer=None, response_deserializer=None
    )
    metadata = admin.metadata if with_credentials else ()
    code = _code(lambda: list(call(iter([_bad_utf8_get()]), metadata=metadata, timeout=TIMEOUT)))
    expected = (
        grpc.StatusCode.INVALID_ARGUMENT if with_credentials else grpc.StatusCode.UNAUTHENTICATED
    )
    assert code is expected


def test_undecodable_health_check_is_invalid_argument(admin: Client) -> None:
    call = admin.channel.unary_unary(
        "/grpc.health.v1.Health/Check", request_serializer=None, response_deserializer=None
    )
    assert _code(lambda: call(b"\x0a\xff\xff", timeout=TIMEOUT)) is grpc.StatusCode.INVALID_ARGUMENT


def test_undecodable_requests_are_logged_one_line_each_rate_limited(
    admin: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="agent.northbound.decoding"):
        for _ in range(40):
            _raw_call(admin.channel, "Get", b"\xff\xff")
    lines = [r for r in caplog.records if r.name == "agent.northbound.decoding"]
    assert 1 <= len(lines) <= 10
    assert all("\n" not in r.getMessage() and "Traceback" not in r.getMessage() for r in lines)
    assert "undecodable /gnmi.gNMI/Get request" in lines[0].getMessage()


# --- extensions ------------------------------------------------------------------------


def _subscribe_request(message: gnmi_pb2.Path, mode: int, **fields) -> gnmi_pb2.SubscribeRequest:
    return gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            subscription=[gnmi_pb2.Subscription(path=message)], mode=mode
        ),
        **fields,
    )


@pytest.mark.parametrize(
    "extension",
    [
        gnmi_ext_pb2.Extension(history=gnmi_ext_pb2.History(snapshot_time=1)),
        gnmi_ext_pb2.Extension(registered_ext=gnmi_ext_pb2.RegisteredExtension(id=999, msg=b"x")),
        gnmi_ext_pb2.Extension(),
    ],
    ids=["history", "registered", "unknown-kind"],
)
def test_unknown_extensions_are_unimplemented_in_every_rpc(admin: Client, extension) -> None:
    leaf = path("/ports/port[name=tor-tf1/1]/config/mtu")
    calls = [
        lambda: admin.capabilities(extension=[extension]),
        lambda: admin.get_request(gnmi_pb2.GetRequest(path=[leaf], extension=[extension])),
        lambda: admin.set_request(gnmi_pb2.SetRequest(delete=[leaf], extension=[extension])),
        lambda: list(
            admin.stub.Subscribe(
                iter(
                    [
                        _subscribe_request(
                            leaf, gnmi_pb2.SubscriptionList.ONCE, extension=[extension]
                        )
                    ]
                ),
                metadata=admin.metadata,
                timeout=TIMEOUT,
            )
        ),
    ]
    for call in calls:
        assert _code(call) is grpc.StatusCode.UNIMPLEMENTED


# --- workers: fair share, budget, cancellation -----------------------------------------


@pytest.fixture
def big_agent(engine: SchemaEngine, tmp_path: Path) -> Iterator[AgentThread]:
    site = tmp_path / "site.json"
    site.write_text(json.dumps(scaled_site(2048, 200)))
    settings = agent_settings(
        tmp_path / "state",
        site=site,
        limits=LimitSettings(request_workers=4, workers_per_user=2, request_budget_s=1.0),
    )
    running = AgentThread(settings, schema=engine).start()
    try:
        yield running
    finally:
        running.stop()


def _heavy() -> gnmi_pb2.GetRequest:
    return gnmi_pb2.GetRequest(path=[_dots(40)], type=gnmi_pb2.GetRequest.ALL)


def _wait_idle(agent: AgentThread, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while agent.agent.admission.busy and time.monotonic() < deadline:
        time.sleep(0.02)
    assert agent.agent.admission.busy == 0


def test_heavy_wildcard_gets_are_cut_off_without_delaying_another_user(
    big_agent: AgentThread,
) -> None:
    reader = Client(big_agent.target, "reader")
    admin = Client(big_agent.target, "admin")
    try:
        heavy = [
            reader.stub.Get.future(_heavy(), metadata=reader.metadata, timeout=60) for _ in range(8)
        ]
        time.sleep(0.2)  # the reader now holds its share of the workers
        answer = admin.get("/ports/port[name=sw000/1/0]/config/mtu")
        assert answer.notification[0].update
        assert sum(not f.done() for f in heavy) >= 6  # the admin did not wait for them
        codes = set()
        for future in heavy:
            with pytest.raises(grpc.RpcError) as failed:
                future.result()
            codes.add(failed.value.code())
            assert "per-request budget of 1 s" in failed.value.details()
        assert codes == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        _wait_idle(big_agent)
    finally:
        reader.close()
        admin.close()


def test_a_cancelled_or_expired_get_frees_its_worker(big_agent: AgentThread) -> None:
    reader = Client(big_agent.target, "reader")
    try:
        cancelled = [
            reader.stub.Get.future(_heavy(), metadata=reader.metadata, timeout=60) for _ in range(2)
        ]
        time.sleep(0.2)
        assert big_agent.agent.admission.busy == 2
        for future in cancelled:
            future.cancel()
        _wait_idle(big_agent, 0.9)  # well before the 1 s budget could end them
        code = _code(lambda: reader.stub.Get(_heavy(), metadata=reader.metadata, timeout=0.3))
        assert code is grpc.StatusCode.DEADLINE_EXCEEDED
        _wait_idle(big_agent, 0.6)
    finally:
        reader.close()


def test_a_decimal_val_with_an_absurd_precision_is_invalid(admin: Client) -> None:
    value = gnmi_pb2.TypedValue(decimal_val=gnmi_pb2.Decimal64(digits=1, precision=2**32 - 1))
    update = gnmi_pb2.Update(path=path("/ports/port[name=tor-tf1/1]/config/mtu"), val=value)
    code, details = _details(lambda: admin.set_request(gnmi_pb2.SetRequest(update=[update])))
    assert code is grpc.StatusCode.INVALID_ARGUMENT and "precision" in details
