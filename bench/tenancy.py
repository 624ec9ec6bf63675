"""Tenant isolation and the cost of views, measured in one run.

1. Noisy neighbour (the default site, two tenants): tenant B's one-leaf Set and Get of
   its slices, p50/p99 alone, then while tenant A floods from 4 processes (2 sending Sets,
   2 whole-view Gets, each as fast as it is answered). The ratio loaded/alone is the
   figure (goal: at most 2x at p99). A's Sets commit at its max-set-rate quota (10 per
   second in the site; the rest are refused at once); B's quota is raised for the
   measurement so that its own Sets are never refused.
2. Views at scale (1,024 ports, 1,000 slices over 50 tenants): a Get of /slices as one
   tenant (20 slices in its view) next to the same Get as an admin (all 1,000).

The agent is `edge-agent serve` (built by agent.app.build_agent) in its own process,
pinned to half of the cores; the clients (synchronous grpcio channels; the flood in
processes of its own, at a lower priority than the measuring client) run on the other
half, as remote clients would: their CPU is not the agent's.

    python bench/tenancy.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import served

from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc
from agent.schema.path import DataPath
from agent.security.users import Role
from agent.site_file import default_site_path
from agent.sitegen import scaled_site

OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]


def path(text: str) -> gnmi_pb2.Path:
    message = gnmi_pb2.Path()
    for elem in DataPath.parse(text).elems:
        message.elem.add(name=elem.name, key=dict(elem.keys))
    return message


def _cores() -> tuple[set[int], set[int]]:
    """(the agent's cores, the clients' cores): the clients run on other cores than the
    agent, as remote clients would; on one core, everything shares it."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return set(cores), set(cores)
    half = len(cores) // 2
    return set(cores[:half]), set(cores[half:])


AGENT_CPUS, CLIENT_CPUS = _cores()


