"""ietf-netconf-monitoring (RFC 6022): ``<get-schema>`` and the ``/netconf-state`` data.

``/netconf-state`` lists the server's capabilities, the datastores (running and
candidate, each with its global lock when one is held), the schemas get-schema serves
(our modules, format yang, location NETCONF), the open NETCONF sessions with their
counters and the server's statistics. A tenant sees only its own sessions.

:func:`state_elements` is what ``<get>`` adds to its data: ``/netconf-state``,
``/yang-library`` (RFC 8525) and ``/netconf/streams`` (RFC 5277).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lxml import etree

from agent.northbound.netconf.contracts import (
    NS_MONITORING,
    Element,
    HandlerTable,
    NetconfEnv,
    RpcContext,
    RpcError,
    qname,
)
from agent.northbound.netconf.notifications import streams_data
from agent.northbound.netconf.registry import SessionRegistry, date_and_time
from agent.northbound.netconf.yang_library import (
    DATASTORES,
    module_source,
    yang_library_capability,
    yang_library_data,
)
from agent.schema.library import ModuleInfo

MONITORING_REVISION: Final = "2010-10-04"
MONITORING_CAPABILITY: Final = (
    f"{NS_MONITORING}?module=ietf-netconf-monitoring&revision={MONITORING_REVISION}"
)
FORMATS: Final = frozenset({"yang", "yin", "xsd", "rng", "rnc"})
"""The schema formats ietf-netconf-monitoring names; get-schema serves yang."""
CAPABILITIES_KEY: Final = "capabilities"
"""The key in NetconfEnv.extras of the server's hello capabilities: the URIs, or a
function returning them (when the env is built before the hello is)."""


def monitoring_capabilities(modules: Iterable[ModuleInfo]) -> tuple[str, ...]:
    """What the hello advertises for this module: the ietf-netconf-monitoring module and
    the YANG library (RFC 7950 section 5.6.4)."""
    return (MONITORING_CAPABILITY, yang_library_capability(modules))


# --- get-schema --------------------------------------------------------------------------


def monitoring_table(env: NetconfEnv) -> HandlerTable:
    """The ``<get-schema>`` operation over ``env.modules``."""

    async def get_schema(context: RpcContext, rpc: Element) -> Element:
        return schema_reply(env.modules, rpc.find(qname(NS_MONITORING, "get-schema")))

    return {qname(NS_MONITORING, "get-schema"): get_schema}


def schema_reply(modules: Iterable[ModuleInfo], request: Element) -> Element:
    """The ``<data>`` answer to a ``<get-schema>`` element; raises RpcError."""
    params = {etree.QName(c).localname: c for c in request if isinstance(c.tag, str)}
    identifier = _text(params.get("identifier"))
    if identifier is None:
        raise RpcError(
            "missing-element",
            "get-schema needs an identifier",
            "protocol",
            info={"bad-element": "identifier"},
        )
    chosen = _format(params.get("format"))
    if chosen not in FORMATS:
        raise RpcError(
            "invalid-value", f"unknown schema format {chosen!r}", info={"bad-element": "format"}
        )
    if chosen != "yang":
        raise RpcError(
            "operation-not-supported",
            f"schemas are served in the yang format only, not {chosen!r}",
            info={"bad-element": "format"},
        )
    version = _text(params.get("version"))
    matches = [m for m in modules if m.name == identifier]
    if not matches:
        raise RpcError(
            "invalid-value", f"no schema {identifier!r}", info={"bad-element": "identifier"}
        )
    if version is not None:
        matches = [m for m in matches if m.revision == version]
        if not matches:
            raise RpcError(
                "invalid-value",
                f"schema {identifier!r} has no version {version!r}",
                info={"bad-element": "version"},
            )
    if len(matches) > 1:
        raise RpcError(
            "operation-failed",
            f"schema {identifier!r} has several versions: name one",
            app_tag="data-not-unique",
        )
    data = etree.Element(qname(NS_MONITORING, "data"), nsmap={None: NS_MONITORING})
    data.text = module_source(matches[0])
    return data


def _text(given: Element | None) -> str | None:
    if given is None:
        return None
    text = (given.text or "").strip()
    return text or None


def _format(given: Element | None) -> str:
    """The format identity's name (``yang``, ``ncm:yang``); the prefix must stand for
    ietf-netconf-monitoring when it is given."""
    text = _text(given)
    if text is None:
        return "yang"
    prefix, _, name = text.rpartition(":")
    if prefix and given is not None and given.nsmap.get(prefix) != NS_MONITORING:
        return text
    return name


# --- /netconf-state ----------------------------------------------------------------------


def monitoring_data(env: NetconfEnv, context: RpcContext) -> Element:
    """The ``<netconf-state>`` element as ``context``'s user may see it."""
    ns = NS_MONITORING
    root = etree.Element(qname(ns, "netconf-state"), nsmap={None: ns})
    capabilities = _sub(root, "capabilities")
    for uri in _server_capabilities(env):
        _sub(capabilities, "capability", uri)
    _datastores(_sub(root, "datastores"), env)
    schemas = _sub(root, "schemas")
    for module in sorted(env.modules, key=lambda m: m.name):
        schema = _sub(schemas, "schema")
        _sub(schema, "identifier", module.name)
        _sub(schema, "version", module.revision)
        _sub(schema, "format", "yang")
        _sub(schema, "namespace", module.namespace)
        _sub(schema, "location", "NETCONF")
    _sessions(_sub(root, "sessions"), env.sessions, context)
    _statistics(_sub(root, "statistics"), env.sessions)
    return root


