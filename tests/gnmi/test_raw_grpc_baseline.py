"""The raw grpcio baseline used by the benchmarks: it runs and reports consistent figures.

Timings are never asserted; only that the measurement did what it was asked.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import grpc
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "raw_grpc_baseline.py"


@pytest.fixture(scope="module")
def baseline() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("raw_grpc_baseline", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_unary_and_stream_figures(baseline: ModuleType) -> None:
    unary, stream = baseline.measure_baseline(
        calls=20, request_bytes=100, response_bytes=3000, messages=300, message_bytes=512
    )
    assert unary.calls == 20
    assert (unary.request_bytes, unary.response_bytes) == (100, 3000)
    assert 0 < unary.p50_us <= unary.p99_us
    assert unary.calls_per_s > 0
    assert (stream.messages, stream.message_bytes) == (300, 512)
    assert stream.seconds > 0 and stream.messages_per_s > 0
    assert "msg/s" in baseline.describe(unary, stream)


def test_server_answers_raw_bytes_of_the_requested_size(baseline: ModuleType) -> None:
    with baseline.raw_server() as target, grpc.insecure_channel(target) as channel:
        echo = channel.unary_unary(baseline.UNARY_METHOD)
        assert echo(baseline._HEADER.pack(7, 0), timeout=10) == bytes(7)
        stream = channel.unary_stream(baseline.STREAM_METHOD)
        assert list(stream(baseline._HEADER.pack(3, 4), timeout=10)) == [bytes(3)] * 4


def test_counts_must_be_positive(baseline: ModuleType) -> None:
    with pytest.raises(ValueError):
        baseline.measure_unary("127.0.0.1:1", calls=0)
    with pytest.raises(ValueError):
        baseline.measure_stream("127.0.0.1:1", messages=0)
