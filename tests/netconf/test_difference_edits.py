"""A commit of a candidate sends running only what differs: the edits of
difference_edits turn running into the candidate, leaf by leaf."""

from __future__ import annotations

import copy
from typing import Any

from agent.datastore.diff import diff_trees
from agent.datastore.edits import EditKind
from agent.datastore.tree import TreeOps
from agent.northbound.netconf.candidate import apply_edits
from agent.northbound.netconf.staged_view import MAX_DIFFERENCE_EDITS, difference_edits
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.sitegen import scaled_site


def test_the_edits_turn_running_into_the_candidate(engine: SchemaEngine, site: dict) -> None:
    ops = TreeOps(engine.nav)
    candidate: dict[str, Any] = copy.deepcopy(site)
    candidate["edge-ports:ports"]["port"][0]["config"]["mtu"] = 1600
    del candidate["edge-slices:slices"]["slice"][2]  # miot goes
    extra = copy.deepcopy(site["edge-slices:slices"]["slice"][0])
    extra["name"] = extra["config"]["name"] = "extra"
    extra["config"]["vlan-id"] = 999
    candidate["edge-slices:slices"]["slice"].append(extra)
    edits = difference_edits(site, candidate, engine.nav)
    assert edits is not None
    kinds = {(edit.kind, str(edit.path)) for edit in edits}
    assert (EditKind.REPLACE, "/ports/port[name=tor-tf1/1]/config/mtu") in kinds
    assert (EditKind.DELETE, "/slices/slice[name=miot]") in kinds
    after = apply_edits(ops, site, edits, [0] * len(edits))
    assert diff_trees(after, candidate, engine.nav) == ()
    assert ops.get(after, DataPath.parse("/slices/slice[name=extra]/config/vlan-id")) == 999


def test_shared_subtrees_are_not_looked_at_and_big_differences_replace(
    engine: SchemaEngine,
) -> None:
    site = scaled_site(512, 0)
    assert difference_edits(site, dict(site), engine.nav) == []
    changed = copy.deepcopy(site)
    for port in changed["edge-ports:ports"]["port"]:
        port["config"]["description"] = "every port changed"
    assert len(changed["edge-ports:ports"]["port"]) > MAX_DIFFERENCE_EDITS
    assert difference_edits(site, changed, engine.nav) is None


def test_each_edit_is_blamed_on_the_region_it_comes_from() -> None:
    from agent.northbound.netconf.staged_view import _region_of

    regions = [
        (DataPath.parse("/ports"), 0),
        (DataPath.parse("/ports/port[name=a]/config"), 3),
        (DataPath.parse("/slices/slice[name=s]"), 5),
    ]
    assert _region_of(DataPath.parse("/ports/port[name=a]/config/mtu"), regions) == 3
    assert _region_of(DataPath.parse("/ports/port[name=b]/config/mtu"), regions) == 0
    assert _region_of(DataPath.parse("/slices/slice[name=s]/config/priority"), regions) == 5
    assert _region_of(DataPath.parse("/slices"), regions) == 5  # a region below the edit
