"""Agent settings: an optional TOML file read into frozen dataclasses.

Every setting has a default, so the agent runs without a file; command-line flags
override the file (see ``agent.commands.serve``). Relative paths in a file are relative
to the file's directory. Unknown keys and wrongly typed values are refused with a
ConfigError that names the key, so a typo never goes unnoticed.

Example (every key shown with its default)::

    listen = "127.0.0.1:9339"
    state_dir = "state"
    site = ""                          # initial config when the state dir has none;
                                       # empty: the simulated site examples/site.json
    log_level = "info"
    log_format = "text"                # or "json": one JSON object per line on stderr
    commit_check_interval_s = 1.0      # how often an unconfirmed commit is checked

    [grpc]
    max_message_bytes = 67108864       # both directions
    keepalive_time_s = 30.0            # ping an idle connection after this long
    keepalive_timeout_s = 20.0         # and drop it if the ping is not answered
    min_client_ping_interval_s = 10.0  # clients may ping this often, not more
    shutdown_grace_s = 5.0             # in-flight RPCs get this long on SIGTERM

    [tls]
    insecure = false                   # true: plaintext (labs only)
    extra_names = []                   # more SubjectAltNames for the server certificate
    client_ca = ""                     # PEM bundle: clients must present a cert (mTLS)

    [users]
    file = ""                          # empty: STATE_DIR/users.json
    bootstrap_admin = ""               # create this admin when there are no users
    bootstrap_tenants = []             # "USER:TENANT": create these tenant users if absent

    [audit]
    max_bytes = 10485760
    keep = 5

    [login_throttle]                   # password logins (docs/security.md)
    enabled = true
    peer_failures = 5                  # failures from one peer within the window
    user_failures = 10                 # failures for one user name within the window
    window_s = 60.0
    lockout_s = 2.0                    # first lock-out; doubles up to max_lockout_s
    max_lockout_s = 300.0
    reset_s = 900.0                    # a quiet peer's lock-out history is forgotten

    [limits]
    request_workers = 4                # threads answering Gets and planning Sets
    workers_per_user = 2               # one user holds at most this many at once
    queued_per_user = 16               # more waiting requests: RESOURCE_EXHAUSTED
    request_budget_s = 30.0            # worker time one request may take at most

    [netconf]                          # NETCONF over SSH (docs/netconf.md)
    enabled = true
    listen = "127.0.0.1:830"           # the IANA port; below 1024 needs root
    max_message_bytes = 67108864       # larger messages are answered with too-big
    idle_timeout_s = 3600.0            # a session without traffic this long is closed
    login_timeout_s = 30.0             # for the SSH login, then again for the hello
    max_sessions = 64                  # connections at once (logged in or logging in)
    max_sessions_per_user = 16

    [metrics]                          # Prometheus (docs/deploy.md#metrics)
    listen = ""                        # HOST:PORT serves /metrics there; empty: off
    counters = false                   # also per port and per slice counters

    [telemetry]                        # Subscribe (docs/telemetry.md)
    bundling = "sample"                # per Notification: "leaf", "container" or "sample"
    max_updates_per_notification = 256

    [persistence]                      # the running configuration (docs/datastore.md)
    mode = "journal"                   # or "rewrite": the whole tree written per commit
    checkpoint_records = 1000          # a background checkpoint after this many commits
    checkpoint_bytes = 8388608         # or this much journal, whichever comes first
    keep_checkpoints = 3               # checkpoints kept (rollback and restore points)
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from agent.telemetry.limits import Bundling, TelemetryLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9339
DEFAULT_STATE_DIR = Path("state")
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_AUDIT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_AUDIT_KEEP = 5
DEFAULT_NETCONF_PORT = 830

_T = TypeVar("_T")


class ConfigError(ValueError):
    """A settings file or value that cannot be used."""


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where the gNMI server listens: a host name or IP address and a TCP port."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """Parses ``HOST:PORT`` (``[v6addr]:PORT`` for IPv6); port 0 picks a free one."""
        host, sep, port_text = text.strip().rpartition(":")
        if not sep or not host:
            raise ConfigError(f"listen address {text!r}: use HOST:PORT, e.g. 127.0.0.1:9339")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                raise ConfigError(f"listen address {text!r}: {host!r} is not IPv6") from None
        elif ":" in host:
            raise ConfigError(f"listen address {text!r}: put an IPv6 address in brackets")
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"listen address {text!r}: port {port_text!r} is no number") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"listen address {text!r}: port must be 0..65535")
        return cls(host, port)

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can connect."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def with_port(self, port: int) -> ListenAddress:
        return ListenAddress(self.host, port)

    def for_local_client(self) -> ListenAddress:
        """Where a client on this host connects: a wildcard address becomes loopback."""
        loopback = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}
        return ListenAddress(loopback.get(self.host, self.host), self.port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class GrpcSettings:
    """Transport limits and keepalive of the gRPC server."""

    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    keepalive_time_s: float = 30.0
    keepalive_timeout_s: float = 20.0
    min_client_ping_interval_s: float = 10.0
    shutdown_grace_s: float = 5.0


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS is on unless ``insecure``; ``client_ca`` turns on mutual TLS."""

    insecure: bool = False
    extra_names: tuple[str, ...] = ()
    client_ca: Path | None = None


