"""ietf-yang-library (RFC 8525) for NETCONF: the ``/yang-library`` data and the hello
capability of RFC 7950 section 5.6.4, and where module sources are read from.

All our modules form one module set, one schema used by every datastore we serve. The
content-id is a digest of every module's name, revision, namespace and source text (and
of the datastores), so it changes whenever a module does, even without a new revision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Final

from lxml import etree

from agent.northbound.netconf.contracts import NS_YANG_LIBRARY, Element, qname
from agent.schema.library import ModuleInfo

YANG_LIBRARY_REVISION: Final = "2019-01-04"
YANG_LIBRARY_CAPABILITY: Final = "urn:ietf:params:netconf:capability:yang-library:1.1"
NS_DATASTORES: Final = "urn:ietf:params:xml:ns:yang:ietf-datastores"
MODULE_SET: Final = "edge-agent"
SCHEMA: Final = "edge-agent"
DATASTORES: Final = ("running", "candidate")
"""The datastores NETCONF serves (RFC 8342 names); both use the one schema."""


def module_source(module: ModuleInfo) -> str:
    """The YANG text of ``module``: the one place that knows where module sources live."""
    return module.path.read_text(encoding="utf-8")


def content_id(modules: Iterable[ModuleInfo], datastores: Sequence[str] = DATASTORES) -> str:
    """A digest of everything ``/yang-library`` reports."""
    digest = hashlib.sha256()
    for module in sorted(modules, key=lambda m: m.name):
        for part in (module.name, module.revision, module.namespace, module_source(module)):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
    for datastore in datastores:
        digest.update(datastore.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def yang_library_capability(
    modules: Iterable[ModuleInfo], datastores: Sequence[str] = DATASTORES
) -> str:
    """The hello capability that points clients at ``/yang-library``."""
    return (
        f"{YANG_LIBRARY_CAPABILITY}?revision={YANG_LIBRARY_REVISION}"
        f"&content-id={content_id(modules, datastores)}"
    )


def yang_library_data(
    modules: Iterable[ModuleInfo], datastores: Sequence[str] = DATASTORES
) -> Element:
    """The ``<yang-library>`` element: module set, schema, datastores, content-id."""
    listed = sorted(modules, key=lambda m: m.name)
    root = etree.Element(qname(NS_YANG_LIBRARY, "yang-library"), nsmap={None: NS_YANG_LIBRARY})
    module_set = _child(root, "module-set")
    _child(module_set, "name", MODULE_SET)
    for module in listed:
        entry = _child(module_set, "module")
        _child(entry, "name", module.name)
        _child(entry, "revision", module.revision)
        _child(entry, "namespace", module.namespace)
    schema = _child(root, "schema")
    _child(schema, "name", SCHEMA)
    _child(schema, "module-set", MODULE_SET)
    for name in datastores:
        datastore = _child(root, "datastore")
        ident = etree.SubElement(
            datastore, qname(NS_YANG_LIBRARY, "name"), nsmap={"ds": NS_DATASTORES}
        )
        ident.text = f"ds:{name}"
        _child(datastore, "schema", SCHEMA)
    _child(root, "content-id", content_id(listed, datastores))
    return root


def _child(parent: Element, name: str, text: str | None = None) -> Element:
    made = etree.SubElement(parent, qname(NS_YANG_LIBRARY, name))
    if text is not None:
        made.text = text
    return made
