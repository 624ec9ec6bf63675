"""ietf-yang-library (RFC 8525): the /yang-library data and the hello capability."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from agent.northbound.netconf.yang_library import (
    YANG_LIBRARY_CAPABILITY,
    content_id,
    yang_library_capability,
    yang_library_data,
)
from agent.schema.engine import SchemaEngine
from agent.schema.library import default_yang_dir, discover_modules

YL = "urn:ietf:params:xml:ns:yang:ietf-yang-library"


def q(name: str) -> str:
    return f"{{{YL}}}{name}"


def test_the_module_set_lists_our_modules(engine: SchemaEngine) -> None:
    library = etree.fromstring(etree.tostring(yang_library_data(engine.modules)))
    assert library.tag == q("yang-library")
    [module_set] = library.findall(q("module-set"))
    listed = {
        m.findtext(q("name")): (m.findtext(q("revision")), m.findtext(q("namespace")))
        for m in module_set.findall(q("module"))
    }
    assert listed == {m.name: (m.revision, m.namespace) for m in engine.modules}
    assert {"edge-ports", "edge-slices", "edge-platform", "edge-tenants", "edge-types"} <= set(
        listed
    )
    set_name = module_set.findtext(q("name"))
    [schema] = library.findall(q("schema"))
    assert schema.findtext(q("module-set")) == set_name
    datastores = library.findall(q("datastore"))
    names = []
    for datastore in datastores:
        name = datastore.find(q("name"))
        prefix, _, local = (name.text or "").partition(":")
        assert name.nsmap[prefix] == "urn:ietf:params:xml:ns:yang:ietf-datastores"
        assert datastore.findtext(q("schema")) == schema.findtext(q("name"))
        names.append(local)
    assert names == ["running", "candidate"]
    assert library.findtext(q("content-id")) == content_id(engine.modules)


def test_the_capability_carries_revision_and_content_id(engine: SchemaEngine) -> None:
    uri = yang_library_capability(engine.modules)
    parts = urlsplit(uri)
    assert f"{parts.scheme}:{parts.path}" == YANG_LIBRARY_CAPABILITY
    query = parse_qs(parts.query)
    assert query == {"revision": ["2019-01-04"], "content-id": [content_id(engine.modules)]}


def test_the_content_id_changes_with_the_modules(tmp_path: Path) -> None:
    copied = tmp_path / "yang"
    shutil.copytree(default_yang_dir(), copied)
    first = content_id(discover_modules(copied))
    assert content_id(discover_modules(copied)) == first
    ports = copied / "edge-ports.yang"
    ports.write_text(ports.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert content_id(discover_modules(copied)) != first
