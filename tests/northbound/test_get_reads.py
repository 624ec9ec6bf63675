"""Which driver state a Get reads: none for configuration, only the named entities for
state (the GetHandler over a recording state source)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.datastore.selection import selection_for
from agent.datastore.tree import TreeOps
from agent.gnmi.pb import gnmi_pb2
from agent.gnmi.schema_info import CachedSchema
from agent.mapping.state_tree import ALL, Selection
from agent.northbound.get import GetHandler
from agent.northbound.view import DataView, limit_depth
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.northbound.harness import path

NONE = frozenset[str]()


@dataclass
class RecordingState:
    """Renders an empty state container for whatever is selected, and remembers it."""

    selections: list[Selection]

    def read(self, running: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
        self.selections.append(selection)
        ports = [
            {**p, "state": {"oper-status": "UP"}}
            for p in running["edge-ports:ports"]["port"]
            if selection.ports is None or p["name"] in selection.ports
        ]
        return {"edge-ports:ports": {"port": ports}} if ports else {}


@pytest.fixture
def handler_and_reads(engine: SchemaEngine, site: dict[str, Any]):
    reads = RecordingState([])
    running = SimpleNamespace(running=SimpleNamespace(tree=engine.normalise(site), version=1))
    handler = GetHandler(
        running,
        DataView(TreeOps(engine.nav)),
        CachedSchema(engine),
        reads,
        FakeClock(),
        engine.modules,
    )
    return handler, reads.selections


def get(handler: GetHandler, text: str, data_type: int = 0) -> Any:
    request = gnmi_pb2.GetRequest(path=[path(text)], type=data_type)
    return gnmi_pb2.GetResponse.FromString(handler.respond(handler.prepare(request)))


def test_configuration_reads_no_driver(handler_and_reads) -> None:
    handler, reads = handler_and_reads
    get(handler, "/ports/port[name=tor-tf1/1]/config/mtu")
    get(handler, "/ports/port[name=*]/config")
    get(handler, "/ports/port[name=tor-tf1/1]", data_type=1)
    get(handler, "/", data_type=1)
    assert reads == []


def test_state_reads_only_what_the_path_names(handler_and_reads) -> None:
    handler, reads = handler_and_reads
    response = get(handler, "/ports/port[name=tor-tf1/1]/state/oper-status")
    assert response.notification[0].update[0].val.json_val == b'"UP"'
    assert reads == [Selection(NONE, frozenset({"tor-tf1/1"}), NONE, NONE)]


@pytest.mark.parametrize(
    ("text", "selection"),
    [
        ("/ports/port[name=p1]/state", Selection(NONE, frozenset({"p1"}), NONE, NONE)),
        ("/ports/port[name=*]/state", Selection(NONE, None, NONE, NONE)),
        ("/ports", Selection(NONE, None, NONE, NONE)),
        ("/slices/slice[name=embb]", Selection(NONE, NONE, frozenset({"embb"}), NONE)),
        (
            "/platform/devices/device[name=d1]/state",
            Selection(frozenset({"d1"}), NONE, NONE, NONE),
        ),
        ("/platform/.../oper-status", Selection(None, NONE, NONE, NONE)),
        ("/tenants/tenant[name=t1]/state", Selection(NONE, NONE, NONE, frozenset({"t1"}))),
        ("/tenants", Selection(NONE, NONE, NONE, None)),
        ("/", ALL),
        ("/.../state", ALL),
    ],
)
def test_selection_for(text: str, selection: Selection) -> None:
    assert selection_for(DataPath.parse(text)) == selection


def test_limit_depth() -> None:
    value = {
        "name": "a",
        "tags": ["x", "y"],
        "list": [{"k": 1, "inner": {"v": 2}}],
        "box": {"leaf": 1, "deeper": {"leaf": 2}},
    }
    assert limit_depth(value, 0) == value
    assert limit_depth(value, 1) == {"name": "a", "tags": ["x", "y"]}
    assert limit_depth(value, 2) == {
        "name": "a",
        "tags": ["x", "y"],
        "list": [{"k": 1}],
        "box": {"leaf": 1},
    }


def test_a_repeated_request_is_answered_again_only_for_the_version_it_was_made_for(
    engine: SchemaEngine, site: dict[str, Any]
) -> None:
    tree = engine.normalise(site)
    running = SimpleNamespace(running=SimpleNamespace(tree=tree, version=1))
    clock = FakeClock()
    handler = GetHandler(
        running, DataView(TreeOps(engine.nav)), CachedSchema(engine), RecordingState([]), clock,
        engine.modules,
    )  # fmt: skip
    port = tree["edge-ports:ports"]["port"][0]["name"]
    request = gnmi_pb2.GetRequest(path=[path(f"/ports/port[name={port}]/config/mtu")], type=1)

    def answer() -> bytes | None:
        return handler.cached_response(handler.prepare(request))

    assert answer() is None  # never answered: not encoded yet, the worker answers it
    handler.respond(handler.prepare(request))
    answered = answer()
    assert answered is not None
    clock.advance(5)
    again = answer()
    assert again is not None
    stamps = [
        gnmi_pb2.GetResponse.FromString(r).notification[0].timestamp for r in (answered, again)
    ]
    assert stamps[1] > stamps[0]  # the same answer, stamped when it is given
    # a commit makes a new running tree: the answer is made again from it
    changed = TreeOps(engine.nav).update(
        tree, DataPath.parse(f"/ports/port[name={port}]/config/mtu"), 1600
    )
    running.running = SimpleNamespace(tree=changed, version=2)
    assert answer() is None
    handler.respond(handler.prepare(request))
    fresh = answer()
    assert fresh is not None and b"1600" in fresh
    assert b"1600" in (answer() or b"")
