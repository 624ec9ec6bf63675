"""Change plans: per-device ops between two sets of intents, and their execution order."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace

import pytest

from agent.clock import FakeClock
from agent.drivers import (
    DeviceConfig,
    DeviceIntent,
    DeviceOp,
    Op,
    PortConfig,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
    canonical_order,
)
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.registry import DriverRegistry
from agent.drivers.units import GBPS
from agent.mapping.plan import ChangePlan, DeviceAction, plan_changes

from .helpers import (
    Tree,
    add_device,
    add_member,
    add_port,
    device_config,
    drivers_for,
    intents_of,
    port_config,
    remove_device,
    remove_member,
    remove_port,
    slice_entry,
)


def plan_for(old: Tree, new: Tree) -> ChangePlan:
    return plan_changes(intents_of(old), intents_of(new))


def execute(plan: ChangePlan, drivers: dict[str, ChipDriver], clock: FakeClock) -> None:
    """Runs a plan the way the commit pipeline does."""
    registry = DriverRegistry.discover()
    for step in plan:
        if step.closes_driver:
            old = drivers.pop(step.name)
            old.apply(step.teardown)
            old.close()
        if step.opens_driver:
            assert step.new_device is not None
            created = registry.create(step.new_device, clock)
            assert isinstance(created, ChipDriver)
            created.open()
            drivers[step.name] = created
        if step.ops:
            drivers[step.name].apply(step.ops)


def assert_drivers_hold(drivers: Mapping[str, ChipDriver], tree: Tree) -> None:
    intents = intents_of(tree)
    assert sorted(drivers) == sorted(intents)
    for name, intent in intents.items():
        assert drivers[name].applied() == intent, name


def test_same_tree_gives_an_empty_plan(site: Tree) -> None:
    plan = plan_for(site, copy.deepcopy(site))
    assert not plan
    assert (len(plan), plan.op_count, list(plan)) == (0, 0, [])


def test_changes_no_driver_value_carries_give_an_empty_plan(site: Tree) -> None:
    new = copy.deepcopy(site)
    device_config(new, "tor-tf1")["description"] = "renamed rack"
    port_config(new, "tor-tf1/1")["description"] = "new uplink"
    config = slice_entry(new, "embb")["config"]
    config.update({"description": "other", "tenant": "operator-z", "sst": 9, "sd": "ABCDEF"})
    slice_entry(new, "urllc")["members"]["member"].reverse()
    # explicit defaults are the same values as absent leaves
    port_config(new, "nic-cx7/1").update({"enabled": True, "channel": 0, "loopback": "none"})
    device_config(new, "nic-cx6").update({"backend": "mock", "enabled": True})
    slice_entry(new, "miot")["config"]["enabled"] = True
    assert not plan_for(site, new)


def test_single_leaf_change_is_one_port_op(site: Tree) -> None:
    new = copy.deepcopy(site)
    port_config(new, "tor-tf1/3")["mtu"] = 1500
    plan = plan_for(site, new)
    assert [(step.name, step.action) for step in plan] == [("tor-tf1", DeviceAction.UPDATE)]
    (step,) = plan
    (op,) = step.ops
    assert isinstance(op, PortOp) and op.action == "update"
    assert op.before is not None and op.after is not None
    assert (op.before.mtu, op.after.mtu) == (9000, 1500)
    assert step.teardown == ()
    assert (step.closes_driver, step.opens_driver) == (False, False)
    assert plan.get("tor-tf1") is step and plan.get("spine-tf2") is None


def test_port_add_and_delete(site: Tree) -> None:
    new = copy.deepcopy(site)
    add_port(new, "nic-e810/3", "nic-e810", 3, speed="25G")
    remove_port(new, "tor-tf1/4")  # also leaves slice urllc
    plan = plan_for(site, new)
    assert plan.names(DeviceAction.UPDATE) == ("nic-e810", "tor-tf1")
    nic, tor = plan
    assert [(type(op), op.name, op.action) for op in nic.ops] == [(PortOp, "nic-e810/3", "create")]
    assert [(type(op), op.name, op.action) for op in tor.ops] == [
        (PortOp, "tor-tf1/4", "delete"),
        (SliceOp, "urllc", "update"),
    ]
    urllc = tor.ops[1].after
    assert isinstance(urllc, SliceConfig) and urllc.member_ports == ("tor-tf1/1",)


def test_slice_member_move_touches_two_devices(site: Tree) -> None:
    new = copy.deepcopy(site)
    remove_member(new, "embb", "nic-cx7/1")
    add_member(new, "embb", "nic-cx6/2", **{"min-rate-bps": "2000000000"})
    add_member(new, "embb", "tor-tf1/3")
    plan = plan_for(site, new)
    summary = {step.name: [(op.kind, op.name, op.action) for op in step.ops] for step in plan}
    assert summary == {
        "nic-cx6": [("slice", "embb", "create")],
        "nic-cx7": [("slice", "embb", "delete")],
        "tor-tf1": [("slice", "embb", "update")],
    }
    created = plan.get("nic-cx6")
    assert created is not None
    (op,) = created.ops
    assert isinstance(op.after, SliceConfig)
    assert op.after.members[0].min_rate_bps == 2_000_000_000
    tor = plan.get("tor-tf1")
    assert tor is not None and isinstance(tor.ops[0].after, SliceConfig)
    assert tor.ops[0].after.member_ports == ("tor-tf1/1", "tor-tf1/3")


def test_disabling_a_slice_updates_every_device_it_spans(site: Tree) -> None:
    new = copy.deepcopy(site)
    slice_entry(new, "miot")["config"]["enabled"] = False
    plan = plan_for(site, new)
    assert plan.names(DeviceAction.UPDATE) == ("ipu-e2k", "nic-cx6", "tor-tf1")
    for step in plan:
        (op,) = step.ops
        assert isinstance(op, SliceOp) and op.after is not None and op.after.enabled is False


def test_device_add(site: Tree) -> None:
    new = copy.deepcopy(site)
    add_device(new, "nic-new", "connectx-7")
    add_port(new, "nic-new/1", "nic-new", 1, speed="200G")
    add_member(new, "miot", "nic-new/1")
    plan = plan_for(site, new)
    assert [(s.name, s.action) for s in plan] == [("nic-new", DeviceAction.CREATE)]
    (step,) = plan
    assert (step.before, step.teardown, step.closes_driver, step.opens_driver) == (
        None,
        (),
        False,
        True,
    )
    assert step.new_device == DeviceConfig("nic-new", "connectx-7")
    assert [(op.kind, op.name, op.action) for op in step.ops] == [
        ("device", "nic-new", "create"),
        ("port", "nic-new/1", "create"),
        ("slice", "miot", "create"),
    ]
    assert DeviceIntent.of(None).with_ops(step.ops) == step.after


def test_device_remove_tears_down_then_closes(site: Tree) -> None:
    new = copy.deepcopy(site)
    remove_device(new, "tor-tf1")
    plan = plan_for(site, new)
    first = plan.devices[0]
    assert (first.name, first.action, first.after, first.ops) == (
        "tor-tf1",
        DeviceAction.REMOVE,
        None,
        (),
    )
    assert first.closes_driver and not first.opens_driver
    kinds = [(op.kind, op.action) for op in first.teardown]
    assert kinds[:3] == [("slice", "delete")] * 3
    assert kinds[3:-1] == [("port", "delete")] * 7
    assert kinds[-1] == ("device", "delete")
    assert first.before is not None
    emptied = first.before.with_ops(first.teardown)
    assert emptied.device is None and not emptied.ports and not emptied.slices
    # the slices it shared shrink elsewhere; the devices they left are not touched
    assert plan.names(DeviceAction.UPDATE) == ()


@pytest.mark.parametrize(
    ("leaf", "value"), [("chipset", "edge-types:connectx-7"), ("backend", "netlink")]
)
def test_chipset_or_backend_change_recreates_the_driver(site: Tree, leaf: str, value: str) -> None:
    new = copy.deepcopy(site)
    device_config(new, "nic-cx6")[leaf] = value
    plan = plan_for(site, new)
    assert [(s.name, s.action) for s in plan] == [("nic-cx6", DeviceAction.RECREATE)]
    (step,) = plan
    assert step.closes_driver and step.opens_driver
    assert step.teardown[-1] == DeviceOp(step.old_device, None)
    assert step.ops[0] == DeviceOp(None, step.new_device)
    assert DeviceIntent.of(None).with_ops(step.ops) == step.after


def test_address_and_enabled_changes_update_the_running_driver(site: Tree) -> None:
    new = copy.deepcopy(site)
    device_config(new, "nic-cx6").update({"address": "0000:3b:00.0", "enabled": False})
    (step,) = plan_for(site, new)
    assert step.action is DeviceAction.UPDATE
    (op,) = step.ops
    assert isinstance(op, DeviceOp) and op.after is not None
    assert (op.after.address, op.after.enabled) == ("0000:3b:00.0", False)


def test_plan_order_removes_first_then_recreates_updates_creates(site: Tree) -> None:
    new = copy.deepcopy(site)
    add_device(new, "a-new", "e810")
    add_device(new, "z-new", "e810")
    remove_device(new, "nic-e810")
    remove_device(new, "dpu-bf2")
    device_config(new, "nic-cx6")["chipset"] = "edge-types:connectx-7"
    port_config(new, "tor-tf1/1")["mtu"] = 1500
    port_config(new, "fpga-s10/2")["mtu"] = 1500
    plan = plan_for(site, new)
    assert [(s.action, s.name) for s in plan] == [
        (DeviceAction.REMOVE, "dpu-bf2"),
        (DeviceAction.REMOVE, "nic-e810"),
        (DeviceAction.RECREATE, "nic-cx6"),
        (DeviceAction.UPDATE, "fpga-s10"),
        (DeviceAction.UPDATE, "tor-tf1"),
        (DeviceAction.CREATE, "a-new"),
        (DeviceAction.CREATE, "z-new"),
    ]
    assert plan.op_count == sum(len(s.teardown) + len(s.ops) for s in plan)


def test_executing_a_plan_leaves_every_driver_holding_the_new_intent(site: Tree) -> None:
    clock = FakeClock()
    drivers = drivers_for(site, clock)
    new = copy.deepcopy(site)
    remove_device(new, "nic-e810")
    device_config(new, "nic-cx6")["chipset"] = "edge-types:connectx-7"
    add_device(new, "nic-new", "connectx-6")
    add_port(new, "nic-new/1", "nic-new", 1, speed="100G")
    add_member(new, "urllc", "nic-new/1")
    remove_member(new, "embb", "nic-cx7/1")
    port_config(new, "tor-tf1/3")["enabled"] = False
    slice_entry(new, "miot")["config"]["max-rate-bps"] = "3000000000"
    execute(plan_for(site, new), drivers, clock)
    assert_drivers_hold(drivers, new)
    assert not plan_for(new, copy.deepcopy(new))


def _edit_mtu(tree: Tree) -> None:
    port_config(tree, "fpga-s10/2")["mtu"] = 4000


def _edit_member(tree: Tree) -> None:
    remove_member(tree, "urllc", "tor-tf1/4")


def _edit_new_port(tree: Tree) -> None:
    add_port(tree, "ipu-e2k/2", "ipu-e2k", 2, speed="10G", fec="none")


def _edit_dpu_and_slice(tree: Tree) -> None:
    device_config(tree, "dpu-bf3")["dpu-mode"] = "zero-trust"
    slice_entry(tree, "embb")["config"]["min-rate-bps"] = "1000000000"


def _expected_ops(old: Mapping[str, DeviceIntent], case: str) -> dict[str, list[Op]]:
    """The ops each edit must produce, written out by hand from the old values."""
    if case == "mtu":
        port = old["fpga-s10"].ports["fpga-s10/2"]
        return {"fpga-s10": [PortOp(port, replace(port, mtu=4000))]}
    if case == "member":
        urllc = old["tor-tf1"].slices["urllc"]
        return {"tor-tf1": [SliceOp(urllc, replace(urllc, members=(SliceMember("tor-tf1/1"),)))]}
    if case == "new-port":
        port = PortConfig("ipu-e2k/2", "ipu-e2k", 2, speed_bps=10 * GBPS, fec="none")
        return {"ipu-e2k": [PortOp(None, port)]}
    device = old["dpu-bf3"].device
    assert device is not None
    expected: dict[str, list[Op]] = {
        "dpu-bf3": [DeviceOp(device, replace(device, dpu_mode="zero-trust"))]
    }
    for name in ("dpu-bf3", "nic-cx7", "spine-tf2", "tor-tf1"):
        embb = old[name].slices["embb"]
        expected.setdefault(name, []).append(SliceOp(embb, replace(embb, min_rate_bps=GBPS)))
    return expected


@pytest.mark.parametrize(
    ("case", "edit"),
    [
        ("mtu", _edit_mtu),
        ("member", _edit_member),
        ("new-port", _edit_new_port),
        ("dpu-and-slice", _edit_dpu_and_slice),
    ],
)
def test_intents_of_edited_tree_equal_old_intents_with_expected_ops(
    site: Tree, case: str, edit: Callable[[Tree], None]
) -> None:
    old = intents_of(site)
    edit(site)
    new = intents_of(site)
    expected = _expected_ops(old, case)
    for name in old:
        assert old[name].with_ops(expected.get(name, ())) == new[name], name
    plan = plan_changes(old, new)
    assert {step.name: list(step.ops) for step in plan} == {
        name: list(canonical_order(ops)) for name, ops in expected.items()
    }
