"""TreeOps.get looks concrete paths up by name and key index and answers exactly what
the walk of select answers, for every node of the site and for absent ones."""

from __future__ import annotations

from typing import Any

import pytest

from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath


def every_path(ops: TreeOps, tree: dict[str, Any]) -> list[DataPath]:
    return [path for path, _ in ops.select(tree, DataPath.parse("/..."))]


def test_every_node_of_the_site_as_the_walk_finds_it(engine: SchemaEngine, site: dict) -> None:
    ops = TreeOps(engine.nav)
    paths = every_path(ops, site)
    assert len(paths) > 400
    for path in paths:
        walked = ops.select(site, path)
        assert ops.get(site, path) is walked[0][1], path


@pytest.mark.parametrize(
    "text",
    [
        "/ports/port[name=no-such-port]/config/mtu",
        "/ports/port[name=tor-tf1/1]/config/no-mtu-here",
        "/slices/slice[name=embb]/members/member[port=nowhere]",
        "/ports/port[name=*]/config/mtu",
        "/ports/port/config/mtu",
        "/edge-ports:ports/port[name=tor-tf1/1]/config/mtu",
        "/ports/port[name=tor-tf1/1][device=tor-tf1]/config",
    ],
)
def test_absent_wildcard_and_qualified_paths(engine: SchemaEngine, site: dict, text: str) -> None:
    ops = TreeOps(engine.nav)
    path = DataPath.parse(text)
    try:
        walked = ops.select(site, path)
    except Exception as err:  # the walk's refusal is the lookup's too
        with pytest.raises(type(err)):
            ops.get(site, path)
        return
    assert ops.get(site, path) == (walked[0][1] if walked else None)
