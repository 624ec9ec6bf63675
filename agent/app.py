"""The composition root: the one place where concrete classes are wired together.

``build_agent(settings)`` constructs the schema engine, the driver registry and device
pool, persistence, the datastore, the state reader, users, the audit log, TLS material,
the gNMI server, the NETCONF server and, when asked for, the Prometheus metrics;
``Agent.start``/``Agent.stop`` run them and ``Agent.reload`` reloads what SIGHUP does. Tests
build the agent the same way (with a fake clock or cheap password hashing where they
need them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from agent.clock import Clock, SystemClock
from agent.config import Settings
from agent.datastore.datastore import Datastore, Running
from agent.datastore.hardware import DevicePool
from agent.datastore.persistence import CheckpointPolicy, ConfigStore, PersistMode
from agent.drivers.intent import DeviceIntent
from agent.drivers.interface import Driver
from agent.drivers.registry import DriverRegistry
from agent.durable_files import atomic_write, ensure_dir
from agent.gnmi.schema_info import CachedSchema
from agent.mapping.state_tree import StateReader
from agent.memory import MemoryReclaimer
from agent.metrics.collectors import (
    DatastoreCollector,
    EntityCounterCollector,
    TelemetryCollector,
)
from agent.metrics.listener import MetricsListener
from agent.metrics.registry import AgentMetrics
from agent.metrics.sink import MetricsSink, NoMetrics
from agent.northbound.capabilities import capability_response
from agent.northbound.decoding import DecodingInterceptor
from agent.northbound.get import GetHandler
from agent.northbound.netconf.candidate import CandidateReads
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import HandlerTable, NetconfEnv
from agent.northbound.netconf.dispatch import Dispatcher
from agent.northbound.netconf.errors import renderer
from agent.northbound.netconf.monitoring import (
    monitoring_capabilities,
    monitoring_table,
    state_elements,
)
from agent.northbound.netconf.notifications import NotificationService
from agent.northbound.netconf.reads import CANDIDATE_KEY, READ_CAPABILITIES, read_table
from agent.northbound.netconf.registry import SessionLimits, SessionRegistry
from agent.northbound.netconf.server import NetconfOptions, NetconfServer
from agent.northbound.netconf.session_ops import session_operations
from agent.northbound.netconf.sshkeys import authorized_key_files, ensure_host_key
from agent.northbound.netconf.writes import WRITE_CAPABILITIES, write_table
from agent.northbound.rpc_metrics import MeteredNetconf, RpcMetricsInterceptor
from agent.northbound.server import EXEMPT_METHODS, GnmiServer, TransportOptions
from agent.northbound.servicer import GnmiServicer
from agent.northbound.set import SetHandler
from agent.northbound.subscribe import SubscribeHandler
from agent.northbound.view import DataView
from agent.reload import Reloader, ReloadReport
from agent.schema.engine import SchemaEngine
from agent.security.audit import AuditLog
from agent.security.grpc_auth import AuthInterceptor
from agent.security.passwords import DEFAULT_SCRYPT, ScryptParams, generate_password
from agent.security.sessions import SessionGuard
from agent.security.state_files import check_state_files
from agent.security.throttle import LoginThrottle, ThrottlePolicy
from agent.security.tls import TlsMaterial
from agent.security.tls_reload import ReloadableTls
from agent.security.users import Role, UserStore
from agent.service.admission import AdmissionLimits
from agent.service.core import CoreLimits, ServiceCore
from agent.service.policy_file import PolicyStore
from agent.service.policy_schema import schema_path_check
from agent.service.usage import LiveUsage
from agent.simulation import offer_demo_traffic
from agent.site_file import default_site_path, read_config_file
from agent.telemetry.service import TelemetryService
from agent.telemetry.timer import LoopTimer, Timer

log = logging.getLogger(__name__)

BOOTSTRAP_PASSWORD_ENV = "EDGE_AGENT_ADMIN_PASSWORD"
"""If set when the bootstrap admin is created, its password; otherwise one is generated."""
BOOTSTRAP_PASSWORD_FILE = "bootstrap-admin.password"
"""Where a generated bootstrap password is written (mode 0600) in the state directory."""


class LiveDrivers(Mapping[str, Driver]):
    """The device pool's open drivers, always current (devices come and go with commits)."""

    def __init__(self, pool: DevicePool) -> None:
        self._pool = pool

    def __getitem__(self, name: str) -> Driver:
        return self._pool.drivers[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._pool.drivers.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._pool.drivers)

    def __len__(self) -> int:
        return len(self._pool.drivers)


