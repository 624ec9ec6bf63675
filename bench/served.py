"""`edge-agent serve` for the benchmarks: a state directory with users, the agent in its
own process (so that clients in the benchmark do not share its interpreter lock), and
the addresses it prints. The agent is built by agent.app.build_agent, as always."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EDGE_AGENT = Path(sys.executable).with_name("edge-agent")


@dataclass(frozen=True)
class Served:
    """A running agent: its gNMI address, its NETCONF port (0: off) and process id."""

    gnmi: str
    netconf: int
    pid: int


def add_user(state: Path, name: str, role: str, password: str, tenant: str | None = None) -> None:
    """`edge-agent user add` as an operator runs it."""
    subprocess.run(
        [str(EDGE_AGENT), "user", "add", name, "--role", role, "--password-stdin"]
        + ["--state-dir", str(state)]
        + (["--tenant", tenant] if tenant else []),
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


@contextmanager
def served(
    users: Mapping[str, tuple[str, str, str | None]],
    *,
    site: dict[str, Any] | None = None,
    netconf: bool = False,
    preexec: Callable[[], None] | None = None,
    settings: str | None = None,
) -> Iterator[Served]:
    """The agent on ``site`` (default: the simulated site), plaintext gNMI on 127.0.0.1,
    NETCONF on a free port when asked; ``users``: name -> (role, password, tenant);
    ``settings``: the text of a TOML settings file (agent.config) to run it with."""
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        for name, (role, password, tenant) in users.items():
            add_user(state, name, role, password, tenant)
        command = [str(EDGE_AGENT), "serve", "--insecure", "--listen", "127.0.0.1:0"]
        command += ["--state-dir", str(state)]
        command += ["--netconf-listen", "127.0.0.1:0"] if netconf else ["--no-netconf"]
        if site is not None:
            site_file = Path(tmp) / "site.json"
            site_file.write_text(json.dumps(site))
            command += ["--site", str(site_file)]
        if settings is not None:
            settings_file = Path(tmp) / "settings.toml"
            settings_file.write_text(settings)
            command += ["--config", str(settings_file)]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=preexec
        )
        try:
            yield _addresses(process)
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _addresses(process: subprocess.Popen[str]) -> Served:
    assert process.stdout is not None
    gnmi, netconf = "", 0
    for line in process.stdout:
        if line.startswith("edge-agent") and " on 127.0.0.1:" in line:
            gnmi = "127.0.0.1:" + line.split(" on 127.0.0.1:")[1].split()[0]
        elif "NETCONF" in line and "over SSH" in line and "127.0.0.1:" in line:
            netconf = int(line.split("127.0.0.1:")[1].split()[0])
        elif line.startswith("Stop with"):
            threading.Thread(target=process.stdout.read, daemon=True).start()  # drain
            return Served(gnmi, netconf, process.pid)
    raise RuntimeError("the agent did not start")
