"""bindings/ is generated from yang/, fresh, and produces data the schema engine accepts."""

from __future__ import annotations

import json
import shutil

import pytest
from pyangbind.lib.pybindJSON import dumps as pybind_dumps

from agent.schema.engine import SchemaEngine
from bindings import edge_site
from tests.conftest import ROOT
from tools import gen_bindings


def test_committed_bindings_are_fresh() -> None:
    committed = (ROOT / "bindings" / "edge_site.py").read_text(encoding="utf-8")
    assert gen_bindings.generate() == committed, "bindings are stale: run `make bindings`"


def test_a_yang_change_without_regenerating_is_detected(tmp_path) -> None:
    for path in (ROOT / "yang").glob("*.yang"):
        shutil.copy(path, tmp_path / path.name)
    ports = tmp_path / "edge-ports.yang"
    ports.write_text(ports.read_text().replace('default "1514";', 'default "1500";'))
    committed = (ROOT / "bindings" / "edge_site.py").read_text(encoding="utf-8")
    assert gen_bindings.generate(tmp_path) != committed


def _ietf(*objects: object) -> dict:
    tree: dict = {}
    for obj in objects:
        tree.update(json.loads(pybind_dumps(obj, mode="ietf")))
    return tree


def test_bindings_build_a_port_and_slice_the_engine_accepts(engine: SchemaEngine) -> None:
    platform = edge_site.edge_platform()
    ports = edge_site.edge_ports()
    slices = edge_site.edge_slices()
    device = platform.platform.devices.device.add("leaf1")
    device.config.name = "leaf1"
    device.config.chipset = "tofino2"
    port = ports.ports.port.add("leaf1/1")
    port.config.name = "leaf1/1"
    port.config.device = "leaf1"
    port.config.index = 1
    port.config.speed = "400G"
    port.config.fec = "rs544"
    port.config.mtu = 9216
    sl = slices.slices.slice.add("embb")
    sl.config.name = "embb"
    sl.config.sst = 1
    sl.config.sd = "00000A"
    sl.config.vlan_id = 100
    sl.config.min_rate_bps = 10**9
    sl.config.max_rate_bps = 10**10
    sl.members.member.add("leaf1/1").config.port = "leaf1/1"

    tree = _ietf(platform, ports, slices)

    # RFC 7951: module-qualified top level, identities qualified, uint64 as strings
    device_config = tree["edge-platform:platform"]["devices"]["device"][0]["config"]
    assert device_config["chipset"] == "edge-types:tofino2"
    assert tree["edge-slices:slices"]["slice"][0]["config"]["max-rate-bps"] == "10000000000"
    assert engine.refusals(tree) == ()


def test_bindings_refuse_values_outside_the_model() -> None:
    ports = edge_site.edge_ports()
    port = ports.ports.port.add("p")
    with pytest.raises(ValueError):
        port.config.mtu = 70000
    with pytest.raises(ValueError):
        port.config.speed = "300G"