def state_elements(env: NetconfEnv, context: RpcContext) -> list[Element]:
    """What ``<get>`` adds to the data of our modules: ``/netconf-state``,
    ``/yang-library`` and ``/netconf/streams``."""
    return [monitoring_data(env, context), yang_library_data(env.modules), streams_data()]


def _server_capabilities(env: NetconfEnv) -> tuple[str, ...]:
    given = env.extras.get(CAPABILITIES_KEY, ())
    return tuple(given() if callable(given) else given)


def _datastores(parent: Element, env: NetconfEnv) -> None:
    locks = env.core.writes.locks
    for name in DATASTORES:
        datastore = _sub(parent, "datastore")
        _sub(datastore, "name", name)
        holder = locks.holder(name)
        if holder is None:
            continue
        lock = _sub(_sub(datastore, "locks"), "global-lock")
        _sub(lock, "locked-by-session", str(_netconf_session(holder.session)))
        locked_at = getattr(holder, "locked_at_ns", None)
        if locked_at is not None:
            _sub(lock, "locked-time", date_and_time(locked_at))


def _netconf_session(session: str) -> int:
    """The NETCONF session id of a lock holder (``netconf:7``); 0 for a holder that is
    not a NETCONF session."""
    number = session.removeprefix("netconf:")
    return int(number) if number.isdigit() else 0


def _sessions(parent: Element, registry: SessionRegistry | None, context: RpcContext) -> None:
    if registry is None:
        return
    tenant = getattr(context.user, "tenant", None)
    for session in registry.monitoring_sessions():
        if tenant is not None and session.get("username") != context.user.name:
            continue
        entry = _sub(parent, "session")
        for name in ("session-id", "transport", "username", "source-host", "login-time"):
            if session.get(name) is not None:
                _sub(entry, name, str(session[name]))
        for name in ("in-rpcs", "in-bad-rpcs", "out-rpc-errors", "out-notifications"):
            _sub(entry, name, str(session.get(name, 0)))


def _statistics(parent: Element, registry: SessionRegistry | None) -> None:
    if registry is None:
        return
    stats = registry.monitoring_statistics()
    for name in (
        "netconf-start-time",
        "in-bad-hellos",
        "in-sessions",
        "dropped-sessions",
        "in-rpcs",
        "in-bad-rpcs",
        "out-rpc-errors",
        "out-notifications",
    ):
        if stats.get(name) is not None:
            _sub(parent, name, str(stats[name]))


def _sub(parent: Element, name: str, text: str | None = None) -> Element:
    made = etree.SubElement(parent, qname(NS_MONITORING, name))
    if text is not None:
        made.text = text
    return made
