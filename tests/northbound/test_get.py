"""Get over a real gRPC channel: encodings, paths, wildcards, types, models, errors."""

from __future__ import annotations

import json

import grpc
import pytest

from agent.clock import FakeClock
from agent.gnmi.pb import gnmi_ext_pb2, gnmi_pb2
from agent.schema.engine import SchemaEngine
from tests.northbound.harness import AgentThread, Client, agent_settings, code_of, path, path_str

JSON, PROTO, ASCII, BYTES, JSON_IETF = 0, 2, 3, 1, 4
CONFIG, STATE, OPERATIONAL = 1, 2, 3
MTU = "/ports/port[name=tor-tf1/1]/config/mtu"


def values(response: gnmi_pb2.GetResponse, index: int = 0) -> dict[str, object]:
    """Path text -> decoded value for the updates of one notification."""
    out: dict[str, object] = {}
    for update in response.notification[index].update:
        kind = update.val.WhichOneof("value")
        raw = getattr(update.val, kind)
        out[path_str(update.path)] = json.loads(raw) if kind.startswith("json") else raw
    return out


def test_config_leaf_in_json(admin: Client) -> None:
    response = admin.get(MTU)
    assert len(response.notification) == 1
    notification = response.notification[0]
    assert notification.timestamp > 0
    assert not notification.HasField("prefix")  # no prefix asked, none invented
    assert values(response) == {MTU: 9000}


def test_json_and_json_ietf_differ_as_rfc7951_says(admin: Client) -> None:
    config = "/slices/slice[name=embb]/config"
    plain = values(admin.get(config, encoding=JSON))[config]
    ietf = values(admin.get(config, encoding=JSON_IETF))[config]
    assert plain["min-rate-bps"] == 10_000_000_000  # uint64 as a number in JSON
    assert ietf["edge-slices:min-rate-bps"] == "10000000000"  # and as a string in JSON_IETF
    assert ietf["edge-slices:vlan-id"] == 100
    assert "edge-slices:name" not in plain and plain["name"] == "embb"


def test_json_ietf_qualifies_top_level_members(admin: Client) -> None:
    tree = values(admin.get("/", encoding=JSON_IETF, type=CONFIG))["/"]
    assert set(tree) == {
        "edge-platform:platform",
        "edge-ports:ports",
        "edge-slices:slices",
        "edge-tenants:tenants",
    }
    device = tree["edge-platform:platform"]["devices"]["device"][0]
    assert device["config"]["chipset"] == "edge-types:tofino1"


def test_proto_gives_one_scalar_per_leaf(admin: Client) -> None:
    response = admin.get("/slices/slice[name=embb]/config", encoding=PROTO)
    got = values(response)
    base = "/slices/slice[name=embb]/config"
    assert got[f"{base}/vlan-id"] == 100
    assert got[f"{base}/min-rate-bps"] == 10_000_000_000
    assert got[f"{base}/name"] == "embb"
    kinds = {
        path_str(u.path).rsplit("/", 1)[1]: u.val.WhichOneof("value")
        for u in response.notification[0].update
    }
    assert kinds["vlan-id"] == "uint_val" and kinds["name"] == "string_val"


@pytest.mark.parametrize("encoding", [ASCII, BYTES, 42])
def test_unsupported_encoding_is_unimplemented(admin: Client, encoding: int) -> None:
    code, details = code_of(lambda: admin.get(MTU, encoding=encoding))
    assert code is grpc.StatusCode.UNIMPLEMENTED
    assert "encoding" in details


def test_prefix_and_target_are_echoed(admin: Client) -> None:
    request = gnmi_pb2.GetRequest(
        prefix=path("/ports/port[name=tor-tf1/1]", target="edge-1"), path=[path("/config/mtu")]
    )
    notification = admin.get_request(request).notification[0]
    assert notification.prefix.target == "edge-1"
    assert path_str(notification.prefix) == "/ports/port[name=tor-tf1/1]"
    assert [path_str(u.path) for u in notification.update] == ["/config/mtu"]


def test_target_outside_the_prefix_is_invalid(admin: Client) -> None:
    request = gnmi_pb2.GetRequest(path=[path(MTU, target="edge-1")])
    code, _ = code_of(lambda: admin.get_request(request))
    assert code is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("origin", ["", "openconfig", "edge-ports"])
def test_accepted_origins(admin: Client, origin: str) -> None:
    request = gnmi_pb2.GetRequest(path=[path(MTU, origin=origin)])
    notification = admin.get_request(request).notification[0]
    assert json.loads(notification.update[0].val.json_val) == 9000
    assert notification.update[0].path.origin == origin  # echoed, not invented


