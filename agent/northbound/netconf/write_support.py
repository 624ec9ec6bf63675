"""What the NETCONF write operations share: parameters, session names, errors, audit.

- parameters are the children of the operation element in the base namespace; an
  unknown one is ``unknown-element``, one given twice ``bad-element``;
- datastores are named by an empty element (``<running/>``, ``<candidate/>``), or by
  ``<config>`` (inline) and ``<url>`` (not served) where the operation allows;
- a session holds datastore locks and writes as ``netconf:ID`` (the service core's
  session name), described as ``NETCONF session ID (user NAME)``;
- service refusals become RpcErrors through the one Kind -> error-tag map of
  :mod:`.errors`; a write refused because another session holds a lock is ``in-use``
  (the ``lock-denied`` tag is the lock operation's), with the holder's session-id.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from itertools import islice
from types import MappingProxyType
from typing import Final

from lxml import etree

from agent.datastore.errors import DatastoreError
from agent.northbound.netconf.codec import EditNode, XmlCodec
from agent.northbound.netconf.contracts import NS_BASE, Element, RpcContext, RpcError, qname
from agent.northbound.netconf.edit_plan import EditErrors, EditRefused
from agent.northbound.netconf.errors import ERROR_OF_KIND, rpc_error
from agent.northbound.netconf.registry import lock_session_name
from agent.schema.path import DataPath, PathSyntaxError
from agent.service.errors import Kind, ServiceError, from_datastore
from agent.service.locks import LockHolder

RUNNING: Final = "running"
CANDIDATE: Final = "candidate"
CONFIG: Final = "config"
URL: Final = "url"


INLINE_EDIT_MAX_ELEMENTS: Final = 64
"""An edit whose ``<config>`` holds at most this many elements is staged on the event
loop: cheaper than the hop to a worker thread and back (as gNMI plans small Sets)."""


def is_small(config: Element) -> bool:
    """Whether ``config`` holds at most INLINE_EDIT_MAX_ELEMENTS elements (counting stops
    past the limit)."""
    counted = sum(1 for _ in islice(config.iter(), INLINE_EDIT_MAX_ELEMENTS + 1))
    return counted <= INLINE_EDIT_MAX_ELEMENTS


def base(name: str) -> str:
    """``{base namespace}name``."""
    return qname(NS_BASE, name)


def operation_element(rpc: Element, name: str) -> Element:
    """The operation element under ``<rpc>``."""
    found = rpc.find(base(name))
    if found is None:  # the dispatcher routes by this element: never missing
        raise RpcError("missing-element", f"no <{name}> in the <rpc>", "protocol")
    return found


def params(request: Element, operation: str, allowed: Collection[str]) -> dict[str, Element]:
    """The parameters of ``request`` by local name."""
    found: dict[str, Element] = {}
    for child in request:
        if not isinstance(child.tag, str):
            continue
        q = etree.QName(child)
        if q.namespace != NS_BASE or q.localname not in allowed:
            raise RpcError(
                "unknown-element",
                f"<{operation}> takes no parameter <{q.localname}>"
                f" (it takes {', '.join(sorted(allowed))})",
                "protocol",
                info={"bad-element": q.localname},
            )
        if q.localname in found:
            raise RpcError(
                "bad-element",
                f"<{operation}> gives <{q.localname}> twice",
                "protocol",
                info={"bad-element": q.localname},
            )
        found[q.localname] = child
    return found


def required(found: Mapping[str, Element], name: str, operation: str) -> Element:
    """A mandatory parameter; ``missing-element`` when absent."""
    element = found.get(name)
    if element is None:
        raise RpcError(
            "missing-element",
            f"<{operation}> needs <{name}>",
            "protocol",
            info={"bad-element": name},
        )
    return element


def datastore_of(param: Element, operation: str, allowed: Sequence[str]) -> tuple[str, Element]:
    """The datastore a ``<target>``/``<source>`` names, and its element: one of
    ``allowed`` (``config`` inline, ``url`` refused as not served)."""
    name = etree.QName(param).localname
    chosen = [c for c in param if isinstance(c.tag, str)]
    if len(chosen) != 1:
        raise RpcError(
            "missing-element" if not chosen else "bad-element",
            f"<{name}> of <{operation}> names exactly one datastore",
            "protocol",
            info={"bad-element": name},
        )
    element = chosen[0]
    q = etree.QName(element)
    if q.namespace == NS_BASE and q.localname == URL and URL not in allowed:
        raise RpcError(
            "operation-not-supported",
            f"<{operation}>: <url> datastores are not served (no :url capability)",
            info={"bad-element": URL},
        )
    if q.namespace != NS_BASE or q.localname not in allowed:
        shown = " or ".join(f"<{a}/>" if a != CONFIG else "<config>" for a in allowed)
        raise RpcError(
            "invalid-value",
            f"<{operation}> cannot use the {q.localname} datastore as its {name} ({shown})",
            "protocol",
            info={"bad-element": q.localname},
        )
    return q.localname, element


def choice(param: Element | None, operation: str, values: Collection[str], default: str) -> str:
    """The text of an enumerated parameter (``default`` when absent)."""
    if param is None:
        return default
    text = (param.text or "").strip()
    if text not in values:
        name = etree.QName(param).localname
        raise RpcError(
            "invalid-value",
            f"<{operation}> <{name}> is {text!r}; it is one of {', '.join(sorted(values))}",
            "protocol",
            info={"bad-element": name},
        )
    return text


def session_name(context: RpcContext) -> str:
    """The name the session writes and locks under (``netconf:ID``)."""
    return lock_session_name(context.session_id)


def holder(context: RpcContext) -> LockHolder:
    """The session as a lock holder."""
    user = str(getattr(context.user, "name", ""))
    return LockHolder(
        session_name(context), user, f"NETCONF session {context.session_id} (user {user})"
    )


def code_of(kind: Kind | None) -> str:
    """The audit code of an outcome: ``ok`` or the error-tag."""
    return "ok" if kind is None else ERROR_OF_KIND[kind][0]


def write_error(
    err: ServiceError | DatastoreError,
    operation: str,
    codec: XmlCodec,
    nodes: Sequence[EditNode] = (),
    refused: DatastoreError | None = None,
) -> RpcError | list[RpcError]:
    """The RpcError(s) of a refused write: ``in-use`` for another session's lock,
    ``data-exists``/``data-missing`` for what staging found, the region named in
    ``error-path`` and in front of the message when the refusal names one."""
    if isinstance(refused, EditErrors):
        return [_one(e, operation, codec, nodes, e) for e in refused.errors]
    return _one(err, operation, codec, nodes, refused)


def _one(
    err: ServiceError | DatastoreError,
    operation: str,
    codec: XmlCodec,
    nodes: Sequence[EditNode],
    refused: DatastoreError | None,
) -> RpcError:
    service = from_datastore(err) if isinstance(err, DatastoreError) else err
    index = service.op_index
    node = nodes[index] if index is not None and 0 <= index < len(nodes) else None
    tag = None
    path = node.path if node is not None else None
    if isinstance(refused, EditRefused) and refused.op_index == index:
        tag, path = refused.tag, refused.path
    elif service.kind is Kind.LOCKED:
        tag = "in-use"
    if tag is None or tag == "in-use":
        path = refined_path(service.message, path)
    context = operation
    if node is not None:
        what = node.operation.value if node.operation is not None else "edit"
        context = f"{operation}: {what} {path_text(node.path)}"
    return rpc_error(service, path=path, codec=codec, tag=tag, context=context)


def refined_path(message: str, region: DataPath | None) -> DataPath | None:
    """The node a refusal's message starts with (a schema refusal's path, a driver
    problem's ``port NAME``), when it lies in ``region`` (any node when None); else
    ``region``."""
    head, sep, _ = message.partition(": ")
    found: DataPath | None = None
    if sep and head.startswith("/"):
        try:
            found = DataPath.parse(head)
        except PathSyntaxError:
            found = None
    elif sep and head.count(" ") == 1:
        kind, name = head.split(" ")
        found = _ENTITIES[kind].child(_LISTS[kind], name=name) if kind in _ENTITIES else None
    if found is not None and (region is None or found.startswith(region)):
        return found
    return region


_ENTITIES: Final = MappingProxyType(
    {
        "port": DataPath.parse("/edge-ports:ports"),
        "slice": DataPath.parse("/edge-slices:slices"),
        "device": DataPath.parse("/edge-platform:platform/devices"),
        "tenant": DataPath.parse("/edge-tenants:tenants"),
    }
)
_LISTS: Final = MappingProxyType(
    {"port": "port", "slice": "slice", "device": "device", "tenant": "tenant"}
)


def path_text(path: object) -> str:
    """A path for messages, without module names."""
    without = getattr(path, "without_modules", None)
    return str(without() if without is not None else path)
