"""Hostile requests against `edge-agent serve`: what they cost and whom they slow.

The agent runs as `edge-agent serve` in a subprocess (plaintext on 127.0.0.1, the default
simulated site, an admin and a read-only user); the client is a synchronous grpcio
channel with our stubs. Figures, each next to its baseline from the same run:

- a Get whose path is N `...` elements (N = 8, 16, 64, 3000), types CONFIG and ALL, next
  to the same Get with one `...` (the answer is the same; 3000 exceeds the path limit);
- an admin's one-leaf Get p50/p99 alone, and while the read-only user keeps 8 Gets of 16
  `...` (type ALL) running at once (ratio to alone);
- the agent's RSS before and after 8 concurrent Gets whose key values are 32 MiB each.

    python bench/hardening.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import served

from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc

USERS = {"admin": ("admin", "admin-password"), "reader": ("read-only", "reader-password")}
OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
LEAF = gnmi_pb2.GetRequest(
    path=[
        gnmi_pb2.Path(
            elem=[
                gnmi_pb2.PathElem(name="ports"),
                gnmi_pb2.PathElem(name="port", key={"name": "tor-tf1/1"}),
                gnmi_pb2.PathElem(name="config"),
                gnmi_pb2.PathElem(name="mtu"),
            ]
        )
    ]
)


def metadata(user: str) -> tuple[tuple[str, str], ...]:
    return (("username", user), ("password", USERS[user][1]))


def dots(count: int, data_type: int) -> gnmi_pb2.GetRequest:
    elems = [gnmi_pb2.PathElem(name="...") for _ in range(count)]
    return gnmi_pb2.GetRequest(path=[gnmi_pb2.Path(elem=elems)], type=data_type)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def timed(call: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        with contextlib.suppress(grpc.RpcError):
            call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    repeats, leaf_calls = (3, 200) if args.quick else (7, 1000)
    accounts = {name: (role, password, None) for name, (role, password) in USERS.items()}
    with served(accounts) as agent:
        target, pid = agent.gnmi, agent.pid
        channel = grpc.insecure_channel(target, options=OPTIONS)
        stub = gnmi_pb2_grpc.gNMIStub(channel)
        print(f"edge-agent hardening, default site, {target}, Python {sys.version.split()[0]}")
        for _ in range(50):
            stub.Get(LEAF, metadata=metadata("admin"), timeout=30)

        print("\nGet with N '...' elements (ms, median)   CONFIG    ALL   vs one '...'")
        base = {}
        for data_type, label in ((1, "CONFIG"), (0, "ALL")):
            request = dots(1, data_type)
            base[label] = statistics.median(
                timed(lambda r=request: stub.Get(r, metadata=metadata("reader")), repeats)
            )
        for count in (1, 8, 16, 64, 3000):
            row = {}
            for data_type, label in ((1, "CONFIG"), (0, "ALL")):
                request = dots(count, data_type)
                row[label] = statistics.median(
                    timed(
                        lambda r=request: stub.Get(r, metadata=metadata("reader"), timeout=60),
                        repeats,
                    )
                )
            ratio = max(row["CONFIG"] / base["CONFIG"], row["ALL"] / base["ALL"])
            print(f"  N = {count:>5}{row['CONFIG']:>26.2f} {row['ALL']:>6.2f}   {ratio:.2f}x")

        def admin_leaf() -> Any:
            return stub.Get(LEAF, metadata=metadata("admin"), timeout=30)

        alone = timed(admin_leaf, leaf_calls)
        stop = threading.Event()
        heavy_done = [0]

        def flood() -> None:
            request = dots(16, 0)
            while not stop.is_set():
                try:
                    stub.Get(request, metadata=metadata("reader"), timeout=60)
                    heavy_done[0] += 1
                except grpc.RpcError:
                    pass

        floods = [threading.Thread(target=flood, daemon=True) for _ in range(8)]
        for thread in floods:
            thread.start()
        time.sleep(0.5)
        loaded = timed(admin_leaf, leaf_calls)
        stop.set()
        for thread in floods:
            thread.join(60)
        p50a, p99a = statistics.median(alone), percentile(alone, 99)
        p50l, p99l = statistics.median(loaded), percentile(loaded, 99)
        print("\nadmin Get one leaf (ms)             p50     p99")
        print(f"  alone                        {p50a:>7.2f} {p99a:>7.2f}")
        print(
            f"  reader runs 8 heavy Gets     {p50l:>7.2f} {p99l:>7.2f}"
            f"   ratio {p50l / p50a:.1f}x / {p99l / p99a:.1f}x"
            f"   ({heavy_done[0]} heavy Gets answered meanwhile)"
        )

        before = rss_mib(pid)
        big = []
        for i in range(8):
            request = gnmi_pb2.GetRequest()
            request.CopyFrom(LEAF)
            request.path[0].elem[1].key["name"] = chr(ord("a") + i) * (32 * 1024 * 1024)
            big.append(stub.Get.future(request, metadata=metadata("reader"), timeout=120))
        codes = []
        for future in big:
            try:
                future.result()
                codes.append("OK")
            except grpc.RpcError as err:
                codes.append(err.code().name)
        after = rss_mib(pid)
        time.sleep(2.0)
        settled = rss_mib(pid)
        print("\nRSS around 8 Gets with 32 MiB keys (MiB)")
        print(f"  before {before:.0f}, after the replies {after:.0f}, 2 s later {settled:.0f}")
        print(f"  (+{settled - before:.0f} MiB; answers: {', '.join(sorted(set(codes)))})")
        channel.close()


if __name__ == "__main__":
    main()