def test_module_qualified_names_and_unknown_origin(admin: Client) -> None:
    assert values(admin.get("/edge-ports:ports/port[name=tor-tf1/1]/config/mtu"))
    request = gnmi_pb2.GetRequest(path=[path(MTU, origin="vendor-x")])
    code, details = code_of(lambda: admin.get_request(request))
    assert code is grpc.StatusCode.UNIMPLEMENTED
    assert "vendor-x" in details


def test_one_notification_per_path(admin: Client) -> None:
    response = admin.get(MTU, "/ports/port[name=tor-tf1/1]/config/speed")
    assert len(response.notification) == 2
    assert values(response, 0) == {MTU: 9000}
    assert values(response, 1) == {"/ports/port[name=tor-tf1/1]/config/speed": "100G"}


@pytest.mark.parametrize(
    "wildcard",
    [
        "/ports/port[name=*]/config/mtu",
        "/ports/port/config/mtu",
        "/ports/*/config/mtu",
        "/.../config/mtu",
    ],
)
def test_wildcards_expand_to_concrete_paths(admin: Client, wildcard: str) -> None:
    got = values(admin.get(wildcard))
    assert len(got) == 26
    assert got[MTU] == 9000
    for text in got:
        assert "*" not in text and "..." not in text
        assert text.startswith("/ports/port[name=") and text.endswith("]/config/mtu")


def test_wildcard_matching_nothing_is_an_empty_notification(admin: Client) -> None:
    response = admin.get("/ports/port[name=*]/config/lag-group")
    assert len(response.notification) == 1
    assert response.notification[0].timestamp > 0
    assert not response.notification[0].update


def test_key_values_with_slashes_colons_spaces_and_equals(admin: Client) -> None:
    name = "tor-tf1/5 a=b:c"
    entry = {
        "name": name,
        "config": {"name": name, "device": "tor-tf1", "index": 5, "speed": "10G"},
    }
    admin.set(update=[(f"/ports/port[name={name}]", json.dumps(entry).encode())])
    got = values(admin.get(f"/ports/port[name={name}]/config/index"))
    assert got == {f"/ports/port[name={name}]/config/index": 5}


@pytest.mark.parametrize(
    ("data_type", "present", "absent"),
    [
        (CONFIG, {"config"}, {"state"}),
        (STATE, {"state"}, {"config"}),
        (0, {"config", "state"}, set()),
    ],
)
def test_type_filter_on_an_entry(
    admin: Client, data_type: int, present: set[str], absent: set[str]
) -> None:
    entry = values(admin.get("/ports/port[name=tor-tf1/1]", type=data_type))[
        "/ports/port[name=tor-tf1/1]"
    ]
    assert entry["name"] == "tor-tf1/1"  # the key identifies the entry in every type
    assert present <= set(entry)
    assert not absent & set(entry)


def test_operational_leaves_out_applied_configuration(admin: Client) -> None:
    entry = values(admin.get("/ports/port[name=tor-tf1/1]", type=OPERATIONAL))[
        "/ports/port[name=tor-tf1/1]"
    ]
    state = entry["state"]
    assert state["oper-status"] == "UP"
    assert "in-octets" in state["counters"]
    assert "mtu" not in state and "speed" not in state
    assert "config" not in entry
    leaf = admin.get("/ports/port[name=tor-tf1/1]/state/mtu", type=OPERATIONAL)
    assert not leaf.notification[0].update
    status = admin.get("/ports/port[name=tor-tf1/1]/state/oper-status", type=OPERATIONAL)
    assert values(status) == {"/ports/port[name=tor-tf1/1]/state/oper-status": "UP"}


def test_state_shows_what_the_hardware_runs(admin: Client) -> None:
    state = values(admin.get("/ports/port[name=tor-tf1/1]/state"))[
        "/ports/port[name=tor-tf1/1]/state"
    ]
    assert state["mtu"] == 9000 and state["speed"] == "100G"
    assert state["loopback"] == "none"  # defaults filled in by the state view
    device = values(admin.get("/platform/devices/device[name=tor-tf1]/state/oper-status"))
    assert list(device.values()) == ["UP"]


def test_type_that_a_path_cannot_hold_is_an_empty_notification(admin: Client) -> None:
    response = admin.get("/ports/port[name=tor-tf1/1]/state", type=CONFIG)
    assert not response.notification[0].update
    response = admin.get(MTU, type=STATE)
    assert not response.notification[0].update