@dataclass(frozen=True)
class Bootstrap:
    """What the bootstrap-admin step found or did."""

    name: str
    created: bool
    password_file: Path | None  # holds the generated password (if still valid)
    password_from_env: bool
    tenant: str | None = None


class Agent:
    """A running (or ready to run) edge agent."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        schema: SchemaEngine,
        datastore: Datastore,
        store: ConfigStore,
        users: UserStore,
        audit: AuditLog,
        tls: TlsMaterial | None,
        server: GnmiServer,
        set_handler: SetHandler,
        telemetry: TelemetryService,
        core: ServiceCore,
        netconf: NetconfServer | None = None,
        reloader: Reloader | None = None,
        metrics: MetricsListener | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.schema = schema
        self.datastore = datastore
        self.store = store
        self.users = users
        self.audit = audit
        self.tls = tls
        self.server = server
        self.set_handler = set_handler
        self.telemetry = telemetry
        self.core = core
        self.netconf = netconf
        self.admission = core.admission
        self.bootstrap: Bootstrap | None = None
        self.reloader = reloader
        self.metrics = metrics  # the /metrics listener, None when metrics are off
        self._reloading = asyncio.Lock()

    @property
    def port(self) -> int:
        """The bound gNMI port (after start)."""
        return self.server.port

    @property
    def address(self) -> str:
        """``host:port`` clients connect to (after start)."""
        return str(self.settings.listen.with_port(self.port))

    def load_initial(self) -> dict[str, Any]:
        """The site configuration used when the state directory holds none yet."""
        if self.store.current_path.exists():
            return {}
        return read_config_file(self.settings.site or default_site_path())

    def bootstrap_admin(self, env: Mapping[str, str] | None = None) -> Bootstrap | None:
        """Creates the configured bootstrap admin when there are no users at all."""
        name = self.settings.users.bootstrap_admin
        if name is None:
            return None
        self.bootstrap = bootstrap_admin(
            self.users, name, self.settings.state_dir, os.environ if env is None else env
        )
        return self.bootstrap

    def bootstrap_tenants(self) -> list[Bootstrap]:
        """Creates each configured bootstrap tenant user that does not exist yet."""
        return [
            bootstrap_tenant(self.users, name, tenant, self.settings.state_dir)
            for name, tenant in self.settings.users.bootstrap_tenants
        ]

    async def start(self) -> Running:
        """Loads the configuration, programs the devices and starts serving."""
        initial = self.load_initial()
        running = await asyncio.to_thread(self.datastore.start, initial)
        if self.settings.simulate_traffic:
            self._offer_traffic(running.intents)
            self.datastore.subscribe(lambda _event: self._offer_traffic(None))
        await self.telemetry.start()
        try:
            await self.server.start()
        except BaseException:
            await asyncio.to_thread(self.datastore.stop)
            raise
        if self.netconf is not None:
            try:
                await self.netconf.start()
            except BaseException:
                await self.server.stop(0)
                await self.telemetry.stop()
                await asyncio.to_thread(self.datastore.stop)
                raise
        self.core.start()
        if self.metrics is not None:
            try:
                await asyncio.to_thread(self.metrics.start)
            except BaseException:
                await self.stop()
                raise
        return running

    async def reload(self) -> ReloadReport | None:
        """Reloads the TLS files, the user database and the policy file (SIGHUP), one
        reload at a time; nothing that runs is interrupted."""
        if self.reloader is None:
            return None
        async with self._reloading:
            return await asyncio.to_thread(self.reloader.reload)

    def _offer_traffic(self, intents: Mapping[str, DeviceIntent] | None) -> None:
        current = intents if intents is not None else self.datastore.running.intents
        offer_demo_traffic(self.datastore.devices.drivers, current)

    async def stop(self) -> None:
        """Stops serving (in-flight RPCs get the grace period) and closes the drivers."""
        if self.metrics is not None:
            await asyncio.to_thread(self.metrics.stop)
        if self.netconf is not None:
            await self.netconf.stop()  # open sessions end, their locks are released
        await self.telemetry.stop()  # open Subscribe streams end at once with UNAVAILABLE
        await self.server.stop(self.settings.grpc.shutdown_grace_s)
        await self.core.stop()
        await asyncio.to_thread(self.datastore.stop)
        self.audit.close()


def build_agent(
    settings: Settings,
    *,
    clock: Clock | None = None,
    timer: Timer | None = None,
    telemetry_timer: Timer | None = None,
    scrypt: ScryptParams = DEFAULT_SCRYPT,
    registry: DriverRegistry | None = None,
    schema: SchemaEngine | None = None,
) -> Agent:
    """Wires every component for ``settings``; nothing runs until ``Agent.start``.

    ``clock`` and ``timer`` drive every wait (tests pass a FakeClock and a ManualTimer);
    ``telemetry_timer`` drives the telemetry sampler alone (default: ``timer``), so that a
    benchmark can step sampling by hand while the rest waits as usual. The limits come
    from ``settings``. ``schema`` may be shared between agents in one
    process (it is read-only).
    """
    clock = clock or SystemClock()
    timer = timer or LoopTimer(clock)
    state_dir = settings.state_dir
    ensure_dir(state_dir)
    client_ca = (settings.tls.client_ca,) if settings.tls.client_ca else ()
    ssh_keys = authorized_key_files(state_dir) if settings.netconf.enabled else []
    check_state_files(state_dir, users_file=settings.users_file, others=[*client_ca, *ssh_keys])
    users = UserStore(settings.users_file, scrypt=scrypt, recheck_s=0.5)
    users.refresh()  # a damaged users file stops the start here, before anything runs
    schema = schema or SchemaEngine()
    drivers = registry or DriverRegistry.discover()
    for problem in drivers.load_errors:
        log.warning("%s", problem)
    metrics: MetricsSink = AgentMetrics() if settings.metrics.listen is not None else NoMetrics()
    pool = DevicePool(lambda config: drivers.create(config, clock), metrics=metrics)
    persistence = settings.persistence
    store = ConfigStore(
        state_dir,
        clock=clock,
        mode=PersistMode(persistence.mode),
        policy=CheckpointPolicy(persistence.checkpoint_records, persistence.checkpoint_bytes),
        keep=persistence.keep_checkpoints,
    )
    datastore = Datastore(schema, pool, store, clock)
    datastore.metrics = metrics
    live = LiveDrivers(pool)
    usage = LiveUsage()
    state = StateReader(live, usage=usage)
    telemetry = TelemetryService(
        datastore,
        live,
        schema.nav,
        clock,
        reader=state,
        timer=telemetry_timer or timer,
        limits=settings.telemetry,
    )
    audit = AuditLog.in_state_dir(
        state_dir, max_bytes=settings.audit.max_bytes, keep=settings.audit.keep, clock=clock
    )
    tls, credentials = _transport_security(settings)
    codec_schema = CachedSchema(schema)
    throttle = _login_throttle(settings, clock)
    interceptor = AuthInterceptor(
        users, audit=audit, exempt_methods=EXEMPT_METHODS, throttle=throttle, metrics=metrics
    )
    limits = settings.limits
    policies = PolicyStore.in_state_dir(
        state_dir,
        check_path=schema_path_check(schema.nav),
        recheck_s=None,  # SIGHUP reloads
    )
    core = ServiceCore(
        datastore,
        audit,
        clock,
        timer,
        policies,
        CoreLimits(
            admission=AdmissionLimits(
                workers=limits.request_workers,
                per_user=limits.workers_per_user,
                queue_per_user=limits.queued_per_user,
            ),
            request_budget_s=limits.request_budget_s,
            rollback_retry_s=settings.commit_check_interval_s,
        ),
    )
    usage.attach(telemetry.share_used, core.rates.rate)
    set_handler = SetHandler(core.writes, codec_schema, clock)
    servicer = GnmiServicer(
        capabilities=capability_response(schema.modules),
        get=GetHandler(
            datastore, DataView(datastore.ops), codec_schema, state, clock, schema.modules
        ),
        set_=set_handler,
        current_user=interceptor.current_user,
        audit=audit,
        subscribe=SubscribeHandler(
            telemetry,
            clock,
            modules=schema.modules,
            sessions=SessionGuard(users, clock, audit=audit),
            scopes=core.streams,
        ),
        access=core.access,
        admission=core.admission,
        request_budget_s=limits.request_budget_s,
    )
    grpc_settings = settings.grpc
    interceptors = [DecodingInterceptor(clock, reclaimer=MemoryReclaimer(clock)), interceptor]
    if isinstance(metrics, AgentMetrics):
        interceptors.insert(1, RpcMetricsInterceptor(metrics, clock))
    server = GnmiServer(
        servicer,
        interceptors,
        listen=str(settings.listen),
        credentials=credentials,
        options=TransportOptions(
            max_message_bytes=grpc_settings.max_message_bytes,
            keepalive_time_ms=int(grpc_settings.keepalive_time_s * 1000),
            keepalive_timeout_ms=int(grpc_settings.keepalive_timeout_s * 1000),
            min_client_ping_interval_ms=int(grpc_settings.min_client_ping_interval_s * 1000),
        ),
    )
    netconf = _netconf_server(
        settings,
        users=users,
        throttle=throttle,
        audit=audit,
        core=core,
        schema=schema,
        clock=clock,
        state=state,
        metrics=metrics,
    )
    return Agent(
        settings,
        clock=clock,
        schema=schema,
        datastore=datastore,
        store=store,
        users=users,
        audit=audit,
        tls=tls.material if tls is not None else None,
        server=server,
        set_handler=set_handler,
        telemetry=telemetry,
        core=core,
        netconf=netconf,
        reloader=Reloader(tls=tls, users=users, policy=policies),
        metrics=_metrics_listener(settings, metrics, datastore, pool, telemetry, state),
    )


def _metrics_listener(
    settings: Settings,
    metrics: MetricsSink,
    datastore: Datastore,
    pool: DevicePool,
    telemetry: TelemetryService,
    state: StateReader,
) -> MetricsListener | None:
    """The /metrics listener with every collector (None when metrics are off)."""
    listen = settings.metrics.listen
    if listen is None or not isinstance(metrics, AgentMetrics):
        return None
    metrics.register(DatastoreCollector(datastore, pool))
    metrics.register(TelemetryCollector(telemetry))
    if settings.metrics.counters:
        metrics.register(EntityCounterCollector(lambda: datastore.running.tree, state.sample))
    return MetricsListener(listen, metrics.registry)


def _netconf_server(
    settings: Settings,
    *,
    users: UserStore,
    throttle: LoginThrottle | None,
    audit: AuditLog,
    core: ServiceCore,
    schema: SchemaEngine,
    clock: Clock,
    state: StateReader,
    metrics: MetricsSink,
) -> NetconfServer | None:
    """The NETCONF server (None when switched off), sharing the users, the login
    throttle, the audit log, the service core and the metrics with gNMI."""
    chosen = settings.netconf
    if not chosen.enabled:
        return None
    registry = SessionRegistry(
        clock,
        SessionLimits(max_sessions=chosen.max_sessions, per_user=chosen.max_sessions_per_user),
    )
    announced: list[str] = []  # the hello's capabilities, for /netconf-state
    env = NetconfEnv(
        core,
        schema,
        state,
        registry,
        tuple(schema.modules),
        clock,
        extras={
            CANDIDATE_KEY: CandidateReads(core.candidate),
            "capabilities": lambda: tuple(announced),
        },
    )
    codec = XmlCodec(schema)
    notifications = NotificationService(env, codec=codec)
    # Each operation table joins here with the capabilities it adds to the hello.
    tables: list[HandlerTable] = [
        session_operations(registry),
        read_table(env, codec=codec, state_data=state_elements),
        monitoring_table(env),
        write_table(env, codec=codec),
        notifications.table,
    ]
    capabilities: list[str] = [
        *READ_CAPABILITIES,
        *WRITE_CAPABILITIES,
        *monitoring_capabilities(schema.modules),
        *notifications.capabilities,
    ]
    dispatcher = Dispatcher(tables)
    server = NetconfServer(
        MeteredNetconf(dispatcher, metrics, clock)
        if isinstance(metrics, AgentMetrics)
        else dispatcher,
        users=users,
        registry=registry,
        host_key=ensure_host_key(settings.state_dir),
        state_dir=settings.state_dir,
        options=NetconfOptions(
            host=chosen.listen.host,
            port=chosen.listen.port,
            max_message_bytes=chosen.max_message_bytes,
            idle_timeout_s=chosen.idle_timeout_s,
            login_timeout_s=chosen.login_timeout_s,
            max_sessions=chosen.max_sessions,
        ),
        capabilities=capabilities,
        modules=schema.modules,
        throttle=throttle,
        audit=audit,
        release_locks=core.writes.locks.release_all,
        render_error=renderer(codec.names),
        metrics=metrics,
    )
    announced.extend(server.capabilities)
    return server


def _login_throttle(settings: Settings, clock: Clock) -> LoginThrottle | None:
    """The password-login throttle shared by every northbound (None: switched off)."""
    chosen = settings.login_throttle
    if not chosen.enabled:
        return None
    policy = ThrottlePolicy(
        peer_failures=chosen.peer_failures,
        user_failures=chosen.user_failures,
        window_s=chosen.window_s,
        lockout_s=chosen.lockout_s,
        max_lockout_s=max(chosen.max_lockout_s, chosen.lockout_s),
        reset_s=chosen.reset_s,
    )
    return LoginThrottle(policy, clock=clock)


def _transport_security(
    settings: Settings,
) -> tuple[ReloadableTls | None, grpc.ServerCredentials | None]:
    """The TLS material SIGHUP reloads and the server credentials serving it (None, None
    when insecure)."""
    if settings.tls.insecure:
        return None, None
    tls = ReloadableTls(
        settings.state_dir, extra_names=settings.tls.extra_names, client_ca=settings.tls.client_ca
    )
    return tls, tls.credentials


def bootstrap_admin(
    users: UserStore, name: str, state_dir: Path, env: Mapping[str, str]
) -> Bootstrap:
    """Creates ``name`` as an admin if the user database is empty.

    The password comes from the environment variable EDGE_AGENT_ADMIN_PASSWORD, or is
    generated and written once to STATE_DIR/bootstrap-admin.password (mode 0600). When
    users exist nothing changes; the file is reported only while its password is still
    the user's.
    """
    password_file = state_dir / BOOTSTRAP_PASSWORD_FILE
    if users.users():
        usable = None
        if users.get(name) is not None and password_file.exists():
            with contextlib.suppress(Exception):
                users.authenticate(name, password_file.read_text(encoding="utf-8").strip())
                usable = password_file
        return Bootstrap(name, created=False, password_file=usable, password_from_env=False)
    from_env = env.get(BOOTSTRAP_PASSWORD_ENV, "")
    password = from_env or generate_password()
    if from_env:
        password_file.unlink(missing_ok=True)  # left from an earlier user database
    else:
        ensure_dir(state_dir)
        atomic_write(password_file, (password + "\n").encode("utf-8"), mode=0o600)
    users.add(name, Role.ADMIN, password)
    log.warning("created the bootstrap admin %r", name)
    return Bootstrap(
        name,
        created=True,
        password_file=None if from_env else password_file,
        password_from_env=bool(from_env),
    )


def bootstrap_tenant(users: UserStore, name: str, tenant: str, state_dir: Path) -> Bootstrap:
    """Creates tenant user ``name`` bound to ``tenant`` unless it exists; its generated
    password is written once to STATE_DIR/bootstrap-NAME.password (mode 0600)."""
    password_file = state_dir / f"bootstrap-{name}.password"
    if users.get(name) is not None:
        usable = None
        if password_file.exists():
            with contextlib.suppress(Exception):
                users.authenticate(name, password_file.read_text(encoding="utf-8").strip())
                usable = password_file
        return Bootstrap(name, False, usable, False, tenant)
    password = generate_password()
    ensure_dir(state_dir)
    atomic_write(password_file, (password + "\n").encode("utf-8"), mode=0o600)
    users.add(name, Role.TENANT, password, tenant)
    log.warning("created the bootstrap tenant user %r (tenant %r)", name, tenant)
    return Bootstrap(name, True, password_file, False, tenant)
