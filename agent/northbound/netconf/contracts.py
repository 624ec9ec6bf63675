"""What the parts of the NETCONF northbound agree on.

- :mod:`.transport` (asyncssh server, framing, hello, sessions) reads ``<rpc>`` elements
  from a client and hands each to an :data:`RpcHandler` with an :class:`RpcContext`.
- :mod:`.operations` (the protocol operations) is that handler; it answers with the
  children of ``<rpc-reply>`` (or ``<ok/>``) or raises :class:`RpcError`.
- :mod:`.codec` turns XML into RFC 7951 trees and back, driven by the schema;
  :mod:`.filters` applies subtree and XPath filters; :mod:`.notifications` and
  :mod:`.monitoring` serve RFC 5277/6470 notifications and RFC 6022/8525 data.

Everything below the transport uses lxml elements; nothing here touches a concrete
driver, and writes go through the service core (agent.service) like gNMI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lxml import etree

NS_BASE: Final = "urn:ietf:params:xml:ns:netconf:base:1.0"
NS_NOTIFICATION: Final = "urn:ietf:params:xml:ns:netconf:notification:1.0"
NS_MONITORING: Final = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
NS_YANG_LIBRARY: Final = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
NS_WITH_DEFAULTS: Final = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"
NS_NOTIFICATIONS_6470: Final = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"

BASE_1_0: Final = "urn:ietf:params:netconf:base:1.0"
BASE_1_1: Final = "urn:ietf:params:netconf:base:1.1"

Element = Any  # an lxml.etree._Element


@dataclass
class RpcError(Exception):
    """One ``<rpc-error>`` (RFC 6241 section 4.3 and appendix A)."""

    tag: str  # error-tag, e.g. "invalid-value", "lock-denied", "access-denied"
    message: str  # error-message: names the node and the rule
    error_type: str = "application"  # transport, rpc, protocol, application
    severity: str = "error"
    path: str | None = None  # error-path: an XPath with prefixes
    info: Mapping[str, str] = field(default_factory=dict)  # error-info children
    app_tag: str | None = None  # error-app-tag, e.g. "must-violation" (RFC 7950 section 15)

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}"


@dataclass(slots=True)
class RpcContext:
    """The session an RPC arrives on."""

    session_id: int
    user: Any  # agent.security.users.User
    peer: str
    capabilities: frozenset[str]  # what the client announced in its hello
    close: Callable[[], None] = lambda: None  # ends this session after the reply
    kill: Callable[[int], Awaitable[None]] | None = None  # ends another session
    send: Callable[[Element], Awaitable[None]] | None = None  # a <notification> to the client
    extra: dict[str, Any] = field(default_factory=dict)  # per-session state of the operations


@dataclass(frozen=True, slots=True)
class EncodedData:
    """A ``<data>`` reply body whose content is XML text already (the elements of the
    data, each declaring its namespace), spliced into the reply as it is."""

    text: str

    def element(self) -> Element:
        """The ``<data>`` element (parsed: for callers that need elements)."""
        parsed: Element = etree.fromstring(f'<data xmlns="{NS_BASE}">{self.text}</data>')
        return parsed


ReplyBody = Element | list[Element] | EncodedData | None
"""What an operation answers: the children of ``<rpc-reply>``, encoded data, or None
(``<ok/>``)."""

RpcHandler = Callable[[RpcContext, Element], Awaitable[ReplyBody]]
"""Answers one ``<rpc>`` element: the children of the ``<rpc-reply>`` (None: ``<ok/>``);
raises RpcError (or a list of them via RpcErrors)."""


@dataclass
class RpcErrors(Exception):
    """Several errors in one reply (error-option continue-on-error)."""

    errors: tuple[RpcError, ...]


def qname(namespace: str, name: str) -> str:
    """``{namespace}name``, lxml's notation."""
    return f"{{{namespace}}}{name}"


def element(namespace: str, name: str, text: str | None = None, **attrib: str) -> Element:
    """A new element in ``namespace``."""
    made = etree.Element(qname(namespace, name), attrib)
    if text is not None:
        made.text = text
    return made


@dataclass(frozen=True, slots=True)
class NetconfEnv:
    """What the NETCONF operations work with (built in agent.app).

    - ``core``: agent.service.core.ServiceCore (writes, access of principals, locks,
      audit, commit-confirmed);
    - ``engine``: agent.schema.engine.SchemaEngine (the model, for the codec);
    - ``state``: reads driver state like gNMI Get does (agent.mapping.state_tree
      StateReader: ``read(running_tree, selection)``);
    - ``sessions``: the transport's registry of open sessions (for kill-session and
      ietf-netconf-monitoring);
    - ``modules``: our YANG modules (name, revision, namespace, file) for hello,
      get-schema and yang-library;
    - ``clock``: agent.clock.Clock.
    """

    core: Any
    engine: Any
    state: Any
    sessions: Any
    modules: tuple[Any, ...]
    clock: Any
    extras: Mapping[str, Any] = field(default_factory=dict)


HandlerTable = Mapping[str, RpcHandler]
"""Operation handlers by the qualified name of the element under ``<rpc>``
(``{urn:ietf:params:xml:ns:netconf:base:1.0}get-config``)."""
