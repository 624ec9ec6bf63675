"""The ``<hello>`` exchange (RFC 6241 section 8.1) and the capabilities it carries.

The server's hello lists base:1.0, base:1.1, the capabilities of the operations served
(given by whoever builds the server) and one URI per YANG version 1 module of the schema
(``NAMESPACE?module=NAME&revision=DATE``), and assigns the session id. YANG 1.1 modules
are announced through ietf-yang-library only (RFC 7950 section 5.6.4). A client hello
must list base:1.0 or base:1.1 and must not carry a session id; anything else ends the
session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lxml import etree

from agent.northbound.netconf.contracts import BASE_1_0, BASE_1_1, NS_BASE, Element, qname
from agent.northbound.netconf.framing import Framing

BASES = (BASE_1_0, BASE_1_1)


class HelloError(ValueError):
    """A client hello the session cannot go on with."""


@dataclass(frozen=True, slots=True)
class ClientHello:
    """What the client announced."""

    capabilities: frozenset[str]

    @property
    def framing(self) -> Framing:
        """The framing after the hellos: chunks when the client speaks base:1.1 too."""
        return Framing.CHUNKED if BASE_1_1 in self.capabilities else Framing.END_OF_MESSAGE


def module_capability(module: Any) -> str:
    """``NAMESPACE?module=NAME&revision=DATE`` for a module (RFC 6020 section 5.6.4);
    ``module`` has ``name``, ``revision`` and ``namespace``."""
    uri = f"{module.namespace}?module={quote(module.name, safe='-._')}"
    if module.revision:
        uri += f"&revision={module.revision}"
    return uri


def server_capabilities(operations: Sequence[str], modules: Iterable[Any]) -> tuple[str, ...]:
    """Every capability of the server hello, each once, the bases first; ``modules`` of
    YANG 1.1 (a ``yang_version`` of ``1.1``) are left to the yang-library capability."""
    announced = (m for m in modules if getattr(m, "yang_version", "1") == "1")
    listed = [*BASES, *operations, *(module_capability(module) for module in announced)]
    return tuple(dict.fromkeys(listed))


def server_hello(session_id: int, capabilities: Iterable[str]) -> bytes:
    """The server's ``<hello>`` document."""
    hello = etree.Element(qname(NS_BASE, "hello"), nsmap={None: NS_BASE})
    listed = etree.SubElement(hello, qname(NS_BASE, "capabilities"))
    for capability in capabilities:
        etree.SubElement(listed, qname(NS_BASE, "capability")).text = capability
    etree.SubElement(hello, qname(NS_BASE, "session-id")).text = str(session_id)
    return bytes(etree.tostring(hello, xml_declaration=True, encoding="UTF-8"))


def parse_client_hello(document: Element) -> ClientHello:
    """The client's hello; raises HelloError naming what is wrong with it."""
    if document.tag != qname(NS_BASE, "hello"):
        name = etree.QName(document)
        raise HelloError(f"expected <hello> ({NS_BASE}), got <{name.localname}> ({name.namespace})")
    if document.find(qname(NS_BASE, "session-id")) is not None:
        raise HelloError("a client <hello> must not carry a <session-id>")
    listed = document.find(qname(NS_BASE, "capabilities"))
    if listed is None:
        raise HelloError("the <hello> has no <capabilities>")
    capabilities = frozenset(
        (capability.text or "").strip()
        for capability in listed.iterfind(qname(NS_BASE, "capability"))
    )
    if not capabilities & set(BASES):
        raise HelloError(f"the <hello> lists neither {BASE_1_0} nor {BASE_1_1}")
    return ClientHello(capabilities - {""})
