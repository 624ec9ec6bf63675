"""Wildcard selection costs (nodes visited) x (path length), however many ``...``."""

from __future__ import annotations

from typing import Any

import pytest

from agent.cancellation import WorkCancelled, WorkScope, running_in
from agent.clock import SystemClock
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath, PathElem


class CountingScope(WorkScope):
    """A scope that counts checkpoints: one per data node the walk visits."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__(SystemClock())
        self.checks = 0
        self.stop_after = stop_after

    def check(self) -> None:
        self.checks += 1
        if self.stop_after is not None and self.checks > self.stop_after:
            self.cancel()
        super().check()


@pytest.fixture(scope="module")
def ops(engine: SchemaEngine) -> TreeOps:
    return TreeOps(engine.nav)


def _any_depth(count: int, *tail: str) -> DataPath:
    return DataPath((*(PathElem("...") for _ in range(count)), *(PathElem(t) for t in tail)))


def _select(ops: TreeOps, tree: dict[str, Any], path: DataPath) -> tuple[list[Any], int]:
    scope = CountingScope()
    with running_in(scope):
        found = ops.select(tree, path)
    return found, scope.checks


@pytest.mark.parametrize("tail", [(), ("mtu",), ("config", "mtu")])
def test_many_any_depth_elements_cost_what_one_costs(ops: TreeOps, site: dict, tail) -> None:
    one, one_cost = _select(ops, site, _any_depth(1, *tail))
    many, many_cost = _select(ops, site, _any_depth(24, *tail))
    assert one and [p for p, _ in many] == [p for p, _ in one]
    assert many_cost <= 2 * one_cost


def test_interleaved_any_depth_stays_linear(ops: TreeOps, site: dict) -> None:
    elems: list[PathElem] = []
    for _ in range(3):
        elems += [PathElem("..."), PathElem("*")]
    found, cost = _select(ops, site, DataPath((*elems, PathElem("mtu"))))
    everything, baseline = _select(ops, site, _any_depth(1))
    assert {str(p) for p, _ in found} == {
        str(p) for p, _ in everything if len(p) >= 4 and p.elems[-1].name == "mtu"
    }
    assert found and cost <= 2 * baseline


def test_a_path_deeper_than_the_schema_is_refused_before_any_walk(ops: TreeOps, site: dict) -> None:
    scope = CountingScope()
    with running_in(scope), pytest.raises(DatastoreError) as refused:
        ops.select(site, DataPath(tuple(PathElem("*") for _ in range(40))))
    assert refused.value.kind is ErrorKind.NOT_FOUND
    assert scope.checks <= 40


def test_each_match_is_reported_once(ops: TreeOps, site: dict) -> None:
    found, _ = _select(ops, site, DataPath.parse("/.../.../config/mtu"))
    paths = [str(p) for p, _ in found]
    assert len(paths) == len(set(paths)) == len(site["edge-ports:ports"]["port"])


def test_a_cancelled_walk_stops(ops: TreeOps, site: dict) -> None:
    scope = CountingScope(stop_after=10)
    with running_in(scope), pytest.raises(WorkCancelled):
        ops.select(site, _any_depth(1))
    assert scope.checks == 11
