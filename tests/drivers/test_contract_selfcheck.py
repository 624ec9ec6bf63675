"""The contract suite catches broken drivers: each breaks one promise and fails its check."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from agent.clock import Clock
from agent.drivers import DeviceConfig, DeviceIntent, Driver, Op, ValidationReport
from agent.drivers.capabilities import Capabilities, InterfaceLimits
from agent.drivers.checks import COMMON_CHECKS, Check
from agent.drivers.checks.ports import check_port_mtu
from agent.drivers.chip_driver import ChipDriver
from agent.drivers.config import SliceConfig
from agent.drivers.errors import HardwareFault
from agent.drivers.fec import fec_rules
from agent.drivers.mock import MockHardware
from agent.drivers.mock.slice_tables import SliceTables
from agent.drivers.state import DownReason, OperStatus
from agent.drivers.tofino.profiles import TOFINO2

from . import contract
from .scenarios import random_intent
from .targets import Target, driver_rig

SEEDS = range(12)


@dataclass(frozen=True)
class BrokenFactory:
    """Builds a ChipDriver from swapped-in parts."""

    caps: Capabilities
    hardware: type[MockHardware] = MockHardware
    driver: type[ChipDriver] = ChipDriver
    checks: tuple[Check, ...] = COMMON_CHECKS

    def __call__(self, config: DeviceConfig, clock: Clock) -> Driver:
        backend = self.hardware(config, self.caps, clock)
        return self.driver(config, self.checks, backend, clock)


def broken(**parts: object) -> Target:
    factory = BrokenFactory(TOFINO2, **parts)  # type: ignore[arg-type]
    return Target("broken", TOFINO2.chipset, "mock", TOFINO2, driver_rig(factory))


def fails_for_some_seed(check: Callable[[Target, int], None], target: Target) -> bool:
    for seed in SEEDS:
        try:
            check(target, seed)
        except AssertionError:
            return True
    return False


# ------------------------------------------------------------------ broken parts


class LeakySliceTables(SliceTables):
    """Forgets to remove VLAN membership when a slice is re-programmed or removed."""

    def _remove_entries(self, config: SliceConfig) -> None:
        kept = set(self._vlans)
        super()._remove_entries(config)
        self._vlans |= kept


class LeakyVlanHardware(MockHardware):
    """Removing a slice leaves its VLAN membership behind: its inverse is wrong."""

    def __init__(self, config: DeviceConfig, caps: Capabilities, clock: Clock) -> None:
        super().__init__(config, caps, clock)
        self._slice_tables = LeakySliceTables()


class StickyLayoutHardware(MockHardware):
    """A cage keeps its layout after its last port is deleted."""

    def _sync_cage(self, index: int, changed: str, channels: frozenset[int]) -> None:
        if self._port_tables.cage(index):
            super()._sync_cage(index, changed, channels)


class PartialFaultHardware(MockHardware):
    """A failing operation is half done: it programs the op and then reports the fault."""

    def program(self, op: Op) -> None:
        try:
            super().program(op)
        except HardwareFault:
            self.clear_faults()
            super().program(op)
            raise


class StuckCounterHardware(MockHardware):
    """Counters never move."""

    def _update_port_meter(self, name: str) -> None:
        return None


class DeafHardware(MockHardware):
    """Links change but no event is raised."""

    def _emit_link(self, name: str, status: OperStatus, reason: DownReason | None) -> None:
        return None


class DryRunIsNotDryDriver(ChipDriver):
    """validate programs the hardware as a side effect."""

    def validate(self, ops: Sequence[Op]) -> ValidationReport:
        report = super().validate(ops)
        if report.ok and self.is_open:
            for op in ops:
                self.backend.program(op)
        return report


class NarrowHardware(MockHardware):
    """Reports less than its chip profile, as a real backend that probed its device does:
    four host interfaces, MTUs up to 1500 and only the two slowest speeds."""

    def capabilities(self) -> Capabilities:
        profile = super().capabilities()
        slow = profile.speeds_bps[:2]
        interfaces = tuple(InterfaceLimits(f"eth{i}", 68, 1500, speeds_bps=slow) for i in range(4))
        return dataclasses.replace(
            profile, mtu_max=1500, speeds_bps=slow, fec=fec_rules(slow), interfaces=interfaces
        )


class TrustingReconcileDriver(ChipDriver):
    """reconcile trusts its own memory instead of reading the hardware back."""

    def reconcile(self, intent: DeviceIntent) -> tuple[Op, ...]:
        ops = self.applied().diff(intent)
        self.apply(ops)
        return ops


# ------------------------------------------------------------------------- tests


def test_the_unbroken_parts_pass_the_checks_used_below() -> None:
    sound = broken()
    contract.check_refusals(sound)
    contract.check_events(sound)
    for seed in SEEDS:
        contract.check_apply_then_inverse(sound, seed)
        contract.check_fault_at_op(sound, seed, seed * 7)
        contract.check_port_fault(sound, seed)
        contract.check_reconcile(sound, seed)
    contract.check_counters(sound, 0)


@pytest.mark.parametrize("hardware", [LeakyVlanHardware, StickyLayoutHardware])
def test_a_wrong_inverse_fails_apply_then_inverse(hardware: type[MockHardware]) -> None:
    assert fails_for_some_seed(contract.check_apply_then_inverse, broken(hardware=hardware))


def test_validate_with_side_effects_fails_apply_then_inverse() -> None:
    target = broken(driver=DryRunIsNotDryDriver)
    assert fails_for_some_seed(contract.check_apply_then_inverse, target)


def test_a_half_done_failing_op_fails_the_fault_checks() -> None:
    target = broken(hardware=PartialFaultHardware)
    assert fails_for_some_seed(lambda t, s: contract.check_fault_at_op(t, s, s * 7), target)
    assert fails_for_some_seed(contract.check_port_fault, target)


def test_a_missing_chip_rule_fails_refusals() -> None:
    lenient = tuple(check for check in COMMON_CHECKS if check is not check_port_mtu)
    with pytest.raises(AssertionError, match="port-mtu"):
        contract.check_refusals(broken(checks=lenient))


def test_a_reconcile_that_does_not_read_back_fails_reconcile() -> None:
    target = broken(driver=TrustingReconcileDriver)
    assert fails_for_some_seed(contract.check_reconcile, target)


def test_the_checks_hold_the_driver_to_what_its_backend_reports() -> None:
    narrow = broken(hardware=NarrowHardware)
    rig = narrow.rig()
    assert rig.caps.mtu_max == 1500 and rig.caps.interface("eth0") is not None
    for seed in SEEDS:
        contract.check_generated_configs_are_valid(narrow, seed)
        contract.check_apply_then_inverse(narrow, seed)
    contract.check_refusals(narrow)
    from_profile = [random_intent(TOFINO2, rig.device, seed) for seed in SEEDS]
    assert any(not rig.driver.validate(rig.driver.applied().diff(i)).ok for i in from_profile)
    generated = random_intent(rig.caps, rig.device, 0)
    assert {p.interface_name for p in generated.ports.values()} <= {"eth0", "eth1", "eth2", "eth3"}


def test_stuck_counters_fail_the_counter_check() -> None:
    with pytest.raises(AssertionError):
        contract.check_counters(broken(hardware=StuckCounterHardware), 0)


def test_silent_links_fail_the_event_check() -> None:
    with pytest.raises(AssertionError):
        contract.check_events(broken(hardware=DeafHardware))