@dataclass(frozen=True, slots=True)
class UserSettings:
    """The user database (``None``: ``STATE_DIR/users.json``) and the first admin."""

    file: Path | None = None
    bootstrap_admin: str | None = None
    bootstrap_tenants: tuple[tuple[str, str], ...] = ()  # (user, tenant)


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Size-based rotation of ``STATE_DIR/audit/audit.log``."""

    max_bytes: int = DEFAULT_AUDIT_MAX_BYTES
    keep: int = DEFAULT_AUDIT_KEEP


@dataclass(frozen=True, slots=True)
class LoginThrottleSettings:
    """Password-login throttling (the policy is in agent.security.throttle)."""

    enabled: bool = True
    peer_failures: int = 5
    user_failures: int = 10
    window_s: float = 60.0
    lockout_s: float = 2.0
    max_lockout_s: float = 300.0
    reset_s: float = 900.0


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Request workers, their fair share per user and the per-request time budget."""

    request_workers: int = 4
    workers_per_user: int = 2
    queued_per_user: int = 16
    request_budget_s: float = 30.0


@dataclass(frozen=True, slots=True)
class NetconfSettings:
    """The NETCONF server (RFC 6241 over SSH, RFC 6242)."""

    enabled: bool = True
    listen: ListenAddress = field(
        default_factory=lambda: ListenAddress(DEFAULT_HOST, DEFAULT_NETCONF_PORT)
    )
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    idle_timeout_s: float = 3600.0
    login_timeout_s: float = 30.0
    max_sessions: int = 64
    max_sessions_per_user: int = 16


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """The Prometheus endpoint (off while ``listen`` is None) and whether it also exports
    the per-port and per-slice counters (one series per entity, so opt-in)."""

    listen: ListenAddress | None = None
    counters: bool = False


PERSIST_MODES = ("journal", "rewrite")


