"""The schema engine accepts the default site and refuses bad data with path and rule."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.schema.refusal import Rule, ValidationFailed

Tree = dict[str, Any]


def _port(site: Tree, name: str) -> Tree:
    return next(p for p in site["edge-ports:ports"]["port"] if p["name"] == name)


def _slice(site: Tree, name: str) -> Tree:
    return next(s for s in site["edge-slices:slices"]["slice"] if s["name"] == name)


def _device(site: Tree, name: str) -> Tree:
    return next(d for d in site["edge-platform:platform"]["devices"]["device"] if d["name"] == name)


def test_default_site_is_valid(engine: SchemaEngine, site: Tree) -> None:
    assert engine.refusals(site) == ()
    engine.parse(site)  # does not raise


def test_default_site_covers_every_chipset_and_three_slice_types(site: Tree) -> None:
    chipsets = {
        d["config"]["chipset"].split(":")[1]
        for d in site["edge-platform:platform"]["devices"]["device"]
    }
    assert chipsets == {
        "tofino1",
        "tofino2",
        "stratix10-dx",
        "connectx-6",
        "connectx-7",
        "bluefield-2",
        "bluefield-3",
        "e810",
        "ipu-e2000",
    }
    sst = {s["config"]["sst"] for s in site["edge-slices:slices"]["slice"]}
    assert {1, 2, 3} <= sst
    switch_ports = {
        p["name"]
        for p in site["edge-ports:ports"]["port"]
        if p["config"]["device"].endswith(("tf1", "tf2"))
    }
    for sl in site["edge-slices:slices"]["slice"]:
        members = {m["port"] for m in sl["members"]["member"]}
        assert members & switch_ports and members - switch_ports, (
            f"{sl['name']} spans switch and NIC ports"
        )


# (name, mutation, expected path, expected rule, words the message must contain)
BAD_INPUTS: list[tuple[str, Callable[[Tree], None], str, Rule, tuple[str, ...]]] = [
    (
        "mtu out of range",
        lambda s: _port(s, "tor-tf1/1")["config"].update(mtu=20000),
        "/ports/port[name=tor-tf1/1]/config/mtu",
        Rule.RANGE,
        ("20000", "64..16000"),
    ),
    (
        "unknown chipset identity",
        lambda s: _device(s, "nic-cx6")["config"].update(chipset="edge-types:connectx-9"),
        "/platform/devices/device[name=nic-cx6]/config/chipset",
        Rule.IDENTITY,
        ("connectx-9", "chipset"),
    ),
    (
        "member naming a missing port",
        lambda s: _slice(s, "embb")["members"]["member"].append(
            {"port": "ghost/1", "config": {"port": "ghost/1"}}
        ),
        "/slices/slice[name=embb]/members/member[port=ghost/1]/config/port",
        Rule.LEAFREF,
        ("ghost/1", "/ports/port/name"),
    ),
    (
        "two slices with one vlan-id",
        lambda s: _slice(s, "urllc")["config"].update({"vlan-id": 100}),
        "/slices/slice[name=urllc]",
        Rule.UNIQUE,
        ("vlan-id", "100", "embb"),
    ),
    (
        "sd of five digits",
        lambda s: _slice(s, "embb")["config"].update(sd="12345"),
        "/slices/slice[name=embb]/config/sd",
        Rule.PATTERN,
        ("12345",),
    ),
    (
        "min-rate above max-rate",
        lambda s: _slice(s, "miot")["config"].update({"min-rate-bps": "5000000000"}),
        "/slices/slice[name=miot]/config/max-rate-bps",
        Rule.MUST,
        ("min-rate-bps",),
    ),
    (
        "counter written in config",
        lambda s: _port(s, "nic-cx6/1").update({"state": {"counters": {"in-octets": "5"}}}),
        "/ports/port[name=nic-cx6/1]/state",
        Rule.STATE_IN_CONFIG,
        ("state",),
    ),
    (
        "unknown leaf",
        lambda s: _port(s, "nic-cx6/1")["config"].update(colour="blue"),
        "/ports/port[name=nic-cx6/1]/config/colour",
        Rule.UNKNOWN_NODE,
        ("colour",),
    ),
    (
        "string where a number goes",
        lambda s: _port(s, "nic-cx6/1")["config"].update(mtu="large"),
        "/ports/port[name=nic-cx6/1]/config/mtu",
        Rule.TYPE,
        ("large", "uint16"),
    ),
    (
        "unknown speed",
        lambda s: _port(s, "nic-cx6/1")["config"].update(speed="300G"),
        "/ports/port[name=nic-cx6/1]/config/speed",
        Rule.ENUM,
        ("300G", "400G"),
    ),
    (
        "dpu-mode on a switch",
        lambda s: _device(s, "tor-tf1")["config"].update({"dpu-mode": "nic"}),
        "/platform/devices/device[name=tor-tf1]/config/dpu-mode",
        Rule.WHEN,
        ("dpu-mode", "bluefield"),
    ),
    (
        "two ports on one cage channel",
        lambda s: _port(s, "tor-tf1/3")["config"].update(index=1),
        "/ports/port[name=tor-tf1/3]",
        Rule.UNIQUE,
        ("index", "tor-tf1/1"),
    ),
    (
        "missing mandatory speed",
        lambda s: _port(s, "nic-cx6/2")["config"].pop("speed"),
        "/ports/port[name=nic-cx6/2]/config",
        Rule.MANDATORY,
        ("speed",),
    ),
    (
        "key differs from config/name",
        lambda s: _port(s, "nic-cx6/2").update(name="nic-cx6/9"),
        "/ports/port[name=nic-cx6/9]/name",
        Rule.KEY,
        ("nic-cx6/9",),
    ),
    (
        "port on a missing device",
        lambda s: _port(s, "nic-cx6/2")["config"].update(device="nic-cx5"),
        "/ports/port[name=nic-cx6/2]/config/device",
        Rule.LEAFREF,
        ("nic-cx5",),
    ),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_with_path_and_rule(
    engine: SchemaEngine, site: Tree, case: Any
) -> None:
    _, mutate, path, rule, words = case
    mutate(site)
    refusals = engine.refusals(site)
    assert len(refusals) == 1, refusals
    (refusal,) = refusals
    assert str(refusal.path) == path
    assert refusal.rule is rule
    for word in words:
        assert word in refusal.message, (word, refusal.message)


def test_every_problem_is_reported_in_one_pass(engine: SchemaEngine, site: Tree) -> None:
    for _, mutate, *_ in BAD_INPUTS[:9]:
        mutate(site)
    rules = sorted(r.rule for r in engine.refusals(site))
    assert rules == sorted(
        [
            Rule.RANGE,
            Rule.IDENTITY,
            Rule.LEAFREF,
            Rule.UNIQUE,
            Rule.PATTERN,
            Rule.MUST,
            Rule.STATE_IN_CONFIG,
            Rule.UNKNOWN_NODE,
            Rule.TYPE,
        ]
    )


def test_parse_raises_with_all_refusals(engine: SchemaEngine, site: Tree) -> None:
    _port(site, "tor-tf1/1")["config"]["mtu"] = 10
    _slice(site, "embb")["config"]["sd"] = "xyz"
    with pytest.raises(ValidationFailed) as err:
        engine.parse(site)
    assert len(err.value.refusals) == 2
    assert "mtu" in str(err.value) and "sd" in str(err.value)


def test_lenient_input_is_normalised(engine: SchemaEngine, site: Tree) -> None:
    """Unqualified top level, identities without module and uint64 as numbers are accepted."""
    lenient = copy.deepcopy(site)
    lenient["ports"] = lenient.pop("edge-ports:ports")
    _device(lenient, "tor-tf1")["config"]["chipset"] = "tofino1"
    _slice(lenient, "embb")["config"]["max-rate-bps"] = 40_000_000_000
    assert engine.refusals(lenient) == ()
    canonical = engine.normalise(lenient)
    assert "edge-ports:ports" in canonical
    assert _device(canonical, "tor-tf1")["config"]["chipset"] == "edge-types:tofino1"
    assert _slice(canonical, "embb")["config"]["max-rate-bps"] == "40000000000"


def test_unqualified_unknown_top_level_is_refused(engine: SchemaEngine) -> None:
    (refusal,) = engine.refusals({"gadgets": {}})
    assert refusal.rule is Rule.UNKNOWN_NODE and str(refusal.path) == "/gadgets"


def test_state_data_is_accepted_when_not_config_only(engine: SchemaEngine, site: Tree) -> None:
    _port(site, "nic-cx6/1")["state"] = {"oper-status": "UP", "counters": {"in-octets": "5"}}
    assert engine.refusals(site, config_only=False) == ()
    assert engine.refusals(site)[0].rule is Rule.STATE_IN_CONFIG


def test_leaf_types_for_encoders(engine: SchemaEngine) -> None:
    counter = engine.leaf_type(DataPath.parse("/ports/port[name=x]/state/counters/in-octets"))
    assert counter is not None and counter.base == "uint64" and counter.module == "edge-ports"
    chipset = engine.leaf_type(DataPath.parse("/platform/devices/device/config/chipset"))
    assert chipset is not None and "edge-types:tofino2" in chipset.enum_names
    speed = engine.leaf_type(DataPath.parse("/edge-ports:ports/port/config/speed"))
    assert speed is not None and "400G" in speed.enum_names
    assert engine.leaf_type(DataPath.parse("/ports/port/config")) is None
    assert engine.leaf_type(DataPath.parse("/ports/port/config/nope")) is None
    assert engine.module_of(DataPath.parse("/slices/slice/config/sst")) == "edge-slices"
    assert engine.list_keys(DataPath.parse("/slices/slice/members/member")) == ("port",)
    assert engine.is_config(DataPath.parse("/ports/port/config/mtu"))
    assert not engine.is_config(DataPath.parse("/ports/port/state/mtu"))


def test_modules_are_described_for_capabilities(engine: SchemaEngine) -> None:
    by_name = {m.name: m for m in engine.modules}
    assert set(by_name) == {
        "edge-types",
        "edge-platform",
        "edge-ports",
        "edge-slices",
        "edge-tenants",
    }
    assert all(m.organization == "edge-agent" for m in by_name.values())
    assert by_name["edge-ports"].revision == "2026-11-26"
    assert by_name["edge-tenants"].revision == by_name["edge-slices"].revision == "2026-12-04"


def test_a_huge_bad_value_is_shortened_in_the_message(engine: SchemaEngine, site: Tree) -> None:
    _slice(site, "embb")["config"]["sd"] = "x" * 100_000
    _port(site, "tor-tf1/1")["config"]["mtu"] = "9" * 100_000
    refusals = engine.refusals(site)
    assert len(refusals) == 2
    assert all(len(r.message) < 300 and "characters)" in r.message for r in refusals)
