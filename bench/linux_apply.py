"""The linux backend on veth pairs: apply throughput and link-event latency, each next to
raw pyroute2 doing the same work in the same run.

1. One gNMI Set (one transaction) changing the MTU of 100 veth ports, through
   `edge-agent serve` (plaintext gRPC on 127.0.0.1) managing them with the linux backend,
   next to raw pyroute2 (AsyncIPRoute in the same namespace) making the same 100 MTU
   changes one request at a time. Figure: agent/raw ratio of the medians (goal: <= 1.5x).
2. Link event to subscriber: `ip link set PEER down/up` (done with pyroute2 in the peer's
   namespace) until the ON_CHANGE update of oper-status reaches a gNMI Subscribe stream,
   p50/p99, next to the same event reaching a raw RTNLGRP_LINK listener. Changes are
   spaced 1.1 s apart: the kernel's linkwatch reports a carrier change up to a second
   late when another came less than a second before (goal: within 100 ms).

Needs root (it creates namespaces). The agent runs in its own process, as served.py starts
it; the namespaces are removed at the end.

    python bench/linux_apply.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from pyroute2 import AsyncIPRoute
from pyroute2.netlink.rtnl import RTMGRP_LINK

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import served

from agent.drivers.linux.netns import open_socket
from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc
from agent.schema.path import DataPath
from tools.linux_lab import Namespaces, linux_site

PORTS = 100
DEVICE = "nic"
METADATA = (("username", "admin"), ("password", "admin-pw"))
LINKWATCH_S = 1.1


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def gnmi_path(text: str) -> gnmi_pb2.Path:
    message = gnmi_pb2.Path()
    for elem in DataPath.parse(text).elems:
        message.elem.add(name=elem.name, key=dict(elem.keys))
    return message


def iproute(netns: str) -> AsyncIPRoute:
    return AsyncIPRoute(fileno=open_socket(netns, socket.AF_NETLINK, socket.SOCK_DGRAM).detach())


async def raw_mtu_rounds(netns: str, names: list[str], mtus: list[int]) -> list[float]:
    """Seconds per round of setting every netdev in ``names`` to one MTU, with pyroute2."""
    ipr = iproute(netns)
    try:
        index = {}
        async for link in await ipr.link("dump"):
            index[link.get("IFLA_IFNAME")] = link["index"]
        times = []
        for mtu in mtus:
            start = time.perf_counter()
            for name in names:
                await ipr.link("set", index=index[name], mtu=mtu)
            times.append(time.perf_counter() - start)
        return times
    finally:
        ipr.close()


def agent_mtu_rounds(stub: Any, mtus: list[int]) -> list[float]:
    """Seconds per Set of all PORTS MTUs, each Set one transaction through the agent."""
    times = []
    for mtu in mtus:
        updates = [
            gnmi_pb2.Update(
                path=gnmi_path(f"/ports/port[name={DEVICE}/{i}]/config/mtu"),
                val=gnmi_pb2.TypedValue(json_val=json.dumps(mtu).encode()),
            )
            for i in range(1, PORTS + 1)
        ]
        request = gnmi_pb2.SetRequest(update=updates)
        start = time.perf_counter()
        stub.Set(request, metadata=METADATA, timeout=120)
        times.append(time.perf_counter() - start)
    return times


def check_kernel(netns: str, names: list[str], mtu: int) -> None:
    async def read() -> dict[str, int]:
        ipr = iproute(netns)
        try:
            return {m.get("IFLA_IFNAME"): m.get("IFLA_MTU") async for m in await ipr.link("dump")}
        finally:
            ipr.close()

    found = asyncio.run(read())
    wrong = [n for n in names if found.get(n) != mtu]
    assert not wrong, f"the kernel does not hold mtu {mtu} on {wrong[:5]}"


def subscribe_oper(stub: Any, port: str, updates: queue.Queue[tuple[float, str]]) -> Any:
    path = gnmi_path(f"/ports/port[name={port}]/state/oper-status")
    request = gnmi_pb2.SubscribeRequest(
        subscribe=gnmi_pb2.SubscriptionList(
            mode=0, encoding=0, subscription=[gnmi_pb2.Subscription(path=path, mode=1)]
        )
    )
    call = stub.Subscribe(iter([request]), metadata=METADATA, timeout=600)

    def read() -> None:
        try:
            for response in call:
                for update in response.update.update:
                    updates.put((time.perf_counter(), json.loads(update.val.json_val)))
        except grpc.RpcError:
            return

    threading.Thread(target=read, daemon=True).start()
    return call


async def raw_listener(netns: str, ifname: str, seen: queue.Queue[tuple[float, str]]) -> None:
    ipr = iproute(netns)
    await ipr.bind(groups=RTMGRP_LINK)
    try:
        while True:
            async for message in ipr.get():
                if message.get("IFLA_IFNAME") == ifname and message.get("event") == "RTM_NEWLINK":
                    seen.put((time.perf_counter(), str(message.get("IFLA_OPERSTATE"))))
    finally:
        ipr.close()


def wait_for(updates: queue.Queue[tuple[float, str]], value: str, timeout: float = 5) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stamp, got = updates.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if got == value:
            return stamp
    raise TimeoutError(f"no {value} update")


def event_latencies(
    stub: Any, host: str, peer: str, samples: int
) -> tuple[list[float], list[float]]:
    """(agent, raw) seconds from the peer's state change to the update, per sample."""
    agent_updates: queue.Queue[tuple[float, str]] = queue.Queue()
    raw_updates: queue.Queue[tuple[float, str]] = queue.Queue()
    call = subscribe_oper(stub, f"{DEVICE}/1", agent_updates)
    wait_for(agent_updates, "UP")
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    listener = asyncio.run_coroutine_threadsafe(raw_listener(host, "va0", raw_updates), loop)
    control = iproute(peer)
    peer_index = asyncio.run_coroutine_threadsafe(control.link_lookup(ifname="vb0"), loop).result(
        10
    )[0]
    agent_ms: list[float] = []
    raw_ms: list[float] = []
    try:
        for i in range(samples):
            state = "down" if i % 2 == 0 else "up"
            time.sleep(LINKWATCH_S)
            while not raw_updates.empty():
                raw_updates.get()
            start = time.perf_counter()
            asyncio.run_coroutine_threadsafe(
                control.link("set", index=peer_index, state=state), loop
            ).result(10)
            want = "DOWN" if state == "down" else "UP"
            agent_ms.append((wait_for(agent_updates, want) - start) * 1000)
            raw_ms.append((wait_for(raw_updates, want) - start) * 1000)
    finally:
        call.cancel()
        control.close()
        listener.cancel()
        time.sleep(0.1)  # the listener's task ends before its loop stops
        loop.call_soon_threadsafe(loop.stop)
    return agent_ms, raw_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and samples")
    args = parser.parse_args()
    rounds, samples = (3, 6) if args.quick else (9, 30)
    lab = Namespaces()
    try:
        host, peer = lab.netns("bench-host"), lab.netns("bench-peer")
        names = [f"va{i}" for i in range(PORTS)]
        lab.veths(host, peer, {name: f"vb{i}" for i, name in enumerate(names)})
        site = linux_site(host, names, device=DEVICE)
        mtus = [1600 + 100 * (r % 2) for r in range(rounds + 1)]
        with served({"admin": ("admin", "admin-pw", None)}, site=site) as agent:
            stub = gnmi_pb2_grpc.gNMIStub(grpc.insecure_channel(agent.gnmi))
            agent_times = agent_mtu_rounds(stub, mtus)[1:]  # the first warms the agent up
            check_kernel(host, names, mtus[-1])
            raw_times = asyncio.run(raw_mtu_rounds(host, names, mtus[1:]))
            check_kernel(host, names, mtus[-1])
            agent_ms, raw_ms = event_latencies(stub, host, peer, samples)
        agent_med, raw_med = statistics.median(agent_times), statistics.median(raw_times)
        print(f"MTU of {PORTS} veth ports, median of {rounds} rounds:")
        print(f"  agent, one gNMI Set (one transaction)  {agent_med * 1000:8.2f} ms")
        print(f"  raw pyroute2, {PORTS} RTM_SETLINK requests  {raw_med * 1000:8.2f} ms")
        print(
            f"  ratio agent / raw                      {agent_med / raw_med:8.2f}x (goal <= 1.5x)"
        )
        print(f"link event to subscriber, {samples} changes of the peer (down/up), ms:")
        for label, values in (("agent ON_CHANGE update", agent_ms), ("raw RTNLGRP_LINK", raw_ms)):
            p50, p99 = percentile(values, 50), percentile(values, 99)
            print(f"  {label:24s} p50 {p50:7.2f}  p99 {p99:7.2f}  max {max(values):7.2f}")
        ratio = percentile(agent_ms, 50) / max(percentile(raw_ms, 50), 1e-3)
        print(f"  ratio agent / raw p50  {ratio:.1f}x (goal: agent p99 within 100 ms)")
    finally:
        lab.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
