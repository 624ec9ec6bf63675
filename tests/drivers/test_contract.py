"""The driver contract, run against every installed chipset on its mock backend."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from . import contract
from .targets import TARGET_IDS, TARGETS, Target

pytestmark = pytest.mark.parametrize("target", TARGETS, ids=TARGET_IDS)

SEEDS = st.integers(min_value=0, max_value=2**32)
PROPERTY = settings(max_examples=40, deadline=None)


@PROPERTY
@given(seed=SEEDS)
def test_generated_configs_are_valid(target: Target, seed: int) -> None:
    contract.check_generated_configs_are_valid(target, seed)


def test_validate_refuses_every_chip_violation(target: Target) -> None:
    contract.check_refusals(target)


@PROPERTY
@given(seed=SEEDS)
def test_apply_then_inverse_restores_hardware(target: Target, seed: int) -> None:
    contract.check_apply_then_inverse(target, seed)


@PROPERTY
@given(seed=SEEDS, pick=st.integers(min_value=0, max_value=1000))
def test_fault_at_op_k_leaves_ops_before_k(target: Target, seed: int, pick: int) -> None:
    contract.check_fault_at_op(target, seed, pick)


@PROPERTY
@given(seed=SEEDS)
def test_failing_port_stops_apply_at_its_first_op(target: Target, seed: int) -> None:
    contract.check_port_fault(target, seed)


@PROPERTY
@given(seed=SEEDS)
def test_reconcile_from_empty_equals_incremental_applies(target: Target, seed: int) -> None:
    contract.check_reconcile(target, seed)


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS)
def test_counters_follow_rates_and_are_monotonic(target: Target, seed: int) -> None:
    contract.check_counters(target, seed)


def test_events_fire_on_link_and_device_changes(target: Target) -> None:
    contract.check_events(target)
