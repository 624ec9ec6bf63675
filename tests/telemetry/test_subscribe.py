"""Subscribe over real gRPC (127.0.0.1, ephemeral port) on the simulated site, with a fake
clock: the RPC lifecycle, every mode and option of GNMI-CHECKLIST "Subscribe", paths,
encodings and limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from agent.datastore.edits import Edit
from agent.gnmi.pb import gnmi_pb2
from agent.schema.engine import SchemaEngine
from agent.telemetry.limits import Bundling
from tests.telemetry.harness import (
    Server,
    Site,
    Stream,
    leaves_of,
    limits,
    path,
    path_text,
    run,
    serving,
    subscription_list,
    within,
)

ONCE, POLL = 1, 2
STREAM = 0
TARGET_DEFINED, ON_CHANGE, SAMPLE = 0, 1, 2
JSON, PROTO, ASCII, JSON_IETF = 0, 2, 3, 4
S = 1_000_000_000
MS = 1_000_000

TOR = "tor-tf1/1"  # on a Tofino: 1 s minimum sample interval
NIC = "nic-cx7/1"  # on a ConnectX-7: 100 ms
COUNTERS = f"/ports/port[name={TOR}]/state/counters"
STATUS = f"/ports/port[name={TOR}]/state/oper-status"

Scenario = Callable[[Site, Server], Awaitable[None]]


@pytest.fixture
def scenario(engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]) -> Callable[..., None]:
    """Runs ``body(site, server)`` against a fresh agent (``limits`` optional)."""

    def go(body: Scenario, **options: Any) -> None:
        async def main() -> None:
            async with serving(engine, tmp_path / "state", site, **options) as (agent, server):
                await body(agent, server)

        run(main())

    return go


def merged(responses: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for response in responses:
        out.update(leaves_of(response))
    return out


def deletes(response: Any) -> list[str]:
    return [path_text(p) for p in response.update.delete]


class Leaves(dict[str, Any]):
    responses: list[Any]


async def read_leaves(stream: Stream, count: int) -> Leaves:
    """Reads responses until ``count`` leaf values came (however they are bundled)."""
    out = Leaves()
    out.responses = []
    while len(out) < count:
        response = await stream.read()
        out.responses.append(response)
        out.update(leaves_of(response))
    assert len(out) == count
    return out


async def synced(server: Server, request: Any) -> tuple[Stream, dict[str, Any]]:
    stream = server.open(request)
    return stream, merged(await stream.until_sync())


# --- the RPC lifecycle ---------------------------------------------------------------------


def test_the_first_request_must_be_a_subscription_list(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream = server.open(gnmi_pb2.SubscribeRequest(poll=gnmi_pb2.Poll()))
        code, details = await stream.status()
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert "SubscriptionList" in details
        silent = server.open(None)
        assert (await silent.status())[0] is grpc.StatusCode.INVALID_ARGUMENT

    scenario(body)


def test_a_second_subscription_list_is_refused(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, _ = await synced(server, subscription_list(STATUS, stream_mode=ON_CHANGE))
        stream.send(subscription_list(COUNTERS))
        code, details = await stream.status()
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert "second SubscriptionList" in details

    scenario(body)


def test_poll_on_a_stream_subscription_is_refused(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, _ = await synced(server, subscription_list(STATUS, stream_mode=ON_CHANGE))
        stream.poll()
        assert (await stream.status())[0] is grpc.StatusCode.INVALID_ARGUMENT

    scenario(body)


def test_once_sends_everything_then_sync_then_closes(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream = server.open(subscription_list(f"/ports/port[name={TOR}]/state", mode=ONCE))
        responses = await stream.until_sync()
        values = merged(responses)
        assert values[f"{COUNTERS}/in-octets"] == 0
        assert values[f"/ports/port[name={TOR}]/state/mtu"] == 9000
        assert values[STATUS] == "UP"
        assert all(r.update.timestamp == site.clock.now_ns() for r in responses)
        assert await stream.read() is aio.EOF
        assert (await stream.status())[0] is grpc.StatusCode.OK

    scenario(body)


def test_once_updates_only_sends_just_sync(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream = server.open(subscription_list(COUNTERS, mode=ONCE, updates_only=True))
        assert await stream.until_sync() == []
        assert (await stream.status())[0] is grpc.StatusCode.OK

    scenario(body)


def test_poll_answers_each_poll_with_fresh_data_and_sync(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(server, subscription_list(COUNTERS, mode=POLL))
        assert initial[f"{COUNTERS}/in-octets"] == 0
        site.hardware("tor-tf1").set_traffic(TOR, bps=8000, pps=10)
        await site.advance(2)
        stream.poll()
        polled = await stream.until_sync()
        assert merged(polled)[f"{COUNTERS}/in-octets"] == 2000
        assert polled[0].update.timestamp == site.clock.now_ns()
        stream.poll()
        assert merged(await stream.until_sync())[f"{COUNTERS}/in-octets"] == 2000
        stream.done_writing()  # no more polls can come: the RPC ends
        assert (await stream.status())[0] is grpc.StatusCode.OK

    scenario(body)


def test_poll_updates_only_waits_for_the_first_poll(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(
            server, subscription_list(COUNTERS, mode=POLL, updates_only=True)
        )
        assert initial == {}
        stream.poll()
        assert f"{COUNTERS}/in-pkts" in merged(await stream.until_sync())

    scenario(body)


# --- STREAM: SAMPLE ------------------------------------------------------------------------


def test_sample_at_the_minimum_interval(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(server, subscription_list(COUNTERS, stream_mode=SAMPLE))
        assert len(initial) == 12
        site.hardware("tor-tf1").set_traffic(TOR, bps=8000, pps=10)
        start = site.clock.now_ns()
        samples = []
        for _ in range(3):  # read each before the next: a collector keeping up
            await site.advance(1)
            samples.append(await stream.read())
        stamps = [r.update.timestamp for r in samples]
        assert stamps == [start + n * S for n in (1, 2, 3)]  # every 1 s, the Tofino minimum
        octets = [leaves_of(r)[f"{COUNTERS}/in-octets"] for r in samples]
        assert octets == [1000, 2000, 3000]

    scenario(body)


def test_sample_interval_below_the_minimum_is_refused(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        fast = subscription_list(COUNTERS, stream_mode=SAMPLE, sample_interval=100 * MS)
        code, details = await server.open(fast).status()
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert "below the minimum of 1 s" in details
        nic = f"/ports/port[name={NIC}]/state/counters"
        stream, _ = await synced(
            server, subscription_list(nic, stream_mode=SAMPLE, sample_interval=100 * MS)
        )
        start = site.clock.now_ns()
        stamps = []
        for _ in range(3):
            await site.advance(0.1)
            stamps.append((await stream.read()).update.timestamp)
        assert stamps == [start + n * 100 * MS for n in (1, 2, 3)]

    scenario(body)


def test_suppress_redundant_sends_changes_and_heartbeats(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(
            server,
            subscription_list(
                f"/ports/port[name={TOR}]/state",
                stream_mode=SAMPLE,
                sample_interval=S,
                suppress_redundant=True,
                heartbeat_interval=3 * S,
            ),
        )
        assert initial[STATUS] == "UP"
        site.hardware("tor-tf1").set_traffic(TOR, bps=8000, pps=10, out_bps=0, out_pps=0)
        await site.advance(1)
        changed = leaves_of(await stream.read())
        assert set(changed) == {
            f"{COUNTERS}/in-octets",
            f"{COUNTERS}/in-pkts",
            f"{COUNTERS}/in-unicast-pkts",
        }
        site.hardware("tor-tf1").set_traffic(TOR, bps=0, pps=0, out_bps=0, out_pps=0)
        await site.advance(2)  # 2 s: nothing changed since 1 s; 3 s: heartbeat, everything
        beat = await read_leaves(stream, len(initial))
        assert beat[STATUS] == "UP" and beat[f"{COUNTERS}/out-octets"] == 0
        assert {r.update.timestamp for r in beat.responses} == {site.clock.now_ns()}

    scenario(body)


# --- STREAM: ON_CHANGE ---------------------------------------------------------------------


def test_on_change_reports_link_events_and_nothing_else(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(server, subscription_list(STATUS, stream_mode=ON_CHANGE))
        assert initial == {STATUS: "UP"}
        site.hardware("tor-tf1").set_traffic(TOR, bps=8000, pps=10)
        await site.advance(5)  # counters move, the status does not: nothing is sent
        site.hardware("tor-tf1").pull_cable(TOR)
        await site.settle()
        down = await stream.read()
        assert leaves_of(down) == {STATUS: "DOWN"}
        assert down.update.timestamp == site.clock.now_ns()
        site.hardware("tor-tf1").plug_cable(TOR)
        await site.settle()
        assert leaves_of(await stream.read()) == {STATUS: "UP"}

    scenario(body)


def test_on_change_heartbeat_resends_values(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, _ = await synced(
            server, subscription_list(STATUS, stream_mode=ON_CHANGE, heartbeat_interval=2 * S)
        )
        start = site.clock.now_ns()
        beats = []
        for _ in range(2):
            await site.advance(2)
            beats.append(await stream.read())
        assert [leaves_of(r) for r in beats] == [{STATUS: "UP"}, {STATUS: "UP"}]
        assert [r.update.timestamp for r in beats] == [start + 2 * S, start + 4 * S]

    scenario(body)


def test_a_set_of_mtu_reaches_config_and_state_subscribers(
    scenario: Callable[..., None],
) -> None:
    async def body(site: Site, server: Server) -> None:
        state_mtu = f"/ports/port[name={TOR}]/state/mtu"
        config_mtu = f"/ports/port[name={TOR}]/config/mtu"
        stream, initial = await synced(
            server, subscription_list(state_mtu, config_mtu, stream_mode=ON_CHANGE)
        )
        assert initial == {state_mtu: 9000, config_mtu: 9000}
        await site.commit(Edit.update(config_mtu, 1600))
        changed = await read_leaves(stream, 2)
        assert changed == {state_mtu: 1600, config_mtu: 1600}

    scenario(body)


def test_a_deleted_slice_arrives_as_a_delete(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(
            server, subscription_list("/slices/slice[name=miot]", stream_mode=ON_CHANGE)
        )
        assert initial["/slices/slice[name=miot]/state/oper-status"] == "UP"
        await site.commit(Edit.delete("/slices/slice[name=miot]"))
        response = await stream.read()
        assert deletes(response) == ["/slices/slice[name=miot]"]
        assert response.update.timestamp > 0

    scenario(body)


def test_a_path_that_does_not_exist_yet_is_reported_when_it_appears(
    scenario: Callable[..., None],
) -> None:
    async def body(site: Site, server: Server) -> None:
        new = "/ports/port[name=tor-tf1/5]"
        stream, initial = await synced(server, subscription_list(new, stream_mode=ON_CHANGE))
        assert initial == {}
        config = {"name": "tor-tf1/5", "device": "tor-tf1", "index": 5, "speed": "100G"}
        await site.commit(Edit.replace(new, {"name": "tor-tf1/5", "config": config}))
        seen: dict[str, Any] = {}
        while f"{new}/state/oper-status" not in seen:
            seen.update(leaves_of(await stream.read()))
        assert seen[f"{new}/config/device"] == "tor-tf1"
        assert seen[f"{new}/state/speed"] == "100G"

    scenario(body)


# --- STREAM: TARGET_DEFINED and updates_only ------------------------------------------------


def test_target_defined_samples_counters_and_watches_the_rest(
    scenario: Callable[..., None],
) -> None:
    async def body(site: Site, server: Server) -> None:
        nic_state = f"/ports/port[name={NIC}]/state"
        stream, initial = await synced(
            server, subscription_list(nic_state, sample_interval=500 * MS)
        )
        assert initial[f"{nic_state}/oper-status"] == "UP"
        await site.advance(1)
        sampled = [await stream.read(), await stream.read()]
        for response in sampled:
            assert {p.rpartition("/")[0] for p in leaves_of(response)} == {f"{nic_state}/counters"}
        site.hardware("nic-cx7").pull_cable(NIC)
        await site.settle()
        assert leaves_of(await stream.read())[f"{nic_state}/oper-status"] == "DOWN"

    scenario(body)


def test_target_defined_counters_default_to_ten_seconds(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, _ = await synced(server, subscription_list(COUNTERS))
        start = site.clock.now_ns()
        await site.advance(10)
        site.hardware("tor-tf1").pull_cable(TOR)  # a marker after the first 10 s
        await site.settle()
        response = await stream.read()
        assert response.update.timestamp == start + 10 * S
        assert len(leaves_of(response)) == 12

    scenario(body)


def test_updates_only_starts_with_sync_then_changes(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, initial = await synced(
            server, subscription_list(STATUS, stream_mode=ON_CHANGE, updates_only=True)
        )
        assert initial == {}
        site.hardware("tor-tf1").pull_cable(TOR)
        await site.settle()
        assert leaves_of(await stream.read()) == {STATUS: "DOWN"}
        sampled, nothing = await synced(
            server, subscription_list(COUNTERS, stream_mode=SAMPLE, updates_only=True)
        )
        assert nothing == {}
        await site.advance(1)
        assert len(leaves_of(await sampled.read())) == 12  # then every sample

    scenario(body)


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["/ports/port[name=*]/state/oper-status", "/ports/*/state/oper-status"]
)
def test_wildcards_expand_to_concrete_paths(
    scenario: Callable[..., None], site: dict[str, Any], pattern: str
) -> None:
    names = [p["name"] for p in site["edge-ports:ports"]["port"]]

    async def body(agent: Site, server: Server) -> None:
        _, values = await synced(server, subscription_list(pattern, mode=ONCE))
        assert sorted(values) == sorted(f"/ports/port[name={n}]/state/oper-status" for n in names)

    scenario(body)


def test_any_depth_wildcard_and_no_wildcards_in_responses(
    scenario: Callable[..., None],
) -> None:
    async def body(site: Site, server: Server) -> None:
        stream = server.open(subscription_list("/.../oper-status", mode=ONCE))
        responses = await stream.until_sync()
        values = merged(responses)
        assert values["/platform/devices/device[name=tor-tf1]/state/oper-status"] == "UP"
        assert values["/slices/slice[name=embb]/state/oper-status"] == "UP"
        assert values[f"/slices/slice[name=embb]/members/member[port={TOR}]/state/oper-status"]
        for response in responses:
            prefix = response.update.prefix
            assert all(e.name not in ("*", "...") for e in prefix.elem)
            assert all(v != "*" for e in prefix.elem for v in e.key.values())

    scenario(body)


def test_unknown_and_malformed_paths(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        unknown = server.open(subscription_list("/ports/port/state/no-such-leaf"))
        assert (await unknown.status())[0] is grpc.StatusCode.NOT_FOUND
        request = subscription_list(STATUS)
        request.subscribe.subscription[0].path.elem[0].name = "bad name!"
        assert (await server.open(request).status())[0] is grpc.StatusCode.INVALID_ARGUMENT
        request = subscription_list(STATUS)
        request.subscribe.subscription[0].path.origin = "elsewhere"
        assert (await server.open(request).status())[0] is grpc.StatusCode.UNIMPLEMENTED

    scenario(body)


def test_target_and_origin_are_echoed(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        request = subscription_list(
            f"port[name={TOR}]/state/oper-status",
            mode=ONCE,
            prefix=path("/ports", origin="edge-ports", target="edge-site-7"),
        )
        (response,) = await server.open(request).until_sync()
        prefix = response.update.prefix
        assert (prefix.target, prefix.origin) == ("edge-site-7", "edge-ports")
        assert leaves_of(response) == {STATUS: "UP"}
        plain = subscription_list("/edge-ports:ports/port/state/mtu", mode=ONCE)
        for response in await server.open(plain).until_sync():
            assert response.update.prefix.target == ""  # never invented

    scenario(body)


def test_deletes_echo_the_target(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        request = subscription_list(
            "slice[name=urllc]", stream_mode=ON_CHANGE, prefix=path("/slices", target="edge-site-7")
        )
        stream, _ = await synced(server, request)
        await site.commit(Edit.delete("/slices/slice[name=urllc]"))
        response = await stream.read()
        assert response.update.prefix.target == "edge-site-7"
        assert deletes(response) == ["/slices/slice[name=urllc]"]

    scenario(body)


# --- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "field", "octets", "speed", "enabled"),
    [
        (JSON, "json_val", b"0", b'"100G"', b"true"),
        (JSON_IETF, "json_ietf_val", b'"0"', b'"100G"', b"true"),
        (PROTO, "uint_val", 0, "100G", True),
    ],
)
def test_encodings(
    scenario: Callable[..., None],
    encoding: int,
    field: str,
    octets: Any,
    speed: Any,
    enabled: Any,
) -> None:
    async def body(site: Site, server: Server) -> None:
        request = subscription_list(f"/ports/port[name={TOR}]/state", mode=ONCE, encoding=encoding)
        raw: dict[str, Any] = {}
        for response in await server.open(request).until_sync():
            prefix = path_text(response.update.prefix).rstrip("/")
            for update in response.update.update:
                kind = update.val.WhichOneof("value")
                raw[prefix + path_text(update.path)] = (kind, getattr(update.val, kind))
        assert raw[f"{COUNTERS}/in-octets"] == (field, octets)
        speed_kind = "string_val" if encoding == PROTO else field
        assert raw[f"/ports/port[name={TOR}]/state/speed"] == (speed_kind, speed)
        bool_kind = "bool_val" if encoding == PROTO else field
        assert raw[f"/ports/port[name={TOR}]/state/enabled"] == (bool_kind, enabled)

    scenario(body)


def test_unsupported_encodings(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        for encoding in (1, ASCII, 99):
            stream = server.open(subscription_list(STATUS, encoding=encoding))
            assert (await stream.status())[0] is grpc.StatusCode.UNIMPLEMENTED

    scenario(body)


# --- bundling, models, limits, lifecycle ---------------------------------------------------


def test_sample_bundling_packs_containers_of_one_sample(
    scenario: Callable[..., None], site: dict[str, Any]
) -> None:
    count = len(site["edge-ports:ports"]["port"])

    async def body(agent: Site, server: Server) -> None:
        request = subscription_list("/ports/port/state/counters", mode=ONCE)
        responses = await server.open(request).until_sync()
        assert all(path_text(r.update.prefix) == "/" for r in responses)  # full paths
        assert all(len(r.update.update) <= 50 for r in responses)
        assert len(merged(responses)) == count * 12
        assert len(responses) == -(-count * 12 // 48)  # 4 ports (48 leaves) fit in 50

    scenario(body, limits=limits(bundling=Bundling.SAMPLE, max_updates_per_notification=50))


@pytest.mark.parametrize("bundling", [Bundling.SAMPLE, Bundling.CONTAINER])
def test_a_container_larger_than_a_notification_is_split(
    scenario: Callable[..., None], site: dict[str, Any], bundling: Bundling
) -> None:
    count = len(site["edge-ports:ports"]["port"])

    async def body(agent: Site, server: Server) -> None:
        request = subscription_list("/ports/port/state/counters", mode=ONCE)
        responses = await server.open(request).until_sync()
        assert [len(r.update.update) for r in responses] == [5, 5, 2] * count
        assert len(merged(responses)) == count * 12
        ports = [{path_text(u.path).split("/state")[0] for u in r.update.update} for r in responses]
        assert all(len(names) == 1 for names in ports)  # never two ports in one message

    scenario(body, limits=limits(bundling=bundling, max_updates_per_notification=5))


def test_compact_paths_put_the_container_in_the_prefix(
    scenario: Callable[..., None], site: dict[str, Any]
) -> None:
    count = len(site["edge-ports:ports"]["port"])

    async def body(agent: Site, server: Server) -> None:
        request = subscription_list("/ports/port/state/counters", mode=ONCE, encoding=PROTO)
        per_port = await server.open(request).until_sync()
        assert {path_text(r.update.prefix) for r in per_port} == {
            f"/ports/port[name={p['name']}]/state/counters"
            for p in site["edge-ports:ports"]["port"]
        }
        assert all(len(u.path.elem) == 1 for r in per_port for u in r.update.update)
        assert len(merged(per_port)) == count * 12

    scenario(body, limits=limits(compact_paths=True, bundling=Bundling.CONTAINER))


def test_compact_sample_bundles_share_the_top_level_prefix(
    scenario: Callable[..., None], site: dict[str, Any]
) -> None:
    count = len(site["edge-ports:ports"]["port"])

    async def body(agent: Site, server: Server) -> None:
        responses = await server.open(
            subscription_list("/ports/port/state/counters", mode=ONCE)
        ).until_sync()
        assert all(path_text(r.update.prefix) == "/ports" for r in responses)
        assert len(merged(responses)) == count * 12

    scenario(body, limits=limits(bundling=Bundling.SAMPLE, compact_paths=True))


def test_bundling_can_be_turned_off(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        responses = await server.open(subscription_list(COUNTERS, mode=ONCE)).until_sync()
        assert len(responses) == 12
        assert all(len(r.update.update) == 1 for r in responses)

    scenario(body, limits=limits(bundling=Bundling.LEAF))


def test_use_models_restricts_and_checks(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        request = subscription_list("/", mode=ONCE)
        request.subscribe.use_models.add(name="edge-slices")
        values = merged(await server.open(request).until_sync())
        assert values and all(p.startswith("/slices/") for p in values)
        request = subscription_list("/", mode=ONCE)
        request.subscribe.use_models.add(name="openconfig-interfaces")
        assert (await server.open(request).status())[0] is grpc.StatusCode.UNIMPLEMENTED

    scenario(body)


def test_subscription_caps(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        first, _ = await synced(server, subscription_list(STATUS, stream_mode=ON_CHANGE))
        code, details = await server.open(subscription_list(STATUS)).status()
        assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "subscriptions" in details
        first.cancel()
        await within(_until(lambda: not site.service.sessions()))
        too_many = subscription_list(STATUS, COUNTERS, "/slices")
        code, details = await server.open(too_many).status()
        assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "at most 2" in details

    scenario(body, limits=limits(max_sessions_per_client=1, max_paths=2))


def test_server_wide_cap(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        await synced(server, subscription_list(STATUS, stream_mode=ON_CHANGE))
        code, _ = await server.open(subscription_list(STATUS)).status()
        assert code is grpc.StatusCode.RESOURCE_EXHAUSTED

    scenario(body, limits=limits(max_sessions=1))


def test_stopping_telemetry_ends_open_streams(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, _ = await synced(server, subscription_list(STATUS, stream_mode=ON_CHANGE))
        await site.service.stop()
        code, details = await stream.status()
        assert code is grpc.StatusCode.UNAVAILABLE and "shutting down" in details

    scenario(body)


def test_a_cancelled_stream_releases_its_session(scenario: Callable[..., None]) -> None:
    async def body(site: Site, server: Server) -> None:
        stream, _ = await synced(server, subscription_list(COUNTERS, stream_mode=SAMPLE))
        assert len(site.service.sessions()) == 1
        stream.cancel()
        await within(_until(lambda: not site.service.sessions()))
        await site.advance(3)  # the sampler carries on without it

    scenario(body)


async def _until(condition: Callable[[], bool]) -> None:
    import asyncio

    while not condition():
        await asyncio.sleep(0.01)
