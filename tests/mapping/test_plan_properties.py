"""Property: the intents of an edited tree are the old intents with the plan's ops applied."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.drivers import DeviceIntent
from agent.mapping.plan import DeviceAction, plan_changes
from agent.site_file import default_site_path

from .helpers import (
    Tree,
    add_device,
    add_member,
    add_port,
    devices,
    intents_of,
    member_ports,
    ports,
    remove_device,
    remove_member,
    remove_port,
    slices,
)

SITE: Tree = json.loads(default_site_path().read_text(encoding="utf-8"))
ABSENT = DeviceIntent.of(None)

Edit = Callable[[Tree, st.DataObject], None]


def _pick(data: st.DataObject, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return data.draw(st.sampled_from(items)) if items else None


def set_port_leaf(tree: Tree, data: st.DataObject) -> None:
    port = _pick(data, ports(tree))
    if port is None:
        return
    leaf, value = data.draw(
        st.sampled_from(
            [
                ("mtu", 1500),
                ("mtu", 9216),
                ("enabled", False),
                ("speed", "25G"),
                ("fec", "none"),
                ("fec", "auto"),
                ("loopback", "phy"),
                ("num-vfs", 4),
                ("lag-group", "lag7"),
                ("description", "edited"),
                ("channel", 0),
            ]
        )
    )
    port["config"][leaf] = value


def drop_port_leaf(tree: Tree, data: st.DataObject) -> None:
    port = _pick(data, ports(tree))
    if port is not None:
        leaf = data.draw(st.sampled_from(["mtu", "fec", "description", "num-vfs", "breakout"]))
        port["config"].pop(leaf, None)


def delete_port(tree: Tree, data: st.DataObject) -> None:
    port = _pick(data, ports(tree))
    if port is not None:
        remove_port(tree, port["name"])


def create_port(tree: Tree, data: st.DataObject) -> None:
    device = _pick(data, devices(tree))
    if device is None:
        return
    index = data.draw(st.integers(1, 64))
    name = f"{device['name']}/new{index}"
    if all(p["name"] != name for p in ports(tree)):
        add_port(tree, name, device["name"], index, speed="10G")


def set_slice_leaf(tree: Tree, data: st.DataObject) -> None:
    slice_ = _pick(data, slices(tree))
    if slice_ is None:
        return
    leaf, value = data.draw(
        st.sampled_from(
            [
                ("enabled", False),
                ("vlan-id", 999),
                ("min-rate-bps", "0"),
                ("max-rate-bps", "90000000000"),
                ("priority", 7),
                ("tenant", "someone"),
                ("sst", 77),
            ]
        )
    )
    slice_["config"][leaf] = value


def change_members(tree: Tree, data: st.DataObject) -> None:
    slice_ = _pick(data, slices(tree))
    port = _pick(data, ports(tree))
    if slice_ is None or port is None:
        return
    name = slice_["name"]
    if port["name"] in member_ports(tree, name):
        if data.draw(st.booleans()):
            remove_member(tree, name, port["name"])
        else:
            member = next(m for m in slice_["members"]["member"] if m["port"] == port["name"])
            member["config"]["min-rate-bps"] = "123000000"
    else:
        add_member(tree, name, port["name"])


def set_device_leaf(tree: Tree, data: st.DataObject) -> None:
    device = _pick(data, devices(tree))
    if device is None:
        return
    leaf, value = data.draw(
        st.sampled_from(
            [
                ("enabled", False),
                ("address", "10.0.0.9:9559"),
                ("backend", "real"),
                ("chipset", "edge-types:tofino2"),
                ("description", "edited"),
            ]
        )
    )
    device["config"][leaf] = value


def delete_device(tree: Tree, data: st.DataObject) -> None:
    device = _pick(data, devices(tree))
    if device is not None:
        remove_device(tree, device["name"])


def create_device(tree: Tree, data: st.DataObject) -> None:
    name = f"new-{data.draw(st.integers(0, 3))}"
    if all(d["name"] != name for d in devices(tree)):
        add_device(tree, name, data.draw(st.sampled_from(["e810", "bluefield-3", "tofino1"])))
        add_port(tree, f"{name}/1", name, 1)


EDITS: list[Edit] = [
    set_port_leaf,
    drop_port_leaf,
    delete_port,
    create_port,
    set_slice_leaf,
    change_members,
    set_device_leaf,
    delete_device,
    create_device,
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_plan_ops_take_old_intents_to_new_ones(data: st.DataObject) -> None:
    tree = copy.deepcopy(SITE)
    old = intents_of(tree)
    for edit in data.draw(st.lists(st.sampled_from(EDITS), min_size=1, max_size=6)):
        edit(tree, data)
    new = intents_of(tree)
    plan = plan_changes(old, new)

    planned = {step.name for step in plan}
    for name in old.keys() | new.keys():
        if name not in planned:
            assert old[name] == new[name]
    for step in plan:
        before = old.get(step.name)
        after = new.get(step.name)
        assert (step.before, step.after) == (before, after)
        if step.closes_driver:
            assert before is not None
            assert before.with_ops(step.teardown) == ABSENT
        if step.action is DeviceAction.UPDATE:
            assert before is not None and step.ops
            assert before.with_ops(step.ops) == after
        if step.opens_driver:
            assert ABSENT.with_ops(step.ops) == after
    ranks = [step.action.rank for step in plan]
    assert ranks == sorted(ranks)
