"""The configuration tree as per-device intents."""

from __future__ import annotations

import copy

import pytest

from agent.drivers import DeviceConfig, PortConfig, SliceConfig, SliceMember
from agent.drivers.units import GBPS
from agent.mapping.model import MappingError
from agent.sitegen import scaled_site

from .helpers import (
    Tree,
    add_device,
    add_member,
    add_port,
    device_config,
    intents_of,
    port_config,
    slice_entry,
)

SITE_PORTS = {
    "dpu-bf2": 2,
    "dpu-bf3": 2,
    "fpga-s10": 2,
    "ipu-e2k": 1,
    "nic-cx6": 2,
    "nic-cx7": 1,
    "nic-e810": 2,
    "spine-tf2": 7,
    "tor-tf1": 7,
}


def test_every_device_gets_an_intent_with_its_ports(site: Tree) -> None:
    intents = intents_of(site)
    assert list(intents) == sorted(SITE_PORTS)
    assert {name: len(intent.ports) for name, intent in intents.items()} == SITE_PORTS
    for name, intent in intents.items():
        assert intent.device is not None and intent.device.name == name
        assert all(port.device == name for port in intent.ports.values())


def test_device_config_strips_the_identity_module_and_applies_defaults(site: Tree) -> None:
    intents = intents_of(site)
    assert intents["tor-tf1"].device == DeviceConfig("tor-tf1", "tofino1")
    assert intents["fpga-s10"].device == DeviceConfig(
        "fpga-s10", "stratix10-dx", backend="mock", address=None, enabled=True, dpu_mode=None
    )


def test_device_leaves_are_carried(site: Tree) -> None:
    device_config(site, "nic-cx6").update(
        {"backend": "netlink", "address": "ns1/eth0", "enabled": False}
    )
    device = intents_of(site)["nic-cx6"].device
    assert device == DeviceConfig("nic-cx6", "connectx-6", "netlink", "ns1/eth0", False, None)


def test_dpu_mode_only_on_bluefield_with_its_default(site: Tree) -> None:
    del device_config(site, "dpu-bf2")["dpu-mode"]
    intents = intents_of(site)
    modes = {name: intent.device.dpu_mode for name, intent in intents.items() if intent.device}
    assert modes.pop("dpu-bf2") == "dpu"
    assert modes.pop("dpu-bf3") == "nic"
    assert set(modes.values()) == {None}


def test_port_defaults_and_speed_in_bps(site: Tree) -> None:
    port = intents_of(site)["tor-tf1"].ports["tor-tf1/1"]
    assert port == PortConfig(
        "tor-tf1/1",
        "tor-tf1",
        1,
        channel=0,
        enabled=True,
        speed_bps=100 * GBPS,
        fec="rs528",
        mtu=9000,
        breakout="none",
        loopback="none",
        num_vfs=0,
        lag_group=None,
    )


def test_port_without_optional_leaves_gets_the_model_defaults(site: Tree) -> None:
    add_port(site, "tor-tf1/9", "tor-tf1", 9, speed="10G")
    port = intents_of(site)["tor-tf1"].ports["tor-tf1/9"]
    assert (port.fec, port.mtu, port.enabled, port.channel) == ("auto", 1514, True, 0)
    assert (port.breakout, port.loopback, port.num_vfs) == ("none", "none", 0)


def test_port_leaves_are_carried(site: Tree) -> None:
    port_config(site, "tor-tf1/2/3").update(
        {"enabled": False, "loopback": "mac", "lag-group": "lag1", "num-vfs": 0}
    )
    port = intents_of(site)["tor-tf1"].ports["tor-tf1/2/3"]
    assert (port.index, port.channel, port.breakout) == (2, 3, "4x25G")
    assert (port.enabled, port.loopback, port.lag_group, port.speed_bps) == (
        False,
        "mac",
        "lag1",
        25 * GBPS,
    )
    assert intents_of(site)["fpga-s10"].ports["fpga-s10/1"].num_vfs == 32


@pytest.mark.parametrize(
    ("speed", "bps"),
    [
        ("1G", 1),
        ("10G", 10),
        ("25G", 25),
        ("40G", 40),
        ("50G", 50),
        ("100G", 100),
        ("200G", 200),
        ("400G", 400),
    ],
)
def test_every_speed_enum_maps_to_bps(site: Tree, speed: str, bps: int) -> None:
    port_config(site, "tor-tf1/1")["speed"] = speed
    assert intents_of(site)["tor-tf1"].ports["tor-tf1/1"].speed_bps == bps * GBPS


