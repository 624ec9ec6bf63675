"""NETCONF next to gNMI and to raw SSH, measured in one run.

Site: 1,024 ports (agent.sitegen.scaled_site). `edge-agent serve` (built by
agent.app.build_agent) runs in its own process with gNMI and NETCONF on 127.0.0.1; the
clients are netconf-client (NETCONF over SSH, on a socket with TCP_NODELAY like the
other clients') and a synchronous grpcio channel (gNMI).

- get-config of the whole running datastore, next to a gNMI Get of the same data
  (configuration, JSON) and next to a raw asyncssh exchange of the same message sizes
  (a server that answers every request with as many bytes, framed like NETCONF 1.1);
- edit-config of one leaf plus commit (candidate), next to a gNMI one-leaf Set and a
  raw exchange of the same sizes (two round trips).

Goals (issue): edit-config plus commit within 1.5x of the gNMI Set; get-config within
2x of the gNMI Get.

    python bench/netconf.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncssh
import grpc
from netconf_client.connect import connect_ssh
from netconf_client.ncclient import Manager

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import served

from agent.gnmi.pb import gnmi_pb2, gnmi_pb2_grpc
from agent.schema.path import DataPath
from agent.sitegen import scaled_site

PASSWORD = "bench-password"
OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
NS_PORTS = "urn:edge-agent:yang:edge-ports"


def path(text: str) -> gnmi_pb2.Path:
    message = gnmi_pb2.Path()
    for elem in DataPath.parse(text).elems:
        message.elem.add(name=elem.name, key=dict(elem.keys))
    return message


def nodelay_socket(port: int) -> socket.socket:
    """A TCP connection with Nagle's algorithm off, as asyncssh and grpcio open theirs.

    netconf-client (paramiko) leaves it on: after a large reply its window adjustment
    goes out alone, the next request waits behind it for the agent's delayed ACK, and
    every exchange takes 40 ms more (measured: get-config of 1,024 ports 4 ms with an
    asyncssh client, 47 ms through netconf-client on a default socket)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(call: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


@contextmanager
def agent(ports: int) -> Iterator[tuple[str, int]]:
    with served({"bench": ("admin", PASSWORD, None)}, site=scaled_site(ports), netconf=True) as up:
        yield up.gnmi, up.netconf


class RawEcho:
    """A raw asyncssh server answering each chunked message with ``size`` bytes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> int:
        key = asyncssh.generate_private_key("ssh-ed25519")

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return True

        async def handle(process: asyncssh.SSHServerProcess[bytes]) -> None:
            reader, writer = process.stdin, process.stdout
            while True:
                header = await reader.readline()
                if not header:
                    break
                size = int(header.strip().lstrip(b"#") or 0)
                body = await reader.readexactly(size)
                answer = int(body.split(b" ", 1)[0])
                writer.write(b"\n#%d\n" % answer + b"x" * answer + b"\n##\n")
            process.exit(0)

        server = await asyncssh.create_server(
            Server,
            "127.0.0.1",
            0,
            server_host_keys=[key],
            process_factory=handle,
            encoding=None,
        )
        return int(server.sockets[0].getsockname()[1])

    def exchange_cost(self, request: int, response: int, count: int) -> list[float]:
        async def run() -> list[float]:
            async with asyncssh.connect(
                "127.0.0.1", self.port, username="b", password="b", known_hosts=None
            ) as conn:
                process = await conn.create_process(encoding=None)
                body = (b"%d " % response).ljust(request, b"y")
                samples = []
                for _ in range(count):
                    start = time.perf_counter()
                    process.stdin.write(b"#%d\n" % len(body) + body)
                    await process.stdout.readline()
                    header = await process.stdout.readline()
                    size = int(header.strip().lstrip(b"#"))
                    await process.stdout.readexactly(size + 4)
                    samples.append((time.perf_counter() - start) * 1000)
                process.stdin.write_eof()
                return samples

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(300)


def row(label: str, samples: list[float], base: list[float] | None = None) -> str:
    p50, p99 = statistics.median(samples), percentile(samples, 99)
    text = f"   {label:<38} {p50:8.2f} {p99:8.2f}"
    if base is not None:
        text += f"   {p50 / statistics.median(base):5.2f}x / {p99 / percentile(base, 99):5.2f}x"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--ports", type=int, default=1024)
    args = parser.parse_args()
    gets, sets = (5, 20) if args.quick else (20, 100)
    print(f"edge-agent NETCONF vs gNMI, {args.ports} ports, Python {sys.version.split()[0]}")
    with agent(args.ports) as (gnmi_target, netconf_port):
        channel = grpc.insecure_channel(gnmi_target, options=OPTIONS)
        stub = gnmi_pb2_grpc.gNMIStub(channel)
        metadata = (("username", "bench"), ("password", PASSWORD))
        get_all = gnmi_pb2.GetRequest(path=[path("/")], type=gnmi_pb2.GetRequest.CONFIG)
        session = connect_ssh(
            sock=nodelay_socket(netconf_port), username="bench", password=PASSWORD
        )
        manager = Manager(session, timeout=120)
        leaf = "/ports/port[name=sw000/1/0]/config/mtu"
        toggle = [0]

        def gnmi_get() -> Any:
            return stub.Get(get_all, metadata=metadata, timeout=120)

        def gnmi_set() -> Any:
            toggle[0] ^= 1
            value = gnmi_pb2.TypedValue(json_val=b"1500" if toggle[0] else b"9000")
            request = gnmi_pb2.SetRequest(update=[gnmi_pb2.Update(path=path(leaf), val=value)])
            return stub.Set(request, metadata=metadata, timeout=120)

        def nc_get_config() -> Any:
            return manager.get_config(source="running")

        def nc_edit_commit() -> Any:
            toggle[0] ^= 1
            mtu = 1500 if toggle[0] else 9000
            config = (
                '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
                f'<ports xmlns="{NS_PORTS}">'
                f"<port><name>sw000/1/0</name><config><mtu>{mtu}</mtu></config></port>"
                "</ports></config>"
            )
            manager.edit_config(config, target="candidate")
            return manager.commit()

        reply = nc_get_config()
        get_bytes = len(reply.data_xml) if hasattr(reply, "data_xml") else 0
        answer = gnmi_get().ByteSize()
        raw = RawEcho()
        print("\n                                            p50 ms   p99 ms   vs baseline")
        print(" get-config of the whole running datastore")
        timed(gnmi_get, 2)
        base = timed(gnmi_get, gets)
        print(row("gNMI Get / config, warm (baseline)", base))
        cold = []
        for _ in range(gets):  # a commit before each Get: nothing encoded is reused
            gnmi_set()
            cold += timed(gnmi_get, 1)
        print(row("gNMI Get / config, cold", cold, base))
        print(row("NETCONF get-config (vs cold gNMI)", timed(nc_get_config, gets), cold))
        print(
            row(
                f"raw SSH exchange ({get_bytes:,} B answer)",
                raw.exchange_cost(300, get_bytes, gets),
                base,
            )
        )
        print(f"   (gNMI answer {answer:,} B)")
        try:
            nc_edit_commit()
        except Exception as err:  # the write operations may not be served yet
            print(f"\n edit-config + commit: not available ({type(err).__name__}: {err})")
        else:
            print(" one leaf: edit-config + commit vs gNMI Set")
            timed(gnmi_set, 5)
            base = timed(gnmi_set, sets)
            print(row("gNMI Set one leaf (baseline)", base))
            print(row("NETCONF edit-config + commit", timed(nc_edit_commit, sets), base))
            two = [
                a + b
                for a, b in zip(
                    raw.exchange_cost(400, 200, sets),
                    raw.exchange_cost(200, 200, sets),
                    strict=True,
                )
            ]
            print(row("raw SSH, two exchanges of that size", two, base))
        session.close()
        channel.close()


if __name__ == "__main__":
    main()
