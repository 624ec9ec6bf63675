"""Service refusals as NETCONF errors: the one map from Kind to error-tag, and
``<rpc-error>`` rendering (RFC 6241 section 4.3 and appendix A).

=============== ===================================== ==========================
Kind            error-tag                             error-type
=============== ===================================== ==========================
INVALID         invalid-value                         application
NOT_FOUND       data-missing; invalid-value when the  application
                schema has no such node
UNSUPPORTED     operation-not-supported               application
UNAUTHENTICATED access-denied                         protocol
DENIED          access-denied                         application
LOCKED          lock-denied (error-info session-id:   protocol
                the holder, 0 when not NETCONF)
CONFLICT        in-use (callers pass operation-failed application
                where nothing is held, e.g. unlock of
                an unlocked datastore)
ABORTED         operation-failed                      application
EXHAUSTED       resource-denied                       application
DEADLINE        operation-failed                      application
CANCELLED       operation-failed                      application
UNAVAILABLE     resource-denied                       application
INTERNAL        operation-failed                      application
=============== ===================================== ==========================

``data-exists`` (create of an existing node) and ``data-missing`` for delete are the
write operations' own: they know which operation found what.

A schema refusal also carries the error-app-tag RFC 7950 section 15 gives its rule:
``data-not-unique`` (unique), ``too-many-elements`` / ``too-few-elements``
(max-elements, min-elements), ``must-violation`` (must) and ``instance-required``
(leafref). The rule is the one the refusal's message ends with (``[must]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from lxml import etree

from agent.cancellation import CancelReason, WorkCancelled
from agent.datastore.errors import DatastoreError
from agent.northbound.netconf.codec import XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, Element, RpcError, qname
from agent.northbound.netconf.xpath import ModuleNames
from agent.schema.path import DataPath
from agent.service.admission import AdmissionRefused
from agent.service.errors import Kind, ServiceError, from_datastore

MAX_MESSAGE_CHARS: Final = 4096
"""error-message text beyond this is cut (a refusal may quote a client's huge value)."""
XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"

ERROR_OF_KIND: Final[Mapping[Kind, tuple[str, str]]] = MappingProxyType(
    {
        Kind.INVALID: ("invalid-value", "application"),
        Kind.NOT_FOUND: ("data-missing", "application"),
        Kind.UNSUPPORTED: ("operation-not-supported", "application"),
        Kind.UNAUTHENTICATED: ("access-denied", "protocol"),
        Kind.DENIED: ("access-denied", "application"),
        Kind.LOCKED: ("lock-denied", "protocol"),
        Kind.CONFLICT: ("in-use", "application"),
        Kind.ABORTED: ("operation-failed", "application"),
        Kind.EXHAUSTED: ("resource-denied", "application"),
        Kind.DEADLINE: ("operation-failed", "application"),
        Kind.CANCELLED: ("operation-failed", "application"),
        Kind.UNAVAILABLE: ("resource-denied", "application"),
        Kind.INTERNAL: ("operation-failed", "application"),
    }
)
"""(error-tag, error-type) of each kind of refusal."""

_REFUSAL_RULE: Final = re.compile(r" \[(unique|must|leafref|cardinality)\](?: \(and \d+ more\))?$")
_APP_TAG_OF_RULE: Final = MappingProxyType(
    {"unique": "data-not-unique", "must": "must-violation", "leafref": "instance-required"}
)
_SCHEMA_NODE: Final = re.compile(r"\bno (?:such )?schema node\b")
_NETCONF_SESSION: Final = re.compile(r"\bNETCONF session (\d+)\b")


def rpc_error(
    err: ServiceError | DatastoreError,
    *,
    path: DataPath | None = None,
    codec: XmlCodec | None = None,
    session_id: int | None = None,
    tag: str | None = None,
    context: str | None = None,
) -> RpcError:
    """The RpcError of a refusal.

    - ``path``: the node it names; written as ``error-path`` with our prefixes when
      ``codec`` is given;
    - ``session_id``: for LOCKED, the session holding the lock (default: read from the
      message's "NETCONF session N", else 0: a non-NETCONF holder, as RFC 6241 says);
    - ``tag``: the error-tag, where the caller knows better than the kind (e.g.
      ``operation-failed`` for a CONFLICT in which nothing is held);
    - ``context``: put in front of the message (e.g. the operation).
    """
    service = from_datastore(err) if isinstance(err, DatastoreError) else err
    default_tag, error_type = ERROR_OF_KIND[service.kind]
    if tag is None:
        tag = default_tag
        if service.kind is Kind.NOT_FOUND and _SCHEMA_NODE.search(service.message):
            tag = "invalid-value"
    message = f"{context}: {service.message}" if context else service.message
    info: dict[str, str] = {}
    if service.kind is Kind.LOCKED:
        if session_id is None:
            found = _NETCONF_SESSION.search(service.message)
            session_id = int(found.group(1)) if found else 0
        info["session-id"] = str(session_id)
    xpath = codec.xpath(path) if path is not None and codec is not None else None
    app_tag = app_tag_of(service.message) if service.kind is Kind.INVALID else None
    return RpcError(tag, message, error_type, path=xpath, info=info, app_tag=app_tag)


def app_tag_of(message: str) -> str | None:
    """The error-app-tag of the first schema refusal in ``message`` (None when its rule
    has none)."""
    found = _REFUSAL_RULE.search(message)
    if found is None:
        return None
    rule = found.group(1)
    if rule == "cardinality":
        return "too-many-elements" if "too many" in message else "too-few-elements"
    return _APP_TAG_OF_RULE[rule]


def work_error(err: AdmissionRefused | WorkCancelled, operation: str) -> RpcError:
    """The RpcError of request work that could not run or was stopped."""
    if isinstance(err, AdmissionRefused):
        return RpcError("resource-denied", f"{operation}: {err}")
    if err.reason is CancelReason.BUDGET:
        return RpcError(
            "resource-denied",
            f"{operation} needed more than the per-request budget of {err.budget_s:g} s of "
            "worker time; ask for less data (a narrower filter)",
        )
    return RpcError("operation-failed", f"{operation} stopped: {err.reason.value}")


def render(error: RpcError, names: ModuleNames | None = None) -> Element:
    """The ``<rpc-error>`` element of ``error``. ``names`` declares our module prefixes
    on ``<error-path>`` (pass the codec's names whenever the path may carry them)."""
    made = etree.Element(qname(NS_BASE, "rpc-error"), nsmap={None: NS_BASE})
    _sub(made, "error-type", error.error_type)
    _sub(made, "error-tag", error.tag)
    _sub(made, "error-severity", error.severity)
    if error.app_tag:
        _sub(made, "error-app-tag", error.app_tag)
    if error.path:
        nsmap = _prefixes_in(error.path, names)
        path = etree.SubElement(made, qname(NS_BASE, "error-path"), nsmap=nsmap or None)
        path.text = error.path
    message = error.message
    if len(message) > MAX_MESSAGE_CHARS:
        cut = len(message) - MAX_MESSAGE_CHARS
        message = f"{message[:MAX_MESSAGE_CHARS]}... ({cut} more characters)"
    _sub(made, "error-message", message).set(XML_LANG, "en")
    if error.info:
        info = _sub(made, "error-info", None)
        for name, value in error.info.items():
            _sub(info, name, value)
    return made


def renderer(names: ModuleNames) -> Callable[[RpcError], Element]:
    """:func:`render` with our module prefixes declared on every ``<error-path>``."""

    def render_with_names(error: RpcError) -> Element:
        return render(error, names)

    return render_with_names


def _sub(parent: Element, name: str, text: str | None) -> Element:
    tag = name if name.startswith("{") else qname(NS_BASE, name)
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _prefixes_in(path: str, names: ModuleNames | None) -> dict[str, str]:
    if names is None:
        return {}
    used = set(re.findall(r"([A-Za-z_][\w.\-]*):", _without_literals(path)))
    return {m.prefix: m.namespace for m in names if m.prefix in used}


def _without_literals(path: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", path)