def test_use_models(admin: Client) -> None:
    ports_only = gnmi_pb2.ModelData(name="edge-ports")
    tree = values(admin.get("/", type=CONFIG, use_models=[ports_only]))["/"]
    assert set(tree) == {"ports"}
    code, details = code_of(
        lambda: admin.get("/slices", use_models=[gnmi_pb2.ModelData(name="edge-ports")])
    )
    assert code is grpc.StatusCode.NOT_FOUND and "use_models" in details
    code, details = code_of(
        lambda: admin.get(MTU, use_models=[gnmi_pb2.ModelData(name="openconfig-interfaces")])
    )
    assert code is grpc.StatusCode.UNIMPLEMENTED and "openconfig-interfaces" in details
    wrong_version = gnmi_pb2.ModelData(name="edge-ports", version="1999-01-01")
    code, _ = code_of(lambda: admin.get(MTU, use_models=[wrong_version]))
    assert code is grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize(
    "missing",
    [
        "/ports/port[name=nope]/config/mtu",  # no such entry
        "/ports/port[name=tor-tf1/1]/config/lag-group",  # leaf not set
        "/ports/port[name=tor-tf1/1]/config/bogus",  # no such schema node
        "/flux-capacitor",
        "/ports/port[name=nope]/state",
    ],
)
def test_not_found(admin: Client, missing: str) -> None:
    code, details = code_of(lambda: admin.get(missing))
    assert code is grpc.StatusCode.NOT_FOUND
    assert details


@pytest.mark.parametrize(
    "malformed",
    [
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="ports"), gnmi_pb2.PathElem(name="bad name!")]),
        gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="ports", key={"name": "x"})]),
        gnmi_pb2.Path(
            elem=[gnmi_pb2.PathElem(name="ports"), gnmi_pb2.PathElem(name="port", key={"id": "1"})]
        ),
        gnmi_pb2.Path(element=["ports", "port[name=unterminated"]),
    ],
)
def test_malformed_paths_are_invalid(admin: Client, malformed: gnmi_pb2.Path) -> None:
    code, _ = code_of(lambda: admin.get_request(gnmi_pb2.GetRequest(path=[malformed])))
    assert code is grpc.StatusCode.INVALID_ARGUMENT


def test_depth_extension(admin: Client) -> None:
    def get(level: int) -> dict[str, object]:
        request = gnmi_pb2.GetRequest(
            path=[path("/ports/port[name=tor-tf1/1]")],
            extension=[gnmi_ext_pb2.Extension(depth=gnmi_ext_pb2.Depth(level=level))],
        )
        return values(admin.get_request(request))["/ports/port[name=tor-tf1/1]"]

    assert get(1) == {"name": "tor-tf1/1"}
    two = get(2)
    assert two["config"]["mtu"] == 9000 and "counters" not in two["state"]
    assert "counters" in get(0)["state"]


def test_history_extension_is_unimplemented(admin: Client) -> None:
    history = gnmi_ext_pb2.Extension(history=gnmi_ext_pb2.History(snapshot_time=1))
    code, _ = code_of(
        lambda: admin.get_request(gnmi_pb2.GetRequest(path=[path(MTU)], extension=[history]))
    )
    assert code is grpc.StatusCode.UNIMPLEMENTED


def test_counters_come_from_the_driver(engine: SchemaEngine, state_dir) -> None:
    clock = FakeClock()
    agent = AgentThread(agent_settings(state_dir), schema=engine, clock=clock).start()
    client = Client(agent.target)
    try:
        counters = "/ports/port[name=tor-tf1/1]/state/counters/in-pkts"
        assert values(client.get(counters)) == {counters: 0}
        agent.hardware("tor-tf1").set_traffic("tor-tf1/1", bps=8_000_000, pps=1000)
        clock.advance(2.0)
        assert values(client.get(counters)) == {counters: 2000}
        # reading state of one device does not depend on the others being reachable
        agent.hardware("spine-tf2").set_available(False)
        assert values(client.get(counters)) == {counters: 2000}
        assert values(client.get("/ports/port[name=spine-tf2/1]/config/mtu"))
    finally:
        client.close()
        agent.stop()


def test_reader_sees_every_port_a_tenant_only_its_delegated_ones(client_for) -> None:
    assert values(client_for("reader").get(MTU)) == {MTU: 9000}
    assert values(client_for("tenant-a").get(MTU)) == {MTU: 9000}  # delegated to operator-a
    code, _ = code_of(lambda: client_for("tenant-a").get("/ports/port[name=tor-tf1/2/0]"))
    assert code is grpc.StatusCode.NOT_FOUND


def test_repeated_gets_see_every_commit(admin: Client) -> None:
    lag = "/ports/port[name=tor-tf1/1]/config/description"
    for value in ("first", "second"):
        assert values(admin.get(MTU)) == {MTU: 9000}  # answered again from the same version
        admin.set(update=[(lag, json.dumps(value).encode())])
        assert values(admin.get(lag)) == {lag: value}
    admin.set(delete=[lag])
    code, _ = code_of(lambda: admin.get(lag))
    assert code is grpc.StatusCode.NOT_FOUND
    admin.set(update=[(MTU, b"1500")])
    assert values(admin.get(MTU)) == {MTU: 1500}
    assert admin.get(MTU).notification[0].timestamp > 0