@dataclass(frozen=True, slots=True)
class PersistenceSettings:
    """How commits are made durable (see agent.datastore.persistence)."""

    mode: str = "journal"
    checkpoint_records: int = 1000
    checkpoint_bytes: int = 8 << 20
    keep_checkpoints: int = 3


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``edge-agent serve`` needs to know."""

    listen: ListenAddress = field(default_factory=ListenAddress)
    state_dir: Path = DEFAULT_STATE_DIR
    site: Path | None = None
    log_level: str = "info"
    log_format: str = "text"
    commit_check_interval_s: float = 1.0
    simulate_traffic: bool = False
    grpc: GrpcSettings = field(default_factory=GrpcSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    users: UserSettings = field(default_factory=UserSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    login_throttle: LoginThrottleSettings = field(default_factory=LoginThrottleSettings)
    netconf: NetconfSettings = field(default_factory=NetconfSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    telemetry: TelemetryLimits = field(default_factory=TelemetryLimits)
    persistence: PersistenceSettings = field(default_factory=PersistenceSettings)

    @property
    def users_file(self) -> Path:
        """The user database file."""
        return self.users.file or self.state_dir / "users.json"

    def replace(self, **changes: Any) -> Settings:
        """A copy with top-level fields changed."""
        return replace(self, **changes)


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
_KIND_NAMES: Mapping[type, str] = MappingProxyType(
    {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
)


def load_settings(path: Path) -> Settings:
    """Reads a TOML settings file; raises ConfigError naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    try:
        return settings_from_mapping(data, base_dir=path.resolve().parent)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def settings_from_mapping(data: Mapping[str, Any], *, base_dir: Path) -> Settings:
    """Settings from parsed TOML; relative paths are taken relative to ``base_dir``."""
    top = _Table(data, "", base_dir)
    grpc_table = top.table("grpc")
    tls_table = top.table("tls")
    users_table = top.table("users")
    audit_table = top.table("audit")
    limits_table = top.table("limits")
    throttle_table = top.table("login_throttle")
    netconf_table = top.table("netconf")
    metrics_table = top.table("metrics")
    telemetry_table = top.table("telemetry")
    persistence_table = top.table("persistence")
    defaults = Settings()
    listen_text = top.get("listen", str, None)
    settings = Settings(
        listen=ListenAddress.parse(listen_text) if listen_text is not None else defaults.listen,
        state_dir=top.path("state_dir") or defaults.state_dir,
        site=top.path("site"),
        log_level=_log_level(top.get("log_level", str, defaults.log_level)),
        log_format=log_format(top.get("log_format", str, defaults.log_format)),
        commit_check_interval_s=top.positive("commit_check_interval_s", 1.0),
        simulate_traffic=top.get("simulate_traffic", bool, False),
        grpc=GrpcSettings(
            max_message_bytes=grpc_table.positive_int(
                "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES
            ),
            keepalive_time_s=grpc_table.positive("keepalive_time_s", 30.0),
            keepalive_timeout_s=grpc_table.positive("keepalive_timeout_s", 20.0),
            min_client_ping_interval_s=grpc_table.positive("min_client_ping_interval_s", 10.0),
            shutdown_grace_s=grpc_table.non_negative("shutdown_grace_s", 5.0),
        ),
        tls=TlsSettings(
            insecure=tls_table.get("insecure", bool, False),
            extra_names=tls_table.strings("extra_names"),
            client_ca=tls_table.path("client_ca"),
        ),
        users=UserSettings(
            file=users_table.path("file"),
            bootstrap_admin=users_table.get("bootstrap_admin", str, "") or None,
            bootstrap_tenants=tuple(
                parse_user_tenant(text) for text in users_table.strings("bootstrap_tenants")
            ),
        ),
        audit=AuditSettings(
            max_bytes=audit_table.positive_int("max_bytes", DEFAULT_AUDIT_MAX_BYTES),
            keep=audit_table.positive_int("keep", DEFAULT_AUDIT_KEEP),
        ),
        limits=LimitSettings(
            request_workers=limits_table.positive_int("request_workers", 4),
            workers_per_user=limits_table.positive_int("workers_per_user", 2),
            queued_per_user=limits_table.positive_int("queued_per_user", 16),
            request_budget_s=limits_table.positive("request_budget_s", 30.0),
        ),
        login_throttle=LoginThrottleSettings(
            enabled=throttle_table.get("enabled", bool, True),
            peer_failures=throttle_table.positive_int("peer_failures", 5),
            user_failures=throttle_table.positive_int("user_failures", 10),
            window_s=throttle_table.positive("window_s", 60.0),
            lockout_s=throttle_table.positive("lockout_s", 2.0),
            max_lockout_s=throttle_table.positive("max_lockout_s", 300.0),
            reset_s=throttle_table.positive("reset_s", 900.0),
        ),
        netconf=_netconf_settings(netconf_table),
        metrics=MetricsSettings(
            listen=_optional_listen(metrics_table, "listen"),
            counters=metrics_table.get("counters", bool, False),
        ),
        telemetry=_telemetry_limits(telemetry_table),
        persistence=_persistence_settings(persistence_table),
    )
    tables = (
        top,
        grpc_table,
        tls_table,
        users_table,
        audit_table,
        limits_table,
        throttle_table,
        netconf_table,
        metrics_table,
        telemetry_table,
        persistence_table,
    )
    for table in tables:
        table.refuse_unknown()
    return settings


