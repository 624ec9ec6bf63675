"""The state cache: configuration from commits, state from samples, and their deltas."""

from __future__ import annotations

import copy
from typing import Any

from agent.datastore.diff import diff_trees
from agent.mapping.state_tree import COUNTERS, STATE, Container, EntityKind, EntityState
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.telemetry.cache import StateCache
from agent.telemetry.flatten import Flattener, StateSample
from agent.telemetry.ingest import StateIngest
from agent.telemetry.patterns import EVERY_LEAF, PathPattern

PORT = "tor-tf1/1"


class Samples:
    """Typed port state, as the sampler hands it to the cache."""

    def __init__(self, engine: SchemaEngine) -> None:
        self._ingest = StateIngest(engine.nav)

    def port(
        self,
        mtu: int | None,
        octets: int | None,
        *,
        lag: str | None = None,
        name: str = PORT,
        counters_only: bool = False,
    ) -> StateSample:
        containers: list[Container] = []
        if mtu is not None:
            state: dict[str, Any] = {"mtu": mtu, "oper-status": "UP"}
            if lag is not None:
                state["lag-group"] = lag
            containers.append((STATE, state))
        if octets is not None:
            containers.append((COUNTERS, {"in-octets": octets}))
        entity = EntityState(EntityKind.PORT, name, tuple(containers))
        return self._ingest.sample([entity], counters_only=counters_only)


def loaded(engine: SchemaEngine, site: dict[str, Any]) -> tuple[StateCache, Samples]:
    cache = StateCache(engine.nav)
    cache.load_config(Flattener(engine.nav).config(engine.normalise(site)), 1)
    return cache, Samples(engine)


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
    cache, samples = loaded(engine, site)
    first = cache.apply_state(samples.port(9000, 1, lag="lag1"), 10)
    assert {str(g.path) for g in first.created} == {
        f"/ports/port[name={PORT}]/state",
        f"/ports/port[name={PORT}]/state/counters",
    }
    second = cache.apply_state(samples.port(9000, 5), 20)
    assert [(str(g.path), leaves) for g, leaves in second.changed] == [
        (f"/ports/port[name={PORT}]/state/counters", ("in-octets",))
    ]
    assert [(str(g.path), leaves) for g, leaves in second.removed_leaves] == [
        (f"/ports/port[name={PORT}]/state", ("lag-group",))
    ]
    unchanged = cache.apply_state(samples.port(9000, 5), 30)
    assert not unchanged
    counters = cache.group(DataPath.parse(f"/ports/port[name={PORT}]/state/counters"))
    assert counters is not None and counters.timestamp_ns == 30  # refreshed, not changed
    assert counters.values == {"in-octets": 5}  # typed as the driver reported it
    third = cache.apply_state(samples.port(9000, None), 40)
    assert [str(path) for path, _ in third.removed] == [f"/ports/port[name={PORT}]/state/counters"]


def test_a_counters_only_sample_leaves_the_other_state_alone(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    cache, samples = loaded(engine, site)
    cache.apply_state(samples.port(9000, 1), 10)
    changed = cache.apply_state(samples.port(None, 7, counters_only=True), 20)
    assert [(str(g.path), leaves) for g, leaves in changed.changed] == [
        (f"/ports/port[name={PORT}]/state/counters", ("in-octets",))
    ]
    assert not changed.removed
    state = cache.group(DataPath.parse(f"/ports/port[name={PORT}]/state"))
    assert state is not None and state.values["mtu"] == 9000 and state.timestamp_ns == 10
    unreadable = cache.apply_state(samples.port(None, None, counters_only=True), 30)
    assert [str(path) for path, _ in unreadable.removed] == [
        f"/ports/port[name={PORT}]/state/counters"
    ]
    assert cache.group(DataPath.parse(f"/ports/port[name={PORT}]/state")) is not None


def test_state_of_deleted_entries_is_ignored(engine: SchemaEngine, site: dict[str, Any]) -> None:
    cache, samples = loaded(engine, site)
    delta = cache.apply_state(samples.port(1500, None, name="gone/1"), 10)
    assert not delta.created
    assert cache.group(DataPath.parse("/ports/port[name=gone/1]/state")) is None


def test_matching_walks_the_pattern(engine: SchemaEngine, site: dict[str, Any]) -> None:
    cache, samples = loaded(engine, site)
    cache.apply_state(samples.port(9000, 1), 10)
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
