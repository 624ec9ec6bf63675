"""`edge-agent serve`: run the gNMI agent (and NETCONF over SSH) until SIGINT or SIGTERM.

Settings come from the defaults, then the TOML file given with ``--config``, then the
flags. On start it prints where it listens, the CA certificate clients must trust, the
SSH host key, who can log in and pygnmi and netconf-console2 commands that work as
printed. SIGHUP reloads the TLS files, the user database and the policy file without
dropping a connection (agent.reload).

When it cannot start (bad settings, unsafe file modes in the state directory, a damaged
users file, a busy port, ...) it prints one line on stderr (a JSON record with
``--log-format json``), listens nowhere and exits with the code that says which kind of
problem it was (agent.exit_codes).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent import __version__
from agent.app import BOOTSTRAP_PASSWORD_ENV, Agent, Bootstrap, build_agent
from agent.config import ConfigError, ListenAddress, Settings, load_settings, parse_user_tenant
from agent.datastore.datastore import Running
from agent.datastore.errors import DatastoreError
from agent.datastore.persist_errors import PersistenceError
from agent.exit_codes import ExitCode
from agent.gnmi.pb import GNMI_VERSION
from agent.log_setup import configure_logging
from agent.metrics.listener import MetricsStartError
from agent.northbound.netconf.contracts import NS_BASE, qname
from agent.northbound.netconf.server import NetconfStartError
from agent.northbound.netconf.sshkeys import HostKeyError
from agent.northbound.server import ServerStartError
from agent.schema.library import ModuleLoadError
from agent.security.errors import TlsMaterialError, UserDatabaseError, UserError
from agent.security.state_files import StateFileError
from agent.security.tls import CertificateOrigin
from agent.security.users import Role
from agent.service.policy_file import PolicyFileError
from agent.site_file import SiteFileError, summarise

log = logging.getLogger("agent.serve")


def register(subparsers: Any) -> None:
    """Adds the ``serve`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="run the agent: gNMI (TLS, 127.0.0.1:9339) and NETCONF over SSH (127.0.0.1:830)",
        description="Run the gNMI and NETCONF agent on the configured site until SIGINT or "
        "SIGTERM. SIGHUP reloads the TLS files, the users and the policy file.",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML settings file")
    parser.add_argument(
        "--listen", metavar="HOST:PORT", help="address to listen on (default 127.0.0.1:9339)"
    )
    parser.add_argument(
        "--state-dir", type=Path, metavar="DIR", help="running config, TLS, users (default ./state)"
    )
    parser.add_argument(
        "--site",
        type=Path,
        metavar="FILE",
        help="initial configuration when the state dir has none (default: the simulated site)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="serve plaintext gRPC without TLS (labs only: passwords travel in clear)",
    )
    parser.add_argument(
        "--tls-name",
        action="append",
        metavar="NAME",
        help="extra DNS name or IP address for the server certificate (repeatable)",
    )
    parser.add_argument(
        "--client-ca",
        type=Path,
        metavar="FILE",
        help="PEM CA bundle; clients must present a certificate it issued (mutual TLS)",
    )
    parser.add_argument(
        "--bootstrap-admin",
        metavar="NAME",
        help=f"if there are no users, create admin NAME (password from ${BOOTSTRAP_PASSWORD_ENV} "
        "or generated into STATE_DIR/bootstrap-admin.password)",
    )
    parser.add_argument(
        "--bootstrap-tenant",
        action="append",
        metavar="USER:TENANT",
        help="create tenant user USER bound to TENANT if absent (password generated into "
        "STATE_DIR/bootstrap-USER.password); may be repeated",
    )
    netconf = parser.add_mutually_exclusive_group()
    netconf.add_argument(
        "--netconf-listen",
        metavar="HOST:PORT",
        help="serve NETCONF over SSH there (default 127.0.0.1:830; port 0 picks a free one)",
    )
    netconf.add_argument(
        "--no-netconf", action="store_true", default=None, help="do not serve NETCONF"
    )
    parser.add_argument(
        "--simulate-traffic",
        action="store_true",
        default=None,
        help="offer steady traffic on simulated (mock) devices so counters move (demos)",
    )
    parser.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks a free one)",
    )
    parser.add_argument(
        "--metrics-counters",
        action="store_true",
        default=None,
        help="also export every port's and slice's counters (one series per entity)",
    )
    parser.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), help="default info"
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="text (default) or json: one JSON object per line on stderr",
    )
    parser.set_defaults(handler=run)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults, then the TOML file, then the flags."""
    settings = load_settings(args.config) if args.config else Settings()
    changes: dict[str, Any] = {}
    if args.listen is not None:
        changes["listen"] = ListenAddress.parse(args.listen)
    if args.state_dir is not None:
        changes["state_dir"] = args.state_dir
    if args.site is not None:
        changes["site"] = args.site
    if args.log_level is not None:
        changes["log_level"] = args.log_level
    if args.log_format is not None:
        changes["log_format"] = args.log_format
    if args.simulate_traffic:
        changes["simulate_traffic"] = True
    tls = settings.tls
    if args.insecure:
        tls = _replace(tls, insecure=True)
    if args.tls_name:
        tls = _replace(tls, extra_names=(*tls.extra_names, *args.tls_name))
    if args.client_ca is not None:
        tls = _replace(tls, client_ca=args.client_ca)
    users = settings.users
    if args.bootstrap_admin is not None:
        users = _replace(users, bootstrap_admin=args.bootstrap_admin)
    if args.bootstrap_tenant:
        try:
            pairs = tuple(parse_user_tenant(text) for text in args.bootstrap_tenant)
        except ConfigError as err:
            raise ConfigError(f"--bootstrap-tenant {err}") from None
        users = _replace(users, bootstrap_tenants=(*users.bootstrap_tenants, *pairs))
    changes["users"] = users
    netconf = settings.netconf
    if args.netconf_listen is not None:
        try:
            address = ListenAddress.parse(args.netconf_listen)
        except ConfigError as err:
            raise ConfigError(f"--netconf-listen: {err}") from None
        netconf = _replace(netconf, enabled=True, listen=address)
    if args.no_netconf:
        netconf = _replace(netconf, enabled=False)
    changes["netconf"] = netconf
    metrics = settings.metrics
    if args.metrics_listen is not None:
        try:
            metrics = _replace(metrics, listen=ListenAddress.parse(args.metrics_listen))
        except ConfigError as err:
            raise ConfigError(f"--metrics-listen: {err}") from None
    if args.metrics_counters:
        metrics = _replace(metrics, counters=True)
    changes["metrics"] = metrics
    return settings.replace(tls=tls, **changes)


def _replace(value: Any, **changes: Any) -> Any:
    return replace(value, **changes)


SWITCH_INTERVAL_S = 0.001
"""How long a thread that wants the interpreter lock waits before the holder must give
it up (Python's default is 5 ms). Work that cannot offer the lock itself (a commit, a
large encoding in C) then delays the event loop, and so every other client's request,
by at most this much."""


def run(args: argparse.Namespace) -> int:
    """Runs the agent; the exit code (agent.exit_codes.ExitCode)."""
    try:
        settings = settings_from_args(args)
    except ConfigError as err:
        return _cannot_start(err)
    configure_logging(settings.log_level, settings.log_format)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return ExitCode.OK


START_ERRORS = (
    ConfigError,
    DatastoreError,
    HostKeyError,
    MetricsStartError,
    ModuleLoadError,
    NetconfStartError,
    PersistenceError,
    PolicyFileError,
    ServerStartError,
    SiteFileError,
    StateFileError,
    TlsMaterialError,
    UserDatabaseError,
    UserError,
    OSError,
)
"""Failures that stop the start with one line on stderr."""

EXIT_CODES: tuple[tuple[tuple[type[BaseException], ...], ExitCode], ...] = (
    ((ServerStartError, NetconfStartError, MetricsStartError), ExitCode.LISTEN),
    ((ConfigError, DatastoreError, ModuleLoadError, PolicyFileError), ExitCode.CONFIG),
    ((SiteFileError, UserError), ExitCode.CONFIG),  # UserError: a bootstrap user's name
    (
        (HostKeyError, PersistenceError, StateFileError, TlsMaterialError, UserDatabaseError),
        ExitCode.STATE,
    ),
    ((OSError,), ExitCode.STATE),
)
"""The exit code of each kind of start failure (the first match counts)."""


async def serve(settings: Settings) -> int:
    """Starts the agent, prints how to reach it and runs until a stop signal."""
    try:
        agent = build_agent(settings)
        bootstrap = agent.bootstrap_admin()
        tenants = agent.bootstrap_tenants()
        running = await agent.start()
    except START_ERRORS as err:
        return _cannot_start(err, settings=settings)
    except Exception as err:  # a bug: still one line; the traceback at debug level
        log.debug("start failed", exc_info=True)
        return _cannot_start(err, unexpected=True, settings=settings)
    try:
        text = banner(agent, running, bootstrap, tenants)
        has_users = bool(agent.users.users())
    except Exception as err:  # e.g. the users file damaged since it was checked
        await _stop_quietly(agent)
        unexpected = not isinstance(err, START_ERRORS)
        return _cannot_start(err, unexpected=unexpected, settings=settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    reloads: set[asyncio.Task[Any]] = set()
    # Before the start-up text: whoever waits for it may send any signal at once.
    loop.add_signal_handler(signal.SIGHUP, _reload_soon, agent, reloads)
    if settings.tls.insecure:
        _warn_insecure(settings)
    print(text, flush=True)
    if not has_users:
        _warn(settings, _no_users_warning(settings))
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        await asyncio.gather(*reloads, return_exceptions=True)
        log.info("stopping (grace period %.0f s)", settings.grpc.shutdown_grace_s)
        await agent.stop()
    print("edge-agent stopped", flush=True)
    return ExitCode.OK


def _reload_soon(agent: Agent, reloads: set[asyncio.Task[Any]]) -> None:
    """SIGHUP: reloads in a task of its own (reloads run one after the other)."""
    task = asyncio.ensure_future(agent.reload())
    reloads.add(task)

    def done(finished: asyncio.Task[Any]) -> None:
        reloads.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.error("reload failed", exc_info=finished.exception())

    task.add_done_callback(done)


def exit_code_for(err: BaseException) -> ExitCode:
    """The exit code of a start that failed with ``err``."""
    for kinds, code in EXIT_CODES:
        if isinstance(err, kinds):
            return code
    return ExitCode.FAILED


def _cannot_start(
    err: BaseException, *, unexpected: bool = False, settings: Settings | None = None
) -> int:
    """Reports why the agent cannot start as one line; the exit code."""
    text = " ".join(str(err).split()) or type(err).__name__
    if unexpected:
        text = f"unexpected {type(err).__name__}: {text} (run with --log-level debug for details)"
    code = ExitCode.FAILED if unexpected else exit_code_for(err)
    if settings is not None and settings.log_format == "json":
        log.critical("cannot start: %s", text, extra={"exit_code": int(code)})
    else:
        print(f"edge-agent serve: error: {text}", file=sys.stderr, flush=True)
    return code


async def _stop_quietly(agent: Agent) -> None:
    """Stops an agent that started but cannot go on (errors only logged at debug)."""
    try:
        await agent.stop()
    except Exception:
        log.debug("stopping after a failed start", exc_info=True)


def banner(
    agent: Agent,
    running: Running,
    bootstrap: Bootstrap | None,
    tenants: Sequence[Bootstrap] = (),
) -> str:
    """The start-up text: address, trust, login and commands that work as printed."""
    settings = agent.settings
    tls = agent.tls
    security = "plaintext (INSECURE)" if tls is None else "TLS"
    if tls is not None and settings.tls.client_ca is not None:
        security = "mutual TLS"
    lines = [
        f"edge-agent {__version__}: gNMI {GNMI_VERSION} on {agent.address} ({security})",
        f"  configuration  version {running.version}: {summarise(running.tree)}",
        f"  state dir      {_shown(settings.state_dir)}",
        f"  YANG modules   {_modules_dir(agent)}",
    ]
    if tls is not None and tls.server_cert_origin is CertificateOrigin.OPERATOR:
        lines.append(
            f"  server cert    {_shown(tls.server_cert_path)} (your PKI) "
            f"for {', '.join(tls.server_names)}"
        )
    if tls is not None and tls.ca_cert_pem is not None:
        lines.append(
            f"  CA certificate {_shown(tls.ca_cert_path)} "
            f"(server certificate for {', '.join(tls.server_names)})"
        )
    lines += _netconf_lines(agent)
    if agent.metrics is not None:
        counters = " (with port and slice counters)" if settings.metrics.counters else ""
        lines.append(f"  metrics        {agent.metrics.url}{counters}")
    user, password = _login(agent, bootstrap)
    lines.append(f"  login          {user}")
    lines.append("Try it with pygnmi:")
    base = [_pygnmicli(), "-t", _client_address(agent), "-u", user, _attached("--pass", password)]
    if tls is None:
        base.append("-i")
    elif tls.ca_cert_pem is not None:
        base += ["-c", _shown(tls.ca_cert_path)]
    port = _first_port(running)
    examples = [["-o", "capabilities"]]
    if port is not None:
        examples += [
            ["-o", "get", "-x", f"/ports/port[name={port}]/state/counters"],
            ["-o", "set-update", "-x", f"/ports/port[name={port}]/config/mtu", "-f", _MTU_FILE],
            ["-o", "get", "-x", f"/ports/port[name={port}]/config/mtu"],
        ]
    for extra in examples:
        lines.append("  " + _command(base + extra))
    for tenant in tenants:
        if tenant.password_file is None:
            continue
        secret = _ShellWord(f'"$(cat {_shown(tenant.password_file)})"')
        words = [_pygnmicli(), "-t", _client_address(agent), "-u", tenant.name]
        words.append(_attached("--pass", secret))
        words += base[len(words) :]
        lines.append(f"As tenant user {tenant.name} (tenant {tenant.tenant}), only its slices:")
        lines.append("  " + _command([*words, "-o", "get", "-x", "/slices"]))
    if tls is not None and settings.tls.client_ca is not None:
        lines.append("  (mutual TLS: also pass your client certificate and key, -c CERT -k KEY)")
    lines += _netconf_commands(agent, user, password)
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)


def _modules_dir(agent: Agent) -> str:
    """Where the YANG modules were loaded from (the installed package's data)."""
    directories = sorted({_shown(module.path.parent) for module in agent.schema.modules})
    return ", ".join(directories)


def _netconf_lines(agent: Agent) -> list[str]:
    """Where NETCONF listens and its host key (nothing when NETCONF is off)."""
    server = agent.netconf
    if server is None:
        return []
    key = server.host_key
    return [
        f"  NETCONF        {server.address} over SSH (RFC 6242)",
        f"  SSH host key   {key.algorithm} {key.fingerprint} ({_shown(key.path)})",
    ]


def _netconf_commands(agent: Agent, user: str, password: _ShellWord) -> list[str]:
    """netconf-console2 commands that work as printed (nothing when NETCONF is off)."""
    server = agent.netconf
    if server is None:
        return []
    host, port = _netconf_client_address(agent)
    lines = ["Try NETCONF with netconf-console2:"]
    base = [_netconf_console(), "--host", host, "--port", str(port), "-u", user]
    base.append(_attached("--password", password))
    examples = [["--hello"]]
    if qname(NS_BASE, "get-config") in server.operations:
        examples.append(["--get-config"])
    for extra in examples:
        lines.append("  " + _command(base + extra))
    return lines


def _netconf_client_address(agent: Agent) -> tuple[str, int]:
    assert agent.netconf is not None
    host = agent.settings.netconf.listen.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, agent.netconf.port


def _netconf_console() -> str:
    candidate = Path(sys.executable).parent / "netconf-console2"
    return _shown(candidate) if candidate.exists() else "netconf-console2"


def _login(agent: Agent, bootstrap: Bootstrap | None) -> tuple[str, _ShellWord]:
    """The user name and a shell word for the password in the printed commands."""
    if bootstrap is not None:
        if bootstrap.password_file is not None:
            return bootstrap.name, _ShellWord(f'"$(cat {_shown(bootstrap.password_file)})"')
        if bootstrap.password_from_env:
            return bootstrap.name, _ShellWord(f'"${BOOTSTRAP_PASSWORD_ENV}"')
        return bootstrap.name, _ShellWord("PASSWORD")
    admins = [u.name for u in agent.users.users() if u.role is Role.ADMIN]
    return (admins[0] if admins else "USER"), _ShellWord("PASSWORD")


class _ShellWord(str):
    """A word already written for the shell (an expansion), printed as it is."""


_MTU_FILE = _ShellWord("<(echo 1500)")


def _attached(option: str, value: _ShellWord) -> _ShellWord:
    """``--option=value``: a value joined to its option, so that one starting with '-'
    (a generated password may) is never taken for an option by the client's parser."""
    return _ShellWord(f"{option}={value}")


def _command(words: list[str]) -> str:
    return " ".join(w if isinstance(w, _ShellWord) else shlex.quote(w) for w in words)


def _first_port(running: Running) -> str | None:
    ports = (running.tree.get("edge-ports:ports") or {}).get("port") or []
    return str(ports[0]["name"]) if ports else None


def _client_address(agent: Agent) -> str:
    listen = agent.settings.listen.with_port(agent.port)
    if listen.host in ("0.0.0.0", ""):
        return f"127.0.0.1:{listen.port}"
    if listen.host == "::":
        return f"[::1]:{listen.port}"
    return str(listen)


def _pygnmicli() -> str:
    candidate = Path(sys.executable).parent / "pygnmicli"
    return _shown(candidate) if candidate.exists() else "pygnmicli"


def _shown(path: Path) -> str:
    """``path`` made absolute, so that printed commands work from any directory."""
    return str(path.resolve())


def _warn_insecure(settings: Settings) -> None:
    exposure = (
        ""
        if settings.listen.is_loopback
        else f" Anyone who can reach {settings.listen} can "
        "read every password and configuration change."
    )
    _warn(
        settings,
        "WARNING: --insecure: gNMI is served WITHOUT TLS. Passwords and configuration travel "
        f"in clear text. Use this only in a lab.{exposure}",
    )


def _warn(settings: Settings, text: str) -> None:
    """A warning for the operator on stderr: as it is, or a JSON log record."""
    if settings.log_format == "json":
        log.warning("%s", text)
    else:
        print(text, file=sys.stderr, flush=True)


def _no_users_warning(settings: Settings) -> str:
    state_dir = _shown(settings.state_dir)
    return (
        "WARNING: there are no users, so nobody can log in. Create an admin with\n"
        f"  edge-agent user add NAME --role admin --state-dir {state_dir}\n"
        f"or restart with --bootstrap-admin NAME (password from ${BOOTSTRAP_PASSWORD_ENV} or "
        "generated into the state dir)."
    )


__all__ = ["banner", "register", "run", "serve", "settings_from_args"]
