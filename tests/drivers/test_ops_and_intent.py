"""Ops invert and order; intents apply ops and diff into ops."""

from __future__ import annotations

import pytest

from agent.drivers import (
    DeviceConfig,
    DeviceIntent,
    DeviceOp,
    PortOp,
    SliceConfig,
    SliceMember,
    SliceOp,
    canonical_order,
    invert,
)
from agent.drivers.units import format_bps, parse_breakout

from .helpers import G, port

DEVICE = DeviceConfig("dut", "tofino1")


def test_inverse_swaps_before_and_after() -> None:
    op = PortOp(port("a"), port("a", mtu=9000))
    assert op.inverse() == PortOp(port("a", mtu=9000), port("a"))
    assert op.inverse().inverse() == op
    assert (PortOp(None, port("a")).action, PortOp(port("a"), None).action) == ("create", "delete")
    assert op.describe() == "port a update"


def test_invert_reverses_the_batch() -> None:
    ops = (PortOp(None, port("a")), SliceOp(None, SliceConfig("s", 1)))
    assert invert(ops) == (SliceOp(SliceConfig("s", 1), None), PortOp(port("a"), None))


def test_an_op_without_values_has_no_name() -> None:
    with pytest.raises(ValueError, match="before or an after"):
        _ = PortOp(None, None).name


def test_canonical_order_puts_references_in_place_first() -> None:
    slice_ = SliceConfig("s", 1, members=(SliceMember("a"),))
    ops = [
        SliceOp(None, slice_),
        PortOp(None, port("a")),
        DeviceOp(DEVICE, None),
        SliceOp(slice_, None),
        PortOp(port("b"), None),
        PortOp(port("c"), port("c", mtu=9000)),
        DeviceOp(None, DEVICE),
        SliceOp(slice_, slice_),
    ]
    kinds = [op.describe() for op in canonical_order(ops)]
    assert kinds == [
        "device dut create",
        "slice s delete",
        "port b delete",
        "port c update",
        "port a create",
        "slice s update",
        "slice s create",
        "device dut delete",
    ]


def test_diff_then_with_ops_reaches_the_target() -> None:
    start = DeviceIntent.of(DEVICE, [port("a"), port("b", 2)], [SliceConfig("s", 1)])
    target = DeviceIntent.of(DEVICE, [port("a", mtu=9000), port("c", 3)], [SliceConfig("t", 2)])
    ops = start.diff(target)
    assert start.with_ops(ops) == target
    assert target.with_ops(invert(ops)) == start
    assert start.diff(start) == ()


def test_breakout_parsing_and_speed_formatting() -> None:
    assert parse_breakout("none") is not None and parse_breakout("none").channels == 1  # type: ignore[union-attr]
    parsed = parse_breakout("4x25G")
    assert parsed is not None and (parsed.channels, parsed.channel_bps) == (4, 25 * G)
    assert parse_breakout("3x33") is None and parse_breakout("9x10G") is None
    assert [format_bps(v) for v in (400 * G, 2_500_000_000, 1_000_000, 0)] == [
        "400G",
        "2.5G",
        "1M",
        "0",
    ]
