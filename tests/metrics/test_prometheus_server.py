"""A real Prometheus server scrapes `edge-agent serve` and computes a port counter's rate.

The agent runs with simulated traffic and the per-entity counters; Prometheus
(/usr/bin/prometheus, Debian package prometheus) runs on 127.0.0.1 with a configuration
written here, a one-second scrape interval and its storage in a temporary directory. The
rate is read back through Prometheus's HTTP API, as a dashboard or an alert would.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.simulation import demo_share
from tests.integration.conftest import AgentProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROMETHEUS = Path("/usr/bin/prometheus")
METRICS_LINE = re.compile(r"^  metrics +http://127\.0\.0\.1:(\d+)/metrics")
PORT = "tor-tf1/1"
WAIT_S = 90


def free_port() -> int:
    """A port nothing listens on right now (Prometheus cannot be told to pick one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def metrics_port(agent: AgentProcess) -> int:
    for line in agent.stdout:
        match = METRICS_LINE.match(line)
        if match:
            return int(match.group(1))
    raise AssertionError(f"no metrics line in the start-up text: {agent.stdout}")


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(
        tmp_path / "state",
        "--insecure",
        "--simulate-traffic",
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-counters",
    ).start()
    try:
        yield process
    finally:
        assert process.stop() == 0


class Prometheus:
    """/usr/bin/prometheus scraping one target every second."""

    def __init__(self, directory: Path, target: str) -> None:
        if not PROMETHEUS.exists():
            pytest.fail("prometheus is missing: run tools/system-deps.sh (Debian prometheus)")
        config = directory / "prometheus.yml"
        config.write_text(
            "global:\n"
            "  scrape_interval: 1s\n"
            "  scrape_timeout: 1s\n"
            "  evaluation_interval: 1s\n"
            "scrape_configs:\n"
            "  - job_name: edge-agent\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.address = f"127.0.0.1:{free_port()}"
        self.log = directory / "prometheus.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(PROMETHEUS),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address={self.address}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=10) as response:
            return response.read()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"prometheus exited: {self.log.read_text()}"
            try:
                self.get("/-/ready")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"prometheus did not get ready: {self.log.read_text()}")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector ``promql`` evaluates to now."""
        answer = json.loads(self.get("/api/v1/query?" + urllib.parse.urlencode({"query": promql})))
        assert answer["status"] == "success", answer
        assert answer["data"]["resultType"] == "vector"
        results: list[dict[str, Any]] = answer["data"]["result"]
        return results


@pytest.fixture
def prometheus(tmp_path: Path, agent: AgentProcess) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path, f"127.0.0.1:{metrics_port(agent)}")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def wait_for(prometheus: Prometheus, promql: str) -> list[dict[str, Any]]:
    """The first non-empty answer to ``promql`` (Prometheus needs a few scrapes)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        results = prometheus.query(promql)
        if results:
            return results
        time.sleep(0.5)
    raise AssertionError(f"{promql} stayed empty: {prometheus.log.read_text()}")


def test_prometheus_reads_a_port_counters_rate(prometheus: Prometheus) -> None:
    up = wait_for(prometheus, 'up{job="edge-agent"} == 1')
    assert up[0]["metric"]["instance"].startswith("127.0.0.1:")
    counter = f'edge_agent_port_in_octets_total{{port="{PORT}"}}'
    # rate() extrapolates from the samples in its window: let the window fill first
    wait_for(prometheus, f"count_over_time({counter}[5s]) >= 5")
    (series,) = wait_for(prometheus, f"rate({counter}[5s]) > 0")
    labels = series["metric"]
    assert (labels["device"], labels["port"], labels["job"]) == ("tor-tf1", PORT, "edge-agent")
    octets_per_s = float(series["value"][1])
    offered = 100e9 * demo_share(PORT) / 8  # what --simulate-traffic offers on the 100G port
    assert offered * 0.8 < octets_per_s < offered * 1.2
    slices = wait_for(
        prometheus, "sum by (slice, tenant) (rate(edge_agent_slice_out_octets_total[5s])) > 0"
    )
    assert {s["metric"]["tenant"] for s in slices} >= {"operator-a"}
