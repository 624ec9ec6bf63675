"""Demo traffic makes the counters of simulated ports and slices move."""

from __future__ import annotations

from pathlib import Path

from agent.clock import FakeClock
from agent.config import settings_from_mapping
from agent.schema.engine import SchemaEngine
from agent.simulation import offer_demo_traffic
from tests.datastore.harness import build


def test_counters_move_only_with_demo_traffic(engine: SchemaEngine, tmp_path: Path) -> None:
    clock = FakeClock()
    ds = build(engine, tmp_path / "state", clock)
    try:
        drivers = ds.devices.drivers
        clock.advance(10)
        assert drivers["tor-tf1"].read_counters(["tor-tf1/1"])["tor-tf1/1"].in_octets == 0
        ports = offer_demo_traffic(drivers, ds.running.intents)
        assert ports == 26
        clock.advance(10)
        first = drivers["tor-tf1"].read_counters(["tor-tf1/1"])["tor-tf1/1"]
        clock.advance(10)
        second = drivers["tor-tf1"].read_counters(["tor-tf1/1"])["tor-tf1/1"]
        rate = (second.in_octets - first.in_octets) * 8 / 10
        assert 0.10 * 100e9 <= rate < 0.40 * 100e9  # a share of the 100G port
        slices = drivers["tor-tf1"].read_slice_counters(["embb"])
        assert slices["embb"].in_octets > 0
    finally:
        ds.stop()


def test_simulate_traffic_setting(tmp_path: Path) -> None:
    assert settings_from_mapping({"simulate_traffic": True}, base_dir=tmp_path).simulate_traffic
    assert not settings_from_mapping({}, base_dir=tmp_path).simulate_traffic
