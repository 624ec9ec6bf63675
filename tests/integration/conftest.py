"""Integration fixtures: `edge-agent serve` as a subprocess, pygnmi in a worker process.

Nothing here imports the agent's gNMI stubs or pygnmi (see pygnmi_worker.py for why).
Agents listen on 127.0.0.1 on an ephemeral port (``--listen 127.0.0.1:0``; the port is
read from the start-up text) and are stopped with SIGTERM by the fixtures.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

WORKER = Path(__file__).with_name("pygnmi_worker.py")
ADMIN_PASSWORD = "integration-admin-pw"
READER_PASSWORD = "integration-reader-pw"
START_TIMEOUT = 60
CALL_TIMEOUT = 60
ADDRESS = re.compile(r" on 127\.0\.0\.1:(\d+) \(")


class GnmiCallError(Exception):
    """A pygnmi call that ended with a gRPC status."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class AgentProcess:
    """One `edge-agent serve` process."""

    def __init__(
        self,
        state_dir: Path,
        *args: str,
        env: dict[str, str] | None = None,
        program: tuple[str, ...] = (sys.executable, "-m", "agent.cli"),
        cwd: Path | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.args = args
        self.program = program  # e.g. an installed edge-agent script
        self.cwd = cwd or state_dir.parent
        self.env = {**os.environ, "EDGE_AGENT_ADMIN_PASSWORD": ADMIN_PASSWORD, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr = ""
        self.port = 0
        self.returncode: int | None = None
        self._pumps: list[threading.Thread] = []
        self._stderr: list[str] = []

    def start(self) -> AgentProcess:
        command = [
            *self.program,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--netconf-listen",
            "127.0.0.1:0",
            "--state-dir",
            str(self.state_dir),
            "--bootstrap-admin",
            "admin",
            *self.args,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._pumps = [
            threading.Thread(target=self._pump, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for pump in self._pumps:
            pump.start()
        while True:
            try:
                line = self.lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                self.stop()
                raise AssertionError(f"the agent did not start: {self.stderr}") from None
            if line is None:
                self.stop()
                raise AssertionError(f"the agent exited: {self.stderr}")
            match = ADDRESS.search(line)
            if match:
                self.port = int(match.group(1))
            if line.startswith("Stop with Ctrl-C."):
                return self

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        self._stderr = [line for line in self.process.stderr]

    @property
    def ca_cert(self) -> Path:
        return self.state_dir / "tls" / "ca.crt"

    def stop(self) -> int:
        """SIGTERM, then the exit code (the start-up text and stderr are kept)."""
        process = self.process
        if process is None:
            assert self.returncode is not None, "never started"
            return self.returncode
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pump in self._pumps:
            pump.join(10)
        self.stderr = "".join(self._stderr)
        self.process = None
        self.returncode = process.returncode
        return process.returncode


class PygnmiWorker:
    """pygnmi clients living in their own process."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._next = 0
        self._replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._replies.put(line)

    def call(self, op: str, **fields: Any) -> Any:
        """Runs one pygnmi operation; raises GnmiCallError for a gRPC error status."""
        assert self._process.stdin is not None
        self._next += 1
        self._process.stdin.write(json.dumps({"id": self._next, "op": op, **fields}) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._replies.get(timeout=CALL_TIMEOUT))
        assert reply["id"] == self._next
        if "error" in reply:
            raise GnmiCallError(reply["error"]["code"], reply["error"]["details"])
        return reply["result"]

    def connect(
        self, name: str, agent: AgentProcess, user: str, password: str, **options: Any
    ) -> None:
        if "insecure" not in options and "path_cert" not in options:
            options["path_root"] = str(agent.ca_cert)
        options.setdefault("gnmi_timeout", 20)
        self.call(
            "connect",
            client=name,
            target=["127.0.0.1", agent.port],
            username=user,
            password=password,
            **options,
        )

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def add_user(
    state_dir: Path, name: str, role: str, password: str, tenant: str | None = None
) -> None:
    """`edge-agent user add` as an operator would run it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--state-dir",
            str(state_dir),
            *(("--tenant", tenant) if tenant else ()),
        ],
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def pygnmi() -> Iterator[PygnmiWorker]:
    worker = PygnmiWorker()
    try:
        yield worker
    finally:
        worker.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    """An agent on the simulated site with TLS, an admin and a read-only user."""
    state_dir = tmp_path_factory.mktemp("agent") / "state"
    agent = AgentProcess(state_dir).start()
    try:
        add_user(state_dir, "reader", "read-only", READER_PASSWORD)
        yield agent
    finally:
        agent.stop()