def _netconf_settings(table: _Table) -> NetconfSettings:
    defaults = NetconfSettings()
    listen_text = table.get("listen", str, None)
    return NetconfSettings(
        enabled=table.get("enabled", bool, True),
        listen=ListenAddress.parse(listen_text) if listen_text is not None else defaults.listen,
        max_message_bytes=table.positive_int("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES),
        idle_timeout_s=table.positive("idle_timeout_s", defaults.idle_timeout_s),
        login_timeout_s=table.positive("login_timeout_s", defaults.login_timeout_s),
        max_sessions=table.positive_int("max_sessions", defaults.max_sessions),
        max_sessions_per_user=table.positive_int(
            "max_sessions_per_user", defaults.max_sessions_per_user
        ),
    )


def _telemetry_limits(table: _Table) -> TelemetryLimits:
    defaults = TelemetryLimits()
    bundling = table.get("bundling", str, defaults.bundling.value)
    names = [b.value for b in Bundling]
    if bundling not in names:
        raise ConfigError(f"telemetry.bundling {bundling!r}: use one of {', '.join(names)}")
    return TelemetryLimits(
        bundling=Bundling(bundling),
        max_updates_per_notification=table.positive_int(
            "max_updates_per_notification", defaults.max_updates_per_notification
        ),
    )


def _persistence_settings(table: _Table) -> PersistenceSettings:
    defaults = PersistenceSettings()
    mode = table.get("mode", str, defaults.mode)
    if mode not in PERSIST_MODES:
        raise ConfigError(f"persistence.mode {mode!r}: use one of {', '.join(PERSIST_MODES)}")
    return PersistenceSettings(
        mode=mode,
        checkpoint_records=table.positive_int("checkpoint_records", defaults.checkpoint_records),
        checkpoint_bytes=table.positive_int("checkpoint_bytes", defaults.checkpoint_bytes),
        keep_checkpoints=table.positive_int("keep_checkpoints", defaults.keep_checkpoints),
    )


def parse_user_tenant(text: str) -> tuple[str, str]:
    """``USER:TENANT`` as (user, tenant); raises ConfigError when malformed."""
    user, sep, tenant = text.partition(":")
    if not sep or not user or not tenant:
        raise ConfigError(f"{text!r}: use USER:TENANT, e.g. tenant-a:operator-a")
    return user, tenant


def _optional_listen(table: _Table, key: str) -> ListenAddress | None:
    text = table.get(key, str, "")
    return ListenAddress.parse(text) if text else None


def log_format(value: str) -> str:
    """``value`` if it names a log format (text, json); raises ConfigError otherwise."""
    if value not in LOG_FORMATS:
        raise ConfigError(f"log_format {value!r}: use one of {', '.join(LOG_FORMATS)}")
    return value


def _log_level(value: str) -> str:
    level = value.lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"log_level {value!r}: use one of {', '.join(LOG_LEVELS)}")
    return level


class _Table:
    """One TOML table, remembering which keys were read."""

    def __init__(self, data: Mapping[str, Any], name: str, base_dir: Path) -> None:
        self._data = data
        self._name = name
        self._base = base_dir
        self._read: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self._name}.{key}" if self._name else key

    def table(self, key: str) -> _Table:
        self._read.add(key)
        value = self._data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self._key(key)} must be a table ([{key}])")
        return _Table(value, self._key(key), self._base)

    def get(self, key: str, kind: type[_T], default: _T) -> _T:
        self._read.add(key)
        if key not in self._data:
            return default
        value = self._data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{self._key(key)} must be {_KIND_NAMES[kind]}, not {value!r}")
        return value

    def _number(self, key: str, default: float, ok: Callable[[float], bool], what: str) -> float:
        value = self.get(key, float, default)
        if not ok(value):
            raise ConfigError(f"{self._key(key)} must be {what}, not {value!r}")
        return value

    def positive(self, key: str, default: float) -> float:
        return self._number(key, default, lambda v: v > 0, "above 0")

    def non_negative(self, key: str, default: float) -> float:
        return self._number(key, default, lambda v: v >= 0, "0 or more")

    def positive_int(self, key: str, default: int) -> int:
        value = self.get(key, int, default)
        if value <= 0:
            raise ConfigError(f"{self._key(key)} must be above 0, not {value!r}")
        return value

    def path(self, key: str) -> Path | None:
        text = self.get(key, str, "")
        if not text:
            return None
        path = Path(text).expanduser()
        return path if path.is_absolute() else self._base / path

    def strings(self, key: str) -> tuple[str, ...]:
        self._read.add(key)
        value = self._data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self._key(key)} must be a list of strings")
        return tuple(value)

    def refuse_unknown(self) -> None:
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            raise ConfigError(f"unknown setting {self._key(unknown[0])!r}")