def _pin(cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Client:
    def __init__(self, target: str, user: str, password: str) -> None:
        self.channel = grpc.insecure_channel(target, options=OPTIONS)
        self.stub = gnmi_pb2_grpc.gNMIStub(self.channel)
        self.metadata = (("username", user), ("password", password))

    def get(self, text: str, data_type: int = 0) -> Any:
        request = gnmi_pb2.GetRequest(path=[path(text)], type=data_type)
        return self.stub.Get(request, metadata=self.metadata, timeout=120)

    def set(self, text: str, value: Any) -> Any:
        update = gnmi_pb2.Update(
            path=path(text), val=gnmi_pb2.TypedValue(json_val=json.dumps(value).encode())
        )
        request = gnmi_pb2.SetRequest(update=[update])
        return self.stub.Set(request, metadata=self.metadata, timeout=120)


@contextmanager
def running(site: dict[str, Any], users: dict[str, tuple[Role, str | None]]) -> Iterator[str]:
    """The agent pinned to the agent's cores, with ``users`` (password: NAME-pw)."""
    accounts = {name: (role.value, f"{name}-pw", tenant) for name, (role, tenant) in users.items()}
    with served(accounts, site=site, preexec=lambda: _pin(AGENT_CPUS)) as agent:
        yield agent.gnmi


def flood(target: str, kind: str, seconds: float, counts: Any) -> None:
    """Tenant A's flood, in a process of its own: Sets or whole-view Gets, sent as
    prepared bytes and answered bytes left unparsed, so the flood costs this machine's
    cores as little as a remote client would."""
    _pin(CLIENT_CPUS)
    os.nice(10)  # the flood yields to the measuring client on the clients' core
    channel = grpc.insecure_channel(target, options=OPTIONS)
    method = "/gnmi.gNMI/Set" if kind == "set" else "/gnmi.gNMI/Get"
    call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    metadata = (("username", "alice"), ("password", "alice-pw"))
    get_all = gnmi_pb2.GetRequest(path=[path("/")]).SerializeToString()
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        if kind == "set":
            update = gnmi_pb2.Update(
                path=path("/slices/slice[name=embb]/config/description"),
                val=gnmi_pb2.TypedValue(json_val=json.dumps(f"flood {n}").encode()),
            )
            request = gnmi_pb2.SetRequest(update=[update]).SerializeToString()
        else:
            request = get_all
        try:
            call(request, metadata=metadata, timeout=120)
            counts[kind] += 1
        except grpc.RpcError:
            counts["refused"] += 1


def timed(call: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def noisy_neighbour(calls: int, flood_s: float) -> None:
    site = json.loads(default_site_path().read_text())
    users = {
        "admin": (Role.ADMIN, None),
        "alice": (Role.TENANT, "operator-a"),
        "bob": (Role.TENANT, "operator-b"),
    }
    with running(site, users) as target:
        admin = Client(target, "admin", "admin-pw")
        admin.set("/tenants/tenant[name=operator-b]/config/max-set-rate", 65535)
        bob = Client(target, "bob", "bob-pw")
        toggle = [0]

        def b_set() -> Any:
            toggle[0] ^= 1
            return bob.set("/slices/slice[name=miot]/config/priority", 1 + toggle[0])

        def b_get() -> Any:
            return bob.get("/slices/slice[name=miot]/config")

        for _ in range(20):
            b_set()
            b_get()
        alone = {"Set": timed(b_set, calls), "Get": timed(b_get, calls)}
        manager = multiprocessing.Manager()
        counts = manager.dict({"set": 0, "get": 0, "refused": 0})
        seconds = flood_s + 2 * calls * (statistics.median(alone["Set"]) * 4) / 1000
        floods = [
            multiprocessing.Process(target=flood, args=(target, kind, seconds, counts))
            for kind in ("set", "set", "get", "get")
        ]
        for process in floods:
            process.start()
        time.sleep(1.0)
        loaded = {"Set": timed(b_set, calls), "Get": timed(b_get, calls)}
        for process in floods:
            process.terminate()
            process.join(30)
        flooded = {"sets": counts["set"], "refused": counts["refused"], "gets": counts["get"]}
        print("\n1. tenant B alone and while tenant A floods (ms)   p50      p99   ratio p50 / p99")
        for name in ("Set", "Get"):
            a50, a99 = statistics.median(alone[name]), percentile(alone[name], 99)
            l50, l99 = statistics.median(loaded[name]), percentile(loaded[name], 99)
            print(f"   B {name} one leaf, alone               {a50:8.2f} {a99:8.2f}")
            print(
                f"   B {name} one leaf, A flooding          {l50:8.2f} {l99:8.2f}"
                f"   {l50 / a50:.2f}x / {l99 / a99:.2f}x"
            )
        print(
            f"   A's flood meanwhile: {flooded['sets']} Sets committed, {flooded['refused']} "
            f"refused (over its quota), {flooded['gets']} whole-view Gets"
        )


def views_at_scale(repeats: int) -> None:
    site = scaled_site(1024, 1000, tenants=50)
    tenant = site["edge-tenants:tenants"]["tenant"][0]["name"]
    other = next(  # a slice outside the tenant's view: its change makes every answer cold
        s["name"] for s in site["edge-slices:slices"]["slice"] if s["config"]["tenant"] != tenant
    )
    users = {"admin": (Role.ADMIN, None), "t0": (Role.TENANT, tenant)}
    with running(site, users) as target:
        admin, t0 = Client(target, "admin", "admin-pw"), Client(target, "t0", "t0-pw")
        config = gnmi_pb2.GetRequest.CONFIG
        rows = []
        for label, client in (("admin (1,000 slices)", admin), (f"tenant {tenant}", t0)):
            client.get("/slices", config)
            cold = []
            for i in range(repeats):  # a commit to /slices before each Get: nothing cached
                admin.set(f"/slices/slice[name={other}]/config/description", f"r{i}")
                start = time.perf_counter()
                answer = client.get("/slices", config)
                cold.append((time.perf_counter() - start) * 1000)
            warm = timed(lambda client=client: client.get("/slices", config), repeats)
            size = answer.ByteSize()
            rows.append((label, statistics.median(cold), statistics.median(warm), size))
        print("\n2. Get /slices config, 1,024 ports, 1,000 slices over 50 tenants (ms, median)")
        print("   as                         cold     warm   bytes")
        for label, cold, warm, size in rows:
            print(f"   {label:<24} {cold:8.2f} {warm:8.2f}   {size:,}")
        print(
            f"   tenant / admin: cold {rows[1][1] / rows[0][1]:.2f}x, warm "
            f"{rows[1][2] / rows[0][2]:.2f}x"
        )


def main() -> None:
    _pin(CLIENT_CPUS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    print(f"edge-agent tenancy, grpcio {grpc.__version__}, Python {sys.version.split()[0]}")
    noisy_neighbour(100 if args.quick else 400, 1.0)
    views_at_scale(5 if args.quick else 20)


if __name__ == "__main__":
    main()
