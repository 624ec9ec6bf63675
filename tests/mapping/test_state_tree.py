"""State subtrees rendered from what mock drivers report, validated against the model."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Mapping
from dataclasses import replace
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.drivers import Capabilities, PortCounters, PortOp, PortState, SliceCounters
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.counters import PORT_COUNTER_LEAVES, SLICE_COUNTER_LEAVES
from agent.drivers.state import DeviceState, SliceState
from agent.drivers.units import GBPS
from agent.mapping.state_tree import (
    CAPABILITIES,
    COUNTERS,
    STATE,
    EntityKind,
    Selection,
    StateReader,
    port_counters,
    render_state,
)
from agent.schema.engine import SchemaEngine

from .helpers import (
    Tree,
    add_port,
    device_config,
    drivers_for,
    entry,
    hardware,
    intents_of,
    open_drivers,
    port_config,
    slice_entry,
)

UINT64_LEAVES = {"last-change", "min-sample-interval", "min-rate-bps", "max-rate-bps"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def drivers(site: Tree, clock: FakeClock) -> dict[str, ChipDriver]:
    return drivers_for(site, clock)


def read(drivers: Mapping[str, Any], site: Tree, selection: Selection | None = None) -> Tree:
    reader = StateReader(drivers)
    return reader.read(site) if selection is None else reader.read(site, selection)


def state_of(tree: Tree, kind: str, name: str) -> dict[str, Any]:
    if kind == "device":
        items = tree["edge-platform:platform"]["devices"]["device"]
    elif kind == "port":
        items = tree["edge-ports:ports"]["port"]
    else:
        items = tree["edge-slices:slices"]["slice"]
    state: dict[str, Any] = entry(items, name)["state"]
    return state


def member_status(tree: Tree, slice_name: str) -> dict[str, str]:
    members = entry(tree["edge-slices:slices"]["slice"], slice_name)["members"]["member"]
    return {m["port"]: m["state"]["oper-status"] for m in members}


def uint64_values(node: Any, counters: bool = False) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield from uint64_values(value, counters or key == "counters")
            elif counters or key in UINT64_LEAVES:
                yield key, value
    elif isinstance(node, list):
        for item in node:
            yield from uint64_values(item, counters)


def assert_valid(engine: SchemaEngine, tree: Tree) -> None:
    assert engine.refusals(tree, config_only=False) == ()
    for leaf, value in uint64_values(tree):
        assert isinstance(value, str) and value.isdigit(), (leaf, value)


# ---------------------------------------------------------------- the whole site


def test_whole_site_state_validates(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver], clock: FakeClock
) -> None:
    hardware(drivers["tor-tf1"]).set_traffic("tor-tf1/1", bps=10 * GBPS, pps=1_000_000)
    hardware(drivers["nic-cx7"]).set_slice_traffic("embb", bps=GBPS, pps=100_000)
    clock.advance(1.5)
    tree = read(drivers, site)
    assert_valid(engine, tree)
    for device in tree["edge-platform:platform"]["devices"]["device"]:
        assert device["state"]["oper-status"] == "UP"
        assert "capabilities" in device["state"]
    for port in tree["edge-ports:ports"]["port"]:
        assert port["state"]["oper-status"] == "UP"
        assert tuple(port["state"]["counters"]) == PORT_COUNTER_LEAVES
    for slice_ in tree["edge-slices:slices"]["slice"]:
        assert slice_["state"]["oper-status"] == "UP"
        assert tuple(slice_["state"]["counters"]) == SLICE_COUNTER_LEAVES
        assert set(member_status(tree, slice_["name"]).values()) == {"UP"}


def test_state_tree_keeps_the_configuration(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    running = copy.deepcopy(site)
    tree = read(drivers, site)
    assert site == running  # the running tree is not modified
    stripped = copy.deepcopy(tree)
    for device in stripped["edge-platform:platform"]["devices"]["device"]:
        del device["state"]
    for port in stripped["edge-ports:ports"]["port"]:
        del port["state"]
    for slice_ in stripped["edge-slices:slices"]["slice"]:
        del slice_["state"]
        for member in slice_["members"]["member"]:
            del member["state"]
    for tenant in stripped["edge-tenants:tenants"]["tenant"]:
        del tenant["state"]
    assert stripped == running


def test_invalid_state_is_caught_by_the_same_checks(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    tree = read(drivers, site)
    broken = copy.deepcopy(tree)
    state_of(broken, "port", "tor-tf1/1")["oper-status"] = "SLEEPING"
    assert engine.refusals(broken, config_only=False) != ()
    broken = copy.deepcopy(tree)
    state_of(broken, "device", "tor-tf1")["dpu-mode"] = "dpu"
    assert engine.refusals(broken, config_only=False) != ()
    broken = copy.deepcopy(tree)
    state_of(broken, "port", "tor-tf1/1")["counters"]["in-octets"] = 5
    with pytest.raises(AssertionError):
        assert_valid(engine, broken)


# ------------------------------------------------------------------------ devices


def test_device_state_leaves_and_capabilities(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    tree = read(drivers, site)
    spine = state_of(tree, "device", "spine-tf2")
    assert {k: spine[k] for k in ("name", "chipset", "backend", "enabled", "driver")} == {
        "name": "spine-tf2",
        "chipset": "edge-types:tofino2",
        "backend": "mock",
        "enabled": True,
        "driver": "tofino",
    }
    assert spine["description"] == "Aggregation switch, Tofino 2, 32 x 400G"
    assert "dpu-mode" not in spine and "address" not in spine
    assert spine["sdk-version"] == drivers["spine-tf2"].capabilities().sdk_version
    assert spine["last-change"] == str(drivers["spine-tf2"].read_device_state().last_change_ns)
    assert spine["capabilities"] == {
        "port-count": 32,
        "lanes-per-cage": 8,
        "supported-speeds": ["10G", "25G", "40G", "50G", "100G", "200G", "400G"],
        "breakout-modes": [
            "none",
            "1x400G",
            "1x200G",
            "2x200G",
            "2x100G",
            "2x40G",
            "4x100G",
            "4x50G",
            "8x50G",
            "8x25G",
            "8x10G",
        ],
        "mtu-min": 64,
        "mtu-max": 9216,
        "max-vfs": 0,
        "vf-scope": "none",
        "min-sample-interval": "1000000000",
    }
    e810 = state_of(tree, "device", "nic-e810")["capabilities"]
    assert (e810["vf-scope"], e810["max-vfs"]) == ("per-device", 256)


def test_dpu_mode_is_reported_for_bluefield_only(
    site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    tree = read(drivers, site)
    modes = {
        d["name"]: d["state"].get("dpu-mode")
        for d in tree["edge-platform:platform"]["devices"]["device"]
    }
    assert modes.pop("dpu-bf2") == "dpu"
    assert modes.pop("dpu-bf3") == "nic"
    assert set(modes.values()) == {None}


def test_disabled_device_is_down_and_its_ports_lower_layer_down(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    device_config(site, "nic-cx6")["enabled"] = False
    drivers["nic-cx6"].reconcile(intents_of(site)["nic-cx6"])
    tree = read(drivers, site)
    assert_valid(engine, tree)
    device = state_of(tree, "device", "nic-cx6")
    assert (device["oper-status"], device["enabled"]) == ("DOWN", False)
    assert state_of(tree, "port", "nic-cx6/1")["oper-status"] == "LOWER_LAYER_DOWN"
    assert state_of(tree, "port", "nic-cx6/2")["oper-status"] == "LOWER_LAYER_DOWN"
    assert member_status(tree, "miot")["nic-cx6/1"] == "LOWER_LAYER_DOWN"
    assert state_of(tree, "slice", "miot")["oper-status"] == "UP"  # other members are up


def test_unreachable_device(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver], clock: FakeClock
) -> None:
    hardware(drivers["nic-cx7"]).set_slice_traffic("embb", bps=GBPS, pps=1000)
    clock.advance(1)
    hardware(drivers["nic-cx7"]).set_available(False)
    tree = read(drivers, site)
    assert_valid(engine, tree)
    assert state_of(tree, "device", "nic-cx7")["oper-status"] == "DOWN"
    port = state_of(tree, "port", "nic-cx7/1")
    assert port["oper-status"] == "UNKNOWN"
    assert "counters" not in port and "last-change" not in port
    assert port["speed"] == "400G"  # configured values when the hardware cannot say
    embb = state_of(tree, "slice", "embb")
    assert "counters" not in embb  # no partial sum that would go backwards
    assert "counters" in state_of(tree, "slice", "miot")


def test_device_without_driver_is_unknown(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    del drivers["dpu-bf3"]
    tree = read(drivers, site)
    assert_valid(engine, tree)
    device = state_of(tree, "device", "dpu-bf3")
    assert device["oper-status"] == "UNKNOWN"
    assert device["dpu-mode"] == "nic"  # as configured
    assert "capabilities" not in device and "sdk-version" not in device
    assert state_of(tree, "port", "dpu-bf3/1")["oper-status"] == "UNKNOWN"
    assert member_status(tree, "embb")["dpu-bf3/1"] == "UNKNOWN"


# -------------------------------------------------------------------------- ports


def test_port_state_shows_applied_values(
    site: Tree, drivers: dict[str, ChipDriver], engine: SchemaEngine
) -> None:
    port_config(site, "tor-tf1/1").update({"fec": "auto", "mtu": 9100, "lag-group": "up"})
    drivers["tor-tf1"].reconcile(intents_of(site)["tor-tf1"])
    tree = read(drivers, site)
    assert_valid(engine, tree)
    state = state_of(tree, "port", "tor-tf1/1")
    assert state["fec"] == "rs528"  # auto, as the chip resolves it at 100G
    assert (state["mtu"], state["lag-group"], state["speed"]) == (9100, "up", "100G")
    assert (state["channel"], state["breakout"], state["loopback"]) == (0, "none", "none")
    assert state["description"] == "uplink to spine-tf2/1"
    (hw,) = drivers["tor-tf1"].read_port_states(["tor-tf1/1"]).values()
    assert state["last-change"] == str(hw.last_change_ns)


def test_port_counters_follow_traffic(
    site: Tree, drivers: dict[str, ChipDriver], clock: FakeClock
) -> None:
    hardware(drivers["nic-e810"]).set_traffic("nic-e810/2", bps=8 * GBPS, pps=1_000_000)
    clock.advance(2)
    counters = state_of(read(drivers, site), "port", "nic-e810/2")["counters"]
    assert counters["in-octets"] == counters["out-octets"] == str(2 * GBPS)
    assert counters["in-pkts"] == str(2_000_000)
    assert counters["in-errors"] == "0"


def test_pulled_cable_brings_port_member_and_slice_down(
    site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    for port, device in (("tor-tf1/2/0", "tor-tf1"), ("nic-cx6/1", "nic-cx6")):
        hardware(drivers[device]).pull_cable(port)
    tree = read(drivers, site)
    assert state_of(tree, "port", "tor-tf1/2/0")["oper-status"] == "DOWN"
    assert member_status(tree, "miot") == {
        "tor-tf1/2/0": "DOWN",
        "nic-cx6/1": "DOWN",
        "ipu-e2k/1": "UP",
    }
    assert state_of(tree, "slice", "miot")["oper-status"] == "UP"
    hardware(drivers["ipu-e2k"]).pull_cable("ipu-e2k/1")
    assert state_of(read(drivers, site), "slice", "miot")["oper-status"] == "DOWN"


def test_loopback_is_testing(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    port_config(site, "fpga-s10/2")["loopback"] = "mac"
    drivers["fpga-s10"].reconcile(intents_of(site)["fpga-s10"])
    hardware(drivers["fpga-s10"]).pull_cable("fpga-s10/2")  # no peer needed in loopback
    state = state_of(read(drivers, site), "port", "fpga-s10/2")
    assert (state["oper-status"], state["loopback"]) == ("TESTING", "mac")


def test_admin_down_port(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    port_config(site, "nic-cx6/2")["enabled"] = False
    drivers["nic-cx6"].reconcile(intents_of(site)["nic-cx6"])
    state = state_of(read(drivers, site), "port", "nic-cx6/2")
    assert (state["oper-status"], state["enabled"]) == ("DOWN", False)


def test_port_not_on_the_hardware_is_not_present(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    add_port(site, "nic-e810/3", "nic-e810", 3, speed="25G")  # configured, never applied
    tree = read(drivers, site)
    assert_valid(engine, tree)
    state = state_of(tree, "port", "nic-e810/3")
    assert state["oper-status"] == "NOT_PRESENT"
    assert (state["fec"], state["mtu"], state["enabled"]) == ("auto", 1514, True)
    assert "counters" not in state


def test_pending_cage_layout_is_not_present(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    current = drivers["tor-tf1"].applied().ports["tor-tf1/2/0"]
    changed = replace(current, breakout="4x10G", speed_bps=10 * GBPS, fec="none")
    hardware(drivers["tor-tf1"]).program(PortOp(current, changed))  # the cage disagrees now
    state = state_of(read(drivers, site), "port", "tor-tf1/2/0")
    assert state["oper-status"] == "NOT_PRESENT"
    assert (state["breakout"], state["speed"]) == ("4x10G", "10G")  # what the hardware holds


# ------------------------------------------------------------------------- slices


def test_slice_counters_are_summed_over_devices(
    site: Tree, drivers: dict[str, ChipDriver], clock: FakeClock
) -> None:
    hardware(drivers["tor-tf1"]).set_slice_traffic("embb", bps=4 * GBPS, pps=100_000)
    hardware(drivers["spine-tf2"]).set_slice_traffic("embb", bps=8 * GBPS, pps=300_000)
    clock.advance(1)
    expected = [0] * 5
    for driver in drivers.values():
        for counters in driver.read_slice_counters(["embb"]).values():
            values = [v for _, v in counters.yang_items()]
            expected = [a + b for a, b in zip(expected, values, strict=True)]
    state = state_of(read(drivers, site), "slice", "embb")
    assert [int(v) for v in state["counters"].values()] == expected
    assert int(state["counters"]["in-octets"]) == (4 + 8) * GBPS // 8


def test_slice_state_leaves(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    members = slice_entry(site, "urllc")["members"]["member"]
    members[0]["config"]["min-rate-bps"] = 3 * GBPS  # lenient input: a number
    state = state_of(read(drivers, site), "slice", "urllc")
    assert {k: state[k] for k in ("name", "tenant", "sst", "sd", "vlan-id", "priority")} == {
        "name": "urllc",
        "tenant": "operator-a",
        "sst": 2,
        "sd": "000002",
        "vlan-id": 200,
        "priority": 6,
    }
    assert (state["enabled"], state["min-rate-bps"], state["max-rate-bps"]) == (
        True,
        "5000000000",
        "10000000000",
    )
    tree = read(drivers, site)
    first = entry(tree["edge-slices:slices"]["slice"], "urllc")["members"]["member"][0]
    assert first["state"] == {
        "port": first["port"],
        "min-rate-bps": str(3 * GBPS),
        "oper-status": "UP",
    }


def test_disabled_slice_is_down(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    slice_entry(site, "urllc")["config"]["enabled"] = False
    for name, intent in intents_of(site).items():
        drivers[name].reconcile(intent)
    tree = read(drivers, site)
    assert_valid(engine, tree)
    state = state_of(tree, "slice", "urllc")
    assert (state["enabled"], state["oper-status"]) == (False, "DOWN")
    assert set(member_status(tree, "urllc").values()) == {"UP"}  # the ports themselves


def test_slice_without_members(engine: SchemaEngine, site: Tree, drivers: dict[str, Any]) -> None:
    del slice_entry(site, "miot")["members"]
    tree = read(drivers, site)
    assert_valid(engine, tree)
    state = state_of(tree, "slice", "miot")
    assert state["oper-status"] == "DOWN"
    assert set(state["counters"].values()) == {"0"}


# ------------------------------------------------------- selections and batching


class CountingDriver:
    """Passes reads through to a driver and records each call with the names it asked for."""

    def __init__(self, driver: ChipDriver, calls: list[tuple[str, str, Any]]) -> None:
        self._driver = driver
        self._calls = calls
        self._name = driver.config.name

    def _record(self, method: str, names: Collection[str] | None = None) -> None:
        self._calls.append((self._name, method, None if names is None else sorted(names)))

    def capabilities(self) -> Capabilities:
        self._record("capabilities")
        return self._driver.capabilities()

    def read_device_state(self) -> DeviceState:
        self._record("read_device_state")
        return self._driver.read_device_state()

    def read_port_states(self, names: Collection[str] | None = None) -> Mapping[str, PortState]:
        self._record("read_port_states", names)
        return self._driver.read_port_states(names)

    def read_slice_states(self, names: Collection[str] | None = None) -> Mapping[str, SliceState]:
        self._record("read_slice_states", names)
        return self._driver.read_slice_states(names)

    def read_counters(self, names: Collection[str] | None = None) -> Mapping[str, PortCounters]:
        self._record("read_counters", names)
        return self._driver.read_counters(names)

    def read_slice_counters(
        self, names: Collection[str] | None = None
    ) -> Mapping[str, SliceCounters]:
        self._record("read_slice_counters", names)
        return self._driver.read_slice_counters(names)


def counting(drivers: Mapping[str, ChipDriver]) -> tuple[dict[str, Any], list[Any]]:
    calls: list[tuple[str, str, Any]] = []
    return {name: CountingDriver(d, calls) for name, d in drivers.items()}, calls


def test_whole_read_is_one_batched_call_per_kind_and_device(
    site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    wrapped, calls = counting(drivers)
    read(wrapped, site)
    per_device: dict[str, list[str]] = {}
    for device, method, _ in calls:
        per_device.setdefault(device, []).append(method)
    assert set(per_device) == set(drivers)
    for methods in per_device.values():
        assert len(methods) == len(set(methods))  # no kind of read twice
    port_reads = {device: names for device, method, names in calls if method == "read_counters"}
    assert port_reads["tor-tf1"] == sorted(
        p["name"] for p in site["edge-ports:ports"]["port"] if p["config"]["device"] == "tor-tf1"
    )


def test_selecting_one_port_reads_only_its_device(
    engine: SchemaEngine, site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    wrapped, calls = counting(drivers)
    tree = read(wrapped, site, Selection.only(ports=["spine-tf2/3/1"]))
    assert list(tree) == ["edge-ports:ports"]
    assert [p["name"] for p in tree["edge-ports:ports"]["port"]] == ["spine-tf2/3/1"]
    assert {device for device, _, _ in calls} == {"spine-tf2"}
    assert ("spine-tf2", "capabilities", None) not in calls
    assert ("spine-tf2", "read_port_states", ["spine-tf2/3/1"]) in calls
    assert ("spine-tf2", "read_counters", ["spine-tf2/3/1"]) in calls
    assert [m for _, m, _ in calls].count("read_port_states") == 1
    whole = read(drivers, site)["edge-ports:ports"]["port"]
    assert tree["edge-ports:ports"]["port"] == [entry(whole, "spine-tf2/3/1")]


def test_selecting_a_slice_reads_the_devices_it_spans(
    site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    wrapped, calls = counting(drivers)
    tree = read(wrapped, site, Selection.only(slices=["miot"]))
    assert list(tree) == ["edge-slices:slices"]
    assert {device for device, _, _ in calls} == {"tor-tf1", "nic-cx6", "ipu-e2k"}
    assert ("tor-tf1", "read_port_states", ["tor-tf1/2/0"]) in calls
    assert ("tor-tf1", "read_slice_counters", ["miot"]) in calls
    assert set(member_status(tree, "miot").values()) == {"UP"}


def test_selecting_a_device(site: Tree, drivers: dict[str, ChipDriver]) -> None:
    wrapped, calls = counting(drivers)
    tree = read(wrapped, site, Selection.only(devices=["nic-cx7"]))
    assert list(tree) == ["edge-platform:platform"]
    assert {(device, method) for device, method, _ in calls} == {
        ("nic-cx7", "read_device_state"),
        ("nic-cx7", "capabilities"),
    }


def test_one_sample_renders_the_same_tree_twice(
    site: Tree, drivers: dict[str, ChipDriver], clock: FakeClock
) -> None:
    hardware(drivers["tor-tf1"]).set_traffic("tor-tf1/1", bps=GBPS, pps=1000)
    reader = StateReader(drivers)
    sample = reader.sample(site)
    first = render_state(site, sample)
    clock.advance(5)
    assert render_state(site, sample) == first
    assert reader.read(site) != first  # a new sample sees the counters move


def test_reconciled_site_from_intents_has_no_pending_ops(site: Tree, clock: FakeClock) -> None:
    intents = intents_of(site)
    drivers = open_drivers(intents, clock)
    assert all(drivers[n].applied() == intents[n] for n in intents)


def test_typed_states_hold_ints_where_the_tree_holds_counter64_text(
    site: Tree, drivers: dict[str, ChipDriver], clock: FakeClock
) -> None:
    hardware(drivers["nic-e810"]).set_traffic("nic-e810/2", bps=8 * GBPS, pps=1_000_000)
    clock.advance(2)
    reader = StateReader(drivers)
    sample = reader.sample(site)
    states = {(s.kind, s.name): dict(s.containers) for s in reader.states(site, sample)}
    port = states[(EntityKind.PORT, "nic-e810/2")]
    assert port[COUNTERS]["in-octets"] == 2 * GBPS  # an int, straight from the driver
    tree = render_state(site, sample)
    rendered = state_of(tree, "port", "nic-e810/2")
    assert rendered["counters"] == {k: str(v) for k, v in port[COUNTERS].items()}
    assert {k: v for k, v in rendered.items() if k != "counters"} == port[STATE]
    device = states[(EntityKind.DEVICE, "tor-tf1")]
    assert state_of(tree, "device", "tor-tf1")["capabilities"] == device[CAPABILITIES]
    member = (("members", ()), ("member", (("port", "tor-tf1/2/0"),)), ("state", ()))
    miot = states[(EntityKind.SLICE, "miot")]
    assert miot[member]["oper-status"] == member_status(tree, "miot")["tor-tf1/2/0"]
    assert state_of(tree, "slice", "miot")["counters"] == {
        k: str(v) for k, v in miot[COUNTERS].items()
    }


def test_a_counters_only_read_asks_the_drivers_for_counters_alone(
    site: Tree, drivers: dict[str, ChipDriver]
) -> None:
    wrapped, calls = counting(drivers)
    selection = Selection(frozenset(), None, None, frozenset(), counters_only=True)
    reader = StateReader(wrapped)
    states = reader.states(site, reader.sample(site, selection), selection)
    assert {method for _, method, _ in calls} == {"read_counters", "read_slice_counters"}
    assert {location for state in states for location, _ in state.containers} == {COUNTERS}
    whole = {(s.kind, s.name): dict(s.containers) for s in StateReader(drivers).states(site, {})}
    assert {(s.kind, s.name) for s in states} == {
        key for key in whole if key[0] in (EntityKind.PORT, EntityKind.SLICE)
    }


def test_counters_the_hardware_does_not_keep_are_left_out_and_wrap_at_2_64() -> None:
    kept = port_counters(PortCounters(in_octets=None, in_pkts=7, out_octets=2**64 + 5))
    assert "in-octets" not in kept and (kept["in-pkts"], kept["out-octets"]) == (7, 5)
    assert port_counters(PortCounters(in_octets=2**64 + 1))["in-octets"] == 1
    assert port_counters(PortCounters(in_octets=3)) == dict.fromkeys(PORT_COUNTER_LEAVES, 0) | {
        "in-octets": 3
    }
