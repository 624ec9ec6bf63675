"""Subscription paths as patterns: wildcards, keys, leaves, and what they reach in the schema."""

from __future__ import annotations

import pytest

from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.telemetry.patterns import EVERY_LEAF, PathPattern, SchemaReach

STATE = "/ports/port[name=p1]/state"
COUNTERS = "/ports/port[name=p1]/state/counters"


def leaves(pattern: str, container: str) -> frozenset[str]:
    compiled = PathPattern(DataPath.parse(pattern))
    return compiled.leaves(compiled.consume(DataPath.parse(container)))


@pytest.mark.parametrize(
    ("pattern", "container", "expected"),
    [
        ("/ports", COUNTERS, EVERY_LEAF),  # an ancestor selects everything below
        ("/ports/port[name=p1]/state/counters", COUNTERS, EVERY_LEAF),
        ("/ports/port[name=p2]/state/counters", COUNTERS, frozenset()),
        ("/ports/port/state/counters", COUNTERS, EVERY_LEAF),  # missing key: any entry
        ("/ports/port[name=*]/state/counters", COUNTERS, EVERY_LEAF),
        ("/ports/*/state/counters", COUNTERS, EVERY_LEAF),
        ("/ports/port/state/mtu", STATE, frozenset({"mtu"})),
        ("/ports/port/state/mtu", COUNTERS, frozenset()),
        ("/ports/port/state/*", STATE, EVERY_LEAF),
        ("/.../oper-status", STATE, frozenset({"oper-status"})),
        ("/.../counters", COUNTERS, EVERY_LEAF),
        ("/...", COUNTERS, EVERY_LEAF),
        ("/", COUNTERS, EVERY_LEAF),
        ("/ports/port/.../in-octets", COUNTERS, frozenset({"in-octets"})),
        ("/slices/slice/state", COUNTERS, frozenset()),
        ("/edge-ports:ports/port/state/mtu", STATE, frozenset({"mtu"})),  # modules ignored
    ],
)
def test_leaves_a_pattern_selects(pattern: str, container: str, expected: frozenset[str]) -> None:
    assert leaves(pattern, container) == expected


def test_keys_with_special_characters_match_exactly() -> None:
    pattern = PathPattern(DataPath.parse("/ports/port[name=tor-tf1/2/0]/state"))
    assert pattern.covers(DataPath.parse("/ports/port[name=tor-tf1/2/0]/state"))
    assert not pattern.covers(DataPath.parse("/ports/port[name=tor-tf1/2/1]/state"))


def test_covers_and_consume() -> None:
    pattern = PathPattern(DataPath.parse("/slices/slice[name=embb]"))
    assert pattern.covers(DataPath.parse("/slices/slice[name=embb]/state/counters"))
    assert not pattern.covers(DataPath.parse("/slices"))
    assert pattern.consume(DataPath.parse("/slices"))  # on the way there
    assert not pattern.consume(DataPath.parse("/ports"))


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("/ports/port/config/mtu", False),
        ("/ports/port/config", False),
        ("/ports/port/state/mtu", True),
        ("/ports/port", True),
        ("/ports/port[name=x]/name", False),
        ("/slices/slice/members/member/state/oper-status", True),
        ("/.../config", False),
        ("/.../oper-status", True),
        ("/", True),
    ],
)
def test_schema_reach(engine: SchemaEngine, text: str, state: bool) -> None:
    assert SchemaReach(engine.nav).reaches_state(PathPattern(DataPath.parse(text))) is state
