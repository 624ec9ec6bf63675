"""Building ``<rpc-reply>`` messages.

Replies echo every attribute of the ``<rpc>`` they answer (message-id and any other,
RFC 6241 section 4.2) with the namespace prefixes the client used. ``<rpc-error>``
elements come from :func:`agent.northbound.netconf.errors.render` unless the caller
passes another renderer (e.g. one that knows the module prefixes of error paths).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from lxml import etree

from agent.northbound.netconf.contracts import NS_BASE, Element, EncodedData, RpcError, qname
from agent.northbound.netconf.errors import render

ErrorRenderer = Callable[[RpcError], Element]
"""Turns an RpcError into its ``<rpc-error>`` element."""


def rpc_reply(
    attributes: Mapping[str, str],
    nsmap: Mapping[str | None, str] | None,
    body: Iterable[Element] | None = None,
) -> Element:
    """``<rpc-reply>`` with ``attributes`` (those of the ``<rpc>``) and ``body``
    (None: ``<ok/>``)."""
    reply = etree.Element(qname(NS_BASE, "rpc-reply"), nsmap=_reply_nsmap(nsmap))
    for name, value in attributes.items():
        reply.set(name, value)
    if body is None:
        etree.SubElement(reply, qname(NS_BASE, "ok"))
    else:
        for element in body:
            reply.append(element)
    return reply


def error_reply(
    attributes: Mapping[str, str],
    nsmap: Mapping[str | None, str] | None,
    errors: Iterable[RpcError],
    renderer: ErrorRenderer = render,
) -> Element:
    """``<rpc-reply>`` carrying one ``<rpc-error>`` per error."""
    return rpc_reply(attributes, nsmap, [renderer(error) for error in errors])


def data_reply(
    attributes: Mapping[str, str], nsmap: Mapping[str | None, str] | None, data: EncodedData
) -> bytes:
    """The bytes of ``<rpc-reply>`` holding ``<data>`` with the encoded content."""
    reply = rpc_reply(attributes, nsmap, [etree.Element(qname(NS_BASE, "data"))])
    reply[0].append(etree.Comment(_SPLICE))
    head, tail = serialize(reply).split(_SPLICE_BYTES, 1)
    return b"".join((head, data.text.encode("utf-8"), tail))


_SPLICE = "edge-agent: the data goes here"
_SPLICE_BYTES = f"<!--{_SPLICE}-->".encode()
"""A comment is the one thing of the reply serialized as written (attribute values
escape ``<``), so its bytes mark the place of the data exactly once."""


def serialize(element: Element) -> bytes:
    """The UTF-8 bytes of ``element`` (no XML declaration)."""
    return bytes(etree.tostring(element, encoding="UTF-8", xml_declaration=False))


def _reply_nsmap(nsmap: Mapping[str | None, str] | None) -> dict[str | None, str]:
    """The client's prefixes, with the base namespace bound (unprefixed if free)."""
    chosen = dict(nsmap or {})
    if NS_BASE not in chosen.values():
        if None in chosen:
            names = (f"nc{n or ''}" for n in range(len(chosen) + 1))
            prefix = next(name for name in names if name not in chosen)
            chosen[prefix] = NS_BASE
        else:
            chosen[None] = NS_BASE
    return chosen
