"""Raw grpcio baseline: what gRPC itself costs in this Python process.

A generic service moves raw bytes (no protobuf, no agent code) over 127.0.0.1 on an
ephemeral port. Other benchmarks import it to put their figures next to the floor that
Python gRPC sets on this machine:

    from raw_grpc_baseline import measure_baseline
    unary, stream = measure_baseline(calls=2000, messages=20000)

Run alone it prints its figures: ``python bench/raw_grpc_baseline.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc

SERVICE = "edgebench.RawBaseline"
UNARY_METHOD = f"/{SERVICE}/Echo"
STREAM_METHOD = f"/{SERVICE}/Stream"
REPLAY_METHOD = f"/{SERVICE}/Replay"
_HEADER = struct.Struct(">II")  # unary: (response size, 0); stream: (message size, count)
_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
]


@dataclass(frozen=True, slots=True)
class UnaryFigures:
    """Latency of sequential unary calls, in microseconds."""

    calls: int
    request_bytes: int
    response_bytes: int
    p50_us: float
    p99_us: float
    mean_us: float

    @property
    def calls_per_s(self) -> float:
        return 1e6 / self.mean_us if self.mean_us else 0.0


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """Throughput of one server stream."""

    messages: int
    message_bytes: int
    seconds: float

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def mib_per_s(self) -> float:
        return self.messages_per_s * self.message_bytes / 2**20


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    response_size, _ = _HEADER.unpack_from(request)
    return bytes(response_size)


def _stream(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    message_size, count = _HEADER.unpack_from(request)
    payload = bytes(message_size)
    for _ in range(count):
        yield payload


def _replay(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    """Streams the payload that follows the header ``count`` times, unchanged."""
    _, count = _HEADER.unpack_from(request)
    payload = request[_HEADER.size :]
    for _ in range(count):
        yield payload


def _handler() -> grpc.GenericRpcHandler:
    # No serializers: grpcio hands the raw request bytes in and sends the bytes returned.
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Echo": grpc.unary_unary_rpc_method_handler(_echo),
            "Stream": grpc.unary_stream_rpc_method_handler(_stream),
            "Replay": grpc.unary_stream_rpc_method_handler(_replay),
        },
    )


@contextmanager
def raw_server(max_workers: int = 4) -> Iterator[str]:
    """Runs the raw service on 127.0.0.1 (ephemeral port); yields ``host:port``."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers), options=_CHANNEL_OPTIONS
    )
    server.add_generic_rpc_handlers((_handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait()


def measure_unary(
    target: str,
    *,
    calls: int = 2000,
    request_bytes: int = 64,
    response_bytes: int = 64,
    warmup: int = 100,
) -> UnaryFigures:
    """p50/p99/mean latency of ``calls`` sequential unary calls of the given sizes."""
    if calls < 1:
        raise ValueError("calls must be at least 1")
    request = _HEADER.pack(response_bytes, 0) + bytes(max(request_bytes - _HEADER.size, 0))
    with grpc.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        echo = channel.unary_unary(UNARY_METHOD)
        for _ in range(warmup):
            echo(request, timeout=10)
        samples = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            echo(request, timeout=10)
            samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return UnaryFigures(
        calls=calls,
        request_bytes=len(request),
        response_bytes=response_bytes,
        p50_us=_percentile(samples, 50),
        p99_us=_percentile(samples, 99),
        mean_us=statistics.fmean(samples),
    )


def measure_stream(
    target: str, *, messages: int = 20000, message_bytes: int = 256
) -> StreamFigures:
    """Messages per second of one server stream of ``messages`` messages."""
    if messages < 1:
        raise ValueError("messages must be at least 1")
    request = _HEADER.pack(message_bytes, messages)
    with grpc.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        stream = channel.unary_stream(STREAM_METHOD)
        start = time.perf_counter()
        received = sum(1 for _ in stream(request, timeout=300))
        seconds = time.perf_counter() - start
    if received != messages:
        raise RuntimeError(f"stream delivered {received} of {messages} messages")
    return StreamFigures(messages=messages, message_bytes=message_bytes, seconds=seconds)


def replay_request(payload: bytes, messages: int) -> bytes:
    """The request that makes the Replay method stream ``payload`` ``messages`` times."""
    return _HEADER.pack(len(payload), messages) + payload


def replay_stream(
    target: str, payload: bytes, messages: int, deserializer: Callable[[bytes], Any] | None
) -> Iterator[Any]:
    """Streams ``payload`` back ``messages`` times, each decoded by ``deserializer`` (a
    collector parses what it receives; a pre-serialized message makes the server side
    cost nothing but gRPC)."""
    with grpc.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        stream = channel.unary_stream(REPLAY_METHOD, response_deserializer=deserializer)
        yield from stream(replay_request(payload, messages), timeout=300)


def measure_baseline(
    *,
    calls: int = 2000,
    request_bytes: int = 64,
    response_bytes: int = 64,
    messages: int = 20000,
    message_bytes: int = 256,
) -> tuple[UnaryFigures, StreamFigures]:
    """Starts a raw server, measures unary latency and stream throughput, stops it."""
    with raw_server() as target:
        unary = measure_unary(
            target, calls=calls, request_bytes=request_bytes, response_bytes=response_bytes
        )
        stream = measure_stream(target, messages=messages, message_bytes=message_bytes)
    return unary, stream


def describe(unary: UnaryFigures, stream: StreamFigures) -> str:
    """The figures as printable lines."""
    return "\n".join(
        [
            f"raw unary  {unary.calls} calls, {unary.request_bytes} B -> "
            f"{unary.response_bytes} B: p50 {unary.p50_us:.0f} us, p99 {unary.p99_us:.0f} us, "
            f"{unary.calls_per_s:,.0f} calls/s",
            f"raw stream {stream.messages} x {stream.message_bytes} B: "
            f"{stream.messages_per_s:,.0f} msg/s, {stream.mib_per_s:.1f} MiB/s",
        ]
    )


def _percentile(sorted_samples: list[float], percent: float) -> float:
    index = max(0, min(len(sorted_samples) - 1, round(percent / 100 * len(sorted_samples)) - 1))
    return sorted_samples[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Raw grpcio baseline figures.")
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args(argv)
    calls, messages = (200, 2000) if args.quick else (args.calls, args.messages)
    print(f"raw grpcio {grpc.__version__}, Python {sys.version.split()[0]}, 127.0.0.1")
    for size in (64, 4096):
        unary, stream = measure_baseline(
            calls=calls,
            request_bytes=size,
            response_bytes=size,
            messages=messages,
            message_bytes=size,
        )
        print(describe(unary, stream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
