"""The driver contract, as checks that take a Target and raise AssertionError on a breach,
and DriverContract, the test class that runs them all.

A backend runs the suite with a subclass of DriverContract naming the backend and a
``target_factory`` fixture (class scope or wider) that builds its rigs; the suite runs
once per chipset the backend is registered for. The checks generate configurations
from the capabilities the backend reports (``Rig.caps``), never from the mock's, and skip
what needs a control the backend does not offer (cabling, faults, traffic, a fake
clock). test_contract.py runs the mock; test_contract_selfcheck.py shows that broken
drivers fail the checks.
"""

from __future__ import annotations

import dataclasses
from random import Random
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.drivers import (
    ApplyFailed,
    DeviceEvent,
    DeviceIntent,
    DeviceOp,
    DeviceUnavailable,
    DownReason,
    LinkEvent,
    OperStatus,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
    ValidationFailed,
    invert,
)
from agent.drivers.mock.controls import CablePlant, FaultInjector, PowerCycler, TrafficSource

from .scenarios import one_port_intent, random_intent, violations
from .targets import Rig, Target


def target_state(target: Target, intent: DeviceIntent) -> object:
    """The hardware snapshot of a fresh device reconciled to ``intent``."""
    return target.rig(intent).snapshot()


def check_generated_configs_are_valid(target: Target, seed: int) -> None:
    """The scenario generator only produces what the driver accepts (guards the suite)."""
    rig = target.rig()
    intent = random_intent(rig.caps, rig.device, seed)
    report = rig.driver.validate(rig.driver.applied().diff(intent))
    assert report.ok, "\n".join(map(str, report.problems))


def check_refusals(target: Target) -> None:
    """validate lists a problem naming the entity and rule of each violation, changes
    nothing, and apply refuses the same ops without touching the hardware."""
    rig = target.rig()
    cases = violations(rig.caps, rig.device)
    start, applied = rig.snapshot(), rig.driver.applied()
    for case in cases:
        report = rig.driver.validate(case.ops)
        hits = [p for p in report.problems if p.rule == case.rule]
        assert hits, f"{case.rule} not reported for {case.ops}: {report.problems}"
        assert any(p.name == case.entity and p.kind == case.kind for p in hits), (
            f"{case.rule} does not name {case.kind} {case.entity}: {hits}"
        )
        assert all(p.rule in str(p) and p.name in str(p) for p in report.problems)
        with pytest.raises(ValidationFailed) as refused:
            rig.driver.apply(case.ops)
        assert case.rule in str(refused.value)
        assert rig.snapshot() == start, f"refusing {case.rule} changed the hardware"
        assert rig.driver.applied() == applied, f"refusing {case.rule} changed the driver"
    # Device ops set one entry (the last wins), so the combined batch leaves them out.
    combined = [case for case in cases if case.kind != "device"]
    every_op = tuple(op for case in combined for op in case.ops)
    rules = {p.rule for p in rig.driver.validate(every_op).problems}
    missing = {case.rule for case in combined} - rules
    assert not missing, f"a batch with every violation does not list {missing}"
    assert rig.snapshot() == start


def check_apply_then_inverse(target: Target, seed: int) -> None:
    """apply reaches the target state; applying the inverse restores the start exactly."""
    rig = target.rig()
    start_intent = random_intent(rig.caps, rig.device, seed)
    end_intent = random_intent(rig.caps, rig.device, seed + 1)
    rig.driver.reconcile(start_intent)
    start = rig.snapshot()
    ops = start_intent.diff(end_intent)
    report = rig.driver.validate(ops)
    assert report.ok, report.problems
    assert rig.snapshot() == start, "validate changed the hardware"
    rig.driver.apply(ops)
    assert rig.driver.applied() == end_intent
    assert rig.snapshot() == target_state(target, end_intent), "apply missed the target"
    rig.driver.apply(invert(ops))
    assert rig.driver.applied() == start_intent
    assert rig.snapshot() == start, "apply + inverse did not restore the hardware"


def _check_partial(rig: Rig, target: Target, start_intent: DeviceIntent, ops, k: int) -> None:
    reference = target.rig(start_intent)
    for op in ops[:k]:  # the ops before k, programmed as they are (their batch may be invalid)
        reference.hardware.program(op)
    assert rig.snapshot() == reference.snapshot(), (
        f"after a fault at op {k} the hardware does not hold exactly the ops before it"
    )
    assert rig.driver.applied() == start_intent.with_ops(ops[:k])
    expected = OperStatus.DEGRADED if k > 0 else OperStatus.UP
    if reference.driver.read_device_state().oper_status is OperStatus.UP:
        assert rig.driver.read_device_state().oper_status is expected


