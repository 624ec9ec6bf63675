"""Property: intents derived from the touched entries equal intents built from scratch."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.mapping.intents import Touched, derive
from agent.mapping.model import Entry, MappingError

from .helpers import Tree, devices, intents_of, ports, site_model
from .test_plan_properties import EDITS, SITE, Edit


def move_port(tree: Tree, data: st.DataObject) -> None:
    """A port (maybe a slice member) goes to another device."""
    if not ports(tree) or not devices(tree):
        return
    port = data.draw(st.sampled_from(ports(tree)))
    device = data.draw(st.sampled_from(devices(tree)))
    port["config"]["device"] = device["name"]
    port["config"]["index"] = data.draw(st.integers(100, 120))


def _by_name(tree: Tree, kind: str) -> dict[str, Entry]:
    return {str(entry["name"]): entry for entry in site_model().of(kind).entries(tree)}


def _touched(old: Tree, new: Tree) -> Touched:
    """Every entry whose content differs between ``old`` and ``new``, by kind."""
    found: dict[str, frozenset[str]] = {}
    for kind in ("device", "port", "slice"):
        before, after = _by_name(old, kind), _by_name(new, kind)
        found[kind] = frozenset(
            name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
        )
    return Touched(found["device"], found["port"], found["slice"])


def _lookup(tree: Tree) -> Any:
    def lookup(kind: str, name: str) -> Entry | None:
        return _by_name(tree, kind).get(name)

    return lookup


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_derived_intents_equal_built_ones(data: st.DataObject) -> None:
    tree = copy.deepcopy(SITE)
    old = intents_of(tree)
    edits: list[Edit] = [*EDITS, move_port]
    for edit in data.draw(st.lists(st.sampled_from(edits), min_size=1, max_size=6)):
        edit(tree, data)
    try:
        expected = intents_of(tree)
    except MappingError:
        with pytest.raises(MappingError):
            derive(old, _touched(SITE, tree), _lookup(tree), site_model())
        return
    derived = derive(old, _touched(SITE, tree), _lookup(tree), site_model())
    assert dict(derived) == dict(expected)
    assert list(derived) == sorted(derived)
    for port in ports(tree):
        assert derived.device_of(port["name"]) == port["config"]["device"]
    again = intents_of(tree)  # and a later change derives from the derived indexes
    for name, intent in derived.items():
        if old.get(name) == intent:
            assert old[name] is intent, "an unchanged device keeps its intent object"
    assert derive(derived, Touched(), _lookup(tree), site_model()) == again


def test_a_port_moved_takes_its_slice_part_along(site: Tree) -> None:
    model = site_model()
    old = intents_of(site)
    slice_ = model.slice.entries(site)[0]
    port_name = slice_["members"]["member"][0]["port"]
    port = next(p for p in ports(site) if p["name"] == port_name)
    before = port["config"]["device"]
    target = next(d["name"] for d in devices(site) if d["name"] != before)
    edited = copy.deepcopy(site)
    moved = next(p for p in ports(edited) if p["name"] == port_name)
    moved["config"].update({"device": target, "index": 99})
    derived = derive(old, Touched(ports=frozenset({port_name})), _lookup(edited), model)
    assert derived == intents_of(edited)
    assert port_name in derived[target].ports and port_name not in derived[before].ports
    assert slice_["name"] in derived[target].slices
    assert port_name in derived[target].slices[slice_["name"]].member_ports


def test_a_port_on_a_device_that_does_not_exist_is_a_mapping_error(site: Tree) -> None:
    old = intents_of(site)
    edited = copy.deepcopy(site)
    name = ports(edited)[0]["name"]
    ports(edited)[0]["config"]["device"] = "nowhere"
    with pytest.raises(MappingError, match="unknown device 'nowhere'"):
        derive(old, Touched(ports=frozenset({name})), _lookup(edited), site_model())
