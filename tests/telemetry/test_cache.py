"""The state cache: configuration from commits, state from samples, and their deltas."""

from __future__ import annotations

import copy
from typing import Any

from agent.datastore.diff import diff_trees
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.telemetry.cache import StateCache
from agent.telemetry.flatten import Flattener
from agent.telemetry.patterns import EVERY_LEAF, PathPattern

PORT = "tor-tf1/1"


def state_tree(mtu: int, octets: str, *, lag: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"mtu": mtu, "oper-status": "UP", "counters": {"in-octets": octets}}
    if lag is not None:
        state["lag-group"] = lag
    return {"edge-ports:ports": {"port": [{"name": PORT, "state": state}]}}


def loaded(engine: SchemaEngine, site: dict[str, Any]) -> tuple[StateCache, Flattener]:
    cache = StateCache(engine.nav)
    flattener = Flattener(engine.nav)
    cache.load_config(flattener.config(engine.normalise(site)), 1)
    return cache, flattener


def test_configuration_is_flattened_into_containers(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    cache, _ = loaded(engine, site)
    config = cache.group(DataPath.parse(f"/ports/port[name={PORT}]/config"))
    assert config is not None and config.config
    assert config.values["device"] == "tor-tf1"
    entry = cache.group(DataPath.parse(f"/ports/port[name={PORT}]"))
    assert entry is not None and dict(entry.values) == {"name": PORT}
    assert cache.group(DataPath.parse(f"/ports/port[name={PORT}]/state")) is None


def test_commit_changes_update_and_delete(engine: SchemaEngine, site: dict[str, Any]) -> None:
    cache, _ = loaded(engine, site)
    old = engine.normalise(site)
    new = copy.deepcopy(old)
    port = next(p for p in new["edge-ports:ports"]["port"] if p["name"] == PORT)
    port["config"]["mtu"] = 1600
    new["edge-slices:slices"]["slice"] = [
        s for s in new["edge-slices:slices"]["slice"] if s["name"] != "miot"
    ]
    delta = cache.apply_changes(diff_trees(old, new, engine.nav), 7)
    changed = {(str(g.path), leaves) for g, leaves in delta.changed}
    assert (f"/ports/port[name={PORT}]/config", ("mtu",)) in changed
    assert [str(path) for path, _ in delta.removed] == ["/slices/slice[name=miot]"]
    assert cache.group(DataPath.parse("/slices/slice[name=miot]/config")) is None
    group = cache.group(DataPath.parse(f"/ports/port[name={PORT}]/config"))
    assert group is not None and group.values["mtu"] == 1600 and group.timestamp_ns == 7


def test_samples_create_change_and_remove_state(engine: SchemaEngine, site: dict[str, Any]) -> None:
    cache, flattener = loaded(engine, site)
    first = cache.apply_state(flattener.state(state_tree(9000, "1", lag="lag1")), 10)
    assert {str(g.path) for g in first.created} == {
        f"/ports/port[name={PORT}]/state",
        f"/ports/port[name={PORT}]/state/counters",
    }
    second = cache.apply_state(flattener.state(state_tree(9000, "5")), 20)
    assert [(str(g.path), leaves) for g, leaves in second.changed] == [
        (f"/ports/port[name={PORT}]/state/counters", ("in-octets",))
    ]
    assert [(str(g.path), leaves) for g, leaves in second.removed_leaves] == [
        (f"/ports/port[name={PORT}]/state", ("lag-group",))
    ]
    unchanged = cache.apply_state(flattener.state(state_tree(9000, "5")), 30)
    assert not unchanged
    counters = cache.group(DataPath.parse(f"/ports/port[name={PORT}]/state/counters"))
    assert counters is not None and counters.timestamp_ns == 30  # refreshed, not changed
    gone = {"edge-ports:ports": {"port": [{"name": PORT, "state": {"mtu": 9000}}]}}
    third = cache.apply_state(flattener.state(gone), 40)
    assert [str(path) for path, _ in third.removed] == [f"/ports/port[name={PORT}]/state/counters"]


def test_state_of_deleted_entries_is_ignored(engine: SchemaEngine, site: dict[str, Any]) -> None:
    cache, flattener = loaded(engine, site)
    stale = {"edge-ports:ports": {"port": [{"name": "gone/1", "state": {"mtu": 1500}}]}}
    delta = cache.apply_state(flattener.state(stale), 10)
    assert not delta.created
    assert cache.group(DataPath.parse("/ports/port[name=gone/1]/state")) is None


def test_matching_walks_the_pattern(engine: SchemaEngine, site: dict[str, Any]) -> None:
    cache, flattener = loaded(engine, site)
    cache.apply_state(flattener.state(state_tree(9000, "1")), 10)
    found = {
        str(g.path): leaves for g, leaves in cache.matching(PathPattern(DataPath.parse("/...")))
    }
    assert found[f"/ports/port[name={PORT}]/state/counters"] is EVERY_LEAF
    mtu = PathPattern(DataPath.parse("/ports/port[name=*]/*/mtu"))
    assert {str(g.path) for g, _ in cache.matching(mtu)} >= {
        f"/ports/port[name={PORT}]/config",
        f"/ports/port[name={PORT}]/state",
    }
    assert all(leaves == frozenset({"mtu"}) for _, leaves in cache.matching(mtu))