def check_fault_at_op(target: Target, seed: int, pick: int) -> None:
    """A fault at op k leaves exactly ops < k applied; their inverse restores the start."""
    rig = target.rig()
    start_intent = random_intent(rig.caps, rig.device, seed)
    ops = start_intent.diff(random_intent(rig.caps, rig.device, seed + 1))
    if not ops:
        return
    k = pick % len(ops)
    rig.driver.reconcile(start_intent)
    start = rig.snapshot()
    rig.control(FaultInjector).fail_operation(k)
    with pytest.raises(ApplyFailed) as failed:
        rig.driver.apply(ops)
    assert failed.value.index == k
    assert failed.value.op == ops[k]
    assert f"op {k}" in str(failed.value)
    _check_partial(rig, target, start_intent, ops, k)
    rig.driver.apply(invert(ops[:k]))
    assert rig.snapshot() == start, "the inverse of ops < k did not restore the start"
    assert rig.driver.read_device_state().oper_status is not OperStatus.DEGRADED


def check_port_fault(target: Target, seed: int) -> None:
    """Operations on a failing port fail; the ops before the first one stay applied."""
    rig = target.rig()
    start_intent = random_intent(rig.caps, rig.device, seed)
    ops = start_intent.diff(random_intent(rig.caps, rig.device, seed + 1))
    port_ops = [i for i, op in enumerate(ops) if isinstance(op, PortOp)]
    if not port_ops:
        return
    k = port_ops[len(port_ops) // 2]
    victim = ops[k].name
    first = next(
        i
        for i, op in enumerate(ops)
        if (isinstance(op, PortOp) and op.name == victim)
        or (
            isinstance(op, SliceOp)
            and any(victim in c.member_ports for c in (op.before, op.after) if c is not None)
        )
    )
    rig.driver.reconcile(start_intent)
    start = rig.snapshot()
    faults = rig.control(FaultInjector)
    faults.fail_port(victim)
    with pytest.raises(ApplyFailed) as failed:
        rig.driver.apply(ops)
    assert failed.value.index == first
    assert victim in str(failed.value)
    _check_partial(rig, target, start_intent, ops, first)
    faults.clear_faults()
    rig.driver.apply(invert(ops[:first]))
    assert rig.snapshot() == start


def check_reconcile(target: Target, seed: int) -> None:
    """reconcile from empty equals applying the same changes one op at a time; it is
    idempotent, and it repairs a device that lost its configuration."""
    reconciled = target.rig()
    intent = random_intent(reconciled.caps, reconciled.device, seed)
    ops = reconciled.driver.reconcile(intent)
    assert reconciled.driver.applied() == intent
    assert reconciled.driver.reconcile(intent) == (), "a second reconcile changed something"
    incremental = target.rig()
    for op in ops:
        incremental.driver.apply((op,))
    assert incremental.snapshot() == reconciled.snapshot()
    expected = reconciled.snapshot()
    reconciled.control(PowerCycler).power_cycle()
    if intent.ports:
        assert reconciled.snapshot() != expected, "the power cycle kept the tables"
    reconciled.driver.reconcile(intent)
    assert reconciled.snapshot() == expected, "reconcile did not repair a wiped device"


def _link_up_rig(target: Target, **port_changes: object) -> Rig:
    rig = target.rig()
    rig.driver.reconcile(one_port_intent(rig.caps, rig.device, **port_changes))
    state = rig.driver.read_port_states(["p1"])["p1"]
    assert state.oper_status is OperStatus.UP, state
    return rig


def check_counters(target: Target, seed: int) -> None:
    """Counters follow the offered rates exactly under a fake clock, stop while the link is
    down, cap at line rate, police slices at their peak rate, and never go backwards."""
    rig = _link_up_rig(target)
    clock, driver = rig.fake_clock(), rig.driver
    hw: Any = rig.control(TrafficSource)
    rig.control(CablePlant)
    speed = driver.read_port_states()["p1"].speed_bps
    bps, pps = speed // 2, speed // 2 // 8000
    hw.set_traffic(
        "p1",
        bps=bps,
        pps=pps,
        out_bps=bps // 4,
        out_pps=pps // 4,
        multicast_pps=pps // 10,
        broadcast_pps=pps // 20,
        error_pps=7,
        fcs_error_pps=3,
        discard_pps=5,
        out_error_pps=2,
        out_discard_pps=1,
    )
    before = driver.read_counters(["p1"])["p1"]
    clock.advance(2)
    after = driver.read_counters(["p1"])["p1"]
    delta = {
        name: getattr(after, name) - getattr(before, name)
        for name in ("in_octets", "in_pkts", "in_unicast_pkts", "in_multicast_pkts",
                     "in_broadcast_pkts", "in_errors", "in_fcs_errors", "in_discards",
                     "out_octets", "out_pkts", "out_errors", "out_discards")
    }  # fmt: skip
    assert delta == {
        "in_octets": 2 * bps // 8,
        "in_pkts": 2 * pps,
        "in_unicast_pkts": 2 * (pps - pps // 10 - pps // 20),
        "in_multicast_pkts": 2 * (pps // 10),
        "in_broadcast_pkts": 2 * (pps // 20),
        "in_errors": 14,
        "in_fcs_errors": 6,
        "in_discards": 10,
        "out_octets": 2 * (bps // 4) // 8,
        "out_pkts": 2 * (pps // 4),
        "out_errors": 4,
        "out_discards": 2,
    }
    assert after.timestamp_ns == clock.now_ns()

    hw.pull_cable("p1")
    frozen = driver.read_counters(["p1"])["p1"]
    clock.advance(5)
    assert driver.read_counters(["p1"])["p1"].in_octets == frozen.in_octets
    hw.plug_cable("p1")

    hw.set_traffic("p1", bps=3 * speed, pps=3 * speed // 8000)
    first = driver.read_counters(["p1"])["p1"]
    clock.advance(1)
    assert driver.read_counters(["p1"])["p1"].in_octets - first.in_octets == speed // 8

    pir = speed // 4
    slice_ = SliceConfig("metered", 100, max_rate_bps=pir, members=(SliceMember("p1"),))
    driver.apply((SliceOp(None, slice_),))
    hw.set_slice_traffic("metered", bps=2 * pir, pps=1000)
    start = driver.read_slice_counters(["metered"])["metered"]
    clock.advance(1)
    end = driver.read_slice_counters(["metered"])["metered"]
    assert end.in_octets - start.in_octets == 2 * pir // 8
    assert end.out_octets - start.out_octets == pir // 8
    assert (end.in_pkts - start.in_pkts, end.out_pkts - start.out_pkts) == (1000, 500)
    assert end.drops - start.drops == 500

    rng = Random(seed)
    previous = driver.read_counters(["p1"])["p1"]
    previous_slice = end
    for _ in range(40):
        action = rng.randrange(4)
        if action == 0:
            hw.set_traffic("p1", bps=rng.randint(0, 2 * speed), pps=rng.randint(0, 10**7))
        elif action == 1:
            (hw.pull_cable if rng.random() < 0.5 else hw.plug_cable)("p1")
        elif action == 2:
            hw.set_slice_traffic("metered", bps=rng.randint(0, speed), pps=rng.randint(0, 10**6))
        clock.advance(ns=rng.randint(0, 3 * 10**9))
        now = driver.read_counters(["p1"])["p1"]
        now_slice = driver.read_slice_counters(["metered"])["metered"]
        for field in dataclasses.fields(now):
            assert getattr(now, field.name) >= getattr(previous, field.name), field.name
        for field in dataclasses.fields(now_slice):
            assert getattr(now_slice, field.name) >= getattr(previous_slice, field.name)
        previous, previous_slice = now, now_slice


def check_events(target: Target) -> None:
    """Link events follow enable, cabling and loopback; device events follow reachability;
    unsubscribing stops delivery."""
    rig = target.rig()
    device = rig.device
    clock = rig.fake_clock()
    cables = rig.control(CablePlant)
    faults = rig.control(FaultInjector)
    events: list[object] = []
    unsubscribe = rig.driver.add_event_listener(events.append)
    rig.driver.reconcile(one_port_intent(rig.caps, device))
    now = clock.now_ns()

    def link(status: OperStatus, reason: DownReason | None = None) -> LinkEvent:
        return LinkEvent(device.name, "p1", status, clock.now_ns(), reason)

    assert events == [LinkEvent(device.name, "p1", OperStatus.UP, now)]
    clock.advance(1)
    cables.pull_cable("p1")
    assert events[-1] == link(OperStatus.DOWN, DownReason.NO_PEER)
    state = rig.driver.read_port_states(["p1"])["p1"]
    assert (state.oper_status, state.down_reason) == (OperStatus.DOWN, DownReason.NO_PEER)
    assert state.last_change_ns == clock.now_ns()
    cables.plug_cable("p1")
    assert events[-1] == link(OperStatus.UP)

    port = rig.driver.applied().ports["p1"]
    disabled = dataclasses.replace(port, enabled=False)
    rig.driver.apply((PortOp(port, disabled),))
    assert events[-1] == link(OperStatus.DOWN, DownReason.ADMIN_DOWN)
    cables.pull_cable("p1")
    looped = dataclasses.replace(port, loopback="mac")
    rig.driver.apply((PortOp(disabled, looped),))
    assert events[-1] == link(OperStatus.UP), "a MAC loopback needs no peer"
    rig.driver.apply((PortOp(looped, port),))
    assert events[-1] == link(OperStatus.DOWN, DownReason.NO_PEER)
    cables.plug_cable("p1")

    count = len(events)
    faults.set_available(False)
    assert isinstance(events[count], DeviceEvent)
    assert events[count].oper_status is OperStatus.DOWN
    assert events[-1] == link(OperStatus.DOWN, DownReason.DEVICE_DOWN)
    assert rig.driver.read_device_state().oper_status is OperStatus.DOWN
    with pytest.raises(DeviceUnavailable):
        rig.driver.read_port_states()
    with pytest.raises(ApplyFailed) as failed:
        rig.driver.apply((PortOp(port, disabled),))
    assert failed.value.index == 0 and failed.value.device_unavailable
    faults.set_available(True)
    assert isinstance(events[-2], DeviceEvent) and events[-2].oper_status is OperStatus.UP
    assert events[-1] == link(OperStatus.UP)

    unsubscribe()
    count = len(events)
    cables.pull_cable("p1")
    assert len(events) == count, "an unsubscribed listener still got events"
    cables.plug_cable("p1")

    if rig.caps.dpu_modes:
        events.clear()
        rig.driver.add_event_listener(events.append)
        rig.driver.apply((DeviceOp(device, dataclasses.replace(device, dpu_mode="nic")),))
        statuses = [e.oper_status for e in events if isinstance(e, DeviceEvent)]
        assert statuses == [OperStatus.DOWN, OperStatus.UP], "a DPU mode change restarts"


SEEDS = st.integers(min_value=0, max_value=2**32)
# One class instance runs per target; the instance holds no state, so the examples do not
# depend on which one runs them.
_ANY_INSTANCE = [HealthCheck.differing_executors]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=_ANY_INSTANCE)


class DriverContract:
    """The contract as tests, once per chipset ``backend`` is registered for.

    Subclass it in the backend's test module, set ``backend``, and provide a fixture
    ``target_factory`` (module scope, or class or session) returning a TargetFactory; the
    conftest builds ``target`` from it for each registered chipset of that backend.
    """

    backend: ClassVar[str]

    @PROPERTY
    @given(seed=SEEDS)
    def test_generated_configs_are_valid(self, target: Target, seed: int) -> None:
        check_generated_configs_are_valid(target, seed)

    def test_validate_refuses_every_chip_violation(self, target: Target) -> None:
        check_refusals(target)

    @PROPERTY
    @given(seed=SEEDS)
    def test_apply_then_inverse_restores_hardware(self, target: Target, seed: int) -> None:
        check_apply_then_inverse(target, seed)

    @PROPERTY
    @given(seed=SEEDS, pick=st.integers(min_value=0, max_value=1000))
    def test_fault_at_op_k_leaves_ops_before_k(self, target: Target, seed: int, pick: int) -> None:
        check_fault_at_op(target, seed, pick)

    @PROPERTY
    @given(seed=SEEDS)
    def test_failing_port_stops_apply_at_its_first_op(self, target: Target, seed: int) -> None:
        check_port_fault(target, seed)

    @PROPERTY
    @given(seed=SEEDS)
    def test_reconcile_from_empty_equals_incremental_applies(
        self, target: Target, seed: int
    ) -> None:
        check_reconcile(target, seed)

    @settings(max_examples=10, deadline=None, suppress_health_check=_ANY_INSTANCE)
    @given(seed=SEEDS)
    def test_counters_follow_rates_and_are_monotonic(self, target: Target, seed: int) -> None:
        check_counters(target, seed)

    def test_events_fire_on_link_and_device_changes(self, target: Target) -> None:
        check_events(target)


__all__ = [
    "DriverContract",
    "check_apply_then_inverse",
    "check_counters",
    "check_events",
    "check_fault_at_op",
    "check_generated_configs_are_valid",
    "check_port_fault",
    "check_reconcile",
    "check_refusals",
]