def test_slices_are_split_per_device_with_only_own_members(site: Tree) -> None:
    intents = intents_of(site)
    spans = {
        name: {
            device: [m.port for m in intent.slices[name].members]
            for device, intent in intents.items()
            if name in intent.slices
        }
        for name in ("embb", "urllc", "miot")
    }
    assert spans["embb"] == {
        "dpu-bf3": ["dpu-bf3/1"],
        "nic-cx7": ["nic-cx7/1"],
        "spine-tf2": ["spine-tf2/1"],
        "tor-tf1": ["tor-tf1/1"],
    }
    assert spans["urllc"] == {
        "dpu-bf2": ["dpu-bf2/1"],
        "fpga-s10": ["fpga-s10/1"],
        "nic-e810": ["nic-e810/1"],
        "tor-tf1": ["tor-tf1/1", "tor-tf1/4"],
    }
    assert spans["miot"] == {
        "ipu-e2k": ["ipu-e2k/1"],
        "nic-cx6": ["nic-cx6/1"],
        "tor-tf1": ["tor-tf1/2/0"],
    }


def test_slice_values_and_defaults(site: Tree) -> None:
    intents = intents_of(site)
    assert intents["tor-tf1"].slices["embb"] == SliceConfig(
        "embb",
        100,
        min_rate_bps=10 * GBPS,
        max_rate_bps=40 * GBPS,
        priority=2,
        enabled=True,
        members=(SliceMember("tor-tf1/1"),),
    )
    config = slice_entry(site, "miot")["config"]
    for leaf in ("min-rate-bps", "max-rate-bps", "priority"):
        del config[leaf]
    miot = intents_of(site)["nic-cx6"].slices["miot"]
    assert (miot.min_rate_bps, miot.max_rate_bps, miot.priority, miot.enabled) == (
        0,
        None,
        0,
        True,
    )


def test_member_min_rate_override_is_carried(site: Tree) -> None:
    members = slice_entry(site, "urllc")["members"]["member"]
    next(m for m in members if m["port"] == "tor-tf1/4")["config"]["min-rate-bps"] = "7000000000"
    urllc = intents_of(site)["tor-tf1"].slices["urllc"]
    assert urllc.members == (SliceMember("tor-tf1/1"), SliceMember("tor-tf1/4", 7 * GBPS))
    assert urllc.guaranteed_bps(urllc.members[1]) == 7 * GBPS


def test_disabled_slice_is_passed_on_disabled(site: Tree) -> None:
    slice_entry(site, "embb")["config"]["enabled"] = False
    intents = intents_of(site)
    holders = [name for name, intent in intents.items() if "embb" in intent.slices]
    assert holders == ["dpu-bf3", "nic-cx7", "spine-tf2", "tor-tf1"]
    assert all(intents[name].slices["embb"].enabled is False for name in holders)


def test_slice_without_members_goes_to_no_device(site: Tree) -> None:
    del slice_entry(site, "miot")["members"]
    assert not any("miot" in intent.slices for intent in intents_of(site).values())


def test_member_order_does_not_matter(site: Tree) -> None:
    reordered = copy.deepcopy(site)
    slice_entry(reordered, "urllc")["members"]["member"].reverse()
    assert intents_of(reordered) == intents_of(site)


def test_missing_subtrees_mean_no_entries(site: Tree) -> None:
    assert intents_of({}) == {}
    del site["edge-ports:ports"], site["edge-slices:slices"]
    intents = intents_of(site)
    assert len(intents) == 9
    assert all(not i.ports and not i.slices for i in intents.values())


def test_device_without_ports_gets_an_empty_intent(site: Tree) -> None:
    add_device(site, "nic-new", "e810")
    intent = intents_of(site)["nic-new"]
    assert intent.device == DeviceConfig("nic-new", "e810")
    assert (dict(intent.ports), dict(intent.slices)) == ({}, {})


def test_dangling_references_are_refused(site: Tree) -> None:
    broken = copy.deepcopy(site)
    add_port(broken, "ghost/1", "ghost", 1)
    with pytest.raises(MappingError, match="unknown device 'ghost'"):
        intents_of(broken)
    add_member(site, "embb", "no-such-port")
    with pytest.raises(MappingError, match="no-such-port"):
        intents_of(site)


def test_missing_mandatory_leaf_is_refused(site: Tree) -> None:
    del port_config(site, "tor-tf1/1")["speed"]
    with pytest.raises(MappingError, match=r"tor-tf1/1.*speed"):
        intents_of(site)


def test_scaled_site_maps_every_port_and_slice_member() -> None:
    tree = scaled_site(2000, 300)
    intents = intents_of(tree)
    assert sum(len(i.ports) for i in intents.values()) == 2000
    members = sum(len(s.members) for i in intents.values() for s in i.slices.values())
    assert members == 300 * 3
