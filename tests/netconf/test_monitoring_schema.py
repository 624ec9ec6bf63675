"""<get-schema> (RFC 6022 section 3.1) over our modules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lxml import etree

from agent.northbound.netconf.contracts import NS_BASE, NS_MONITORING, RpcContext, RpcError
from agent.northbound.netconf.monitoring import monitoring_table, schema_reply
from agent.schema.engine import SchemaEngine
from agent.schema.library import ModuleInfo


def request(body: str) -> Any:
    return etree.fromstring(f'<get-schema xmlns="{NS_MONITORING}">{body}</get-schema>')


def by_name(engine: SchemaEngine, name: str) -> ModuleInfo:
    return next(m for m in engine.modules if m.name == name)


def test_each_module_text_is_served(engine: SchemaEngine) -> None:
    for module in engine.modules:
        reply = schema_reply(engine.modules, request(f"<identifier>{module.name}</identifier>"))
        assert reply.tag == f"{{{NS_MONITORING}}}data"
        assert reply.text == module.path.read_text(encoding="utf-8")
        assert reply.text.lstrip().startswith(f"module {module.name}")


def test_version_and_format_are_checked(engine: SchemaEngine) -> None:
    ports = by_name(engine, "edge-ports")
    reply = schema_reply(
        engine.modules,
        request(
            f"<identifier>edge-ports</identifier><version>{ports.revision}</version>"
            "<format>yang</format>"
        ),
    )
    assert "module edge-ports" in reply.text
    prefixed = etree.fromstring(
        f'<get-schema xmlns="{NS_MONITORING}" xmlns:ncm="{NS_MONITORING}">'
        "<identifier>edge-ports</identifier><format>ncm:yang</format></get-schema>"
    )
    assert "module edge-ports" in schema_reply(engine.modules, prefixed).text


@pytest.mark.parametrize(
    ("body", "tag", "bad"),
    [
        ("<identifier>openconfig-interfaces</identifier>", "invalid-value", "identifier"),
        (
            "<identifier>edge-ports</identifier><version>1999-01-01</version>",
            "invalid-value",
            "version",
        ),
        (
            "<identifier>edge-ports</identifier><format>yin</format>",
            "operation-not-supported",
            "format",
        ),
        ("<identifier>edge-ports</identifier><format>json</format>", "invalid-value", "format"),
        ("<version>2026-11-26</version>", "missing-element", "identifier"),
    ],
)
def test_refusals(engine: SchemaEngine, body: str, tag: str, bad: str) -> None:
    with pytest.raises(RpcError) as caught:
        schema_reply(engine.modules, request(body))
    assert caught.value.tag == tag
    assert caught.value.info.get("bad-element") == bad


def test_the_operation_table(engine: SchemaEngine) -> None:
    env: Any = type("Env", (), {"modules": engine.modules})()
    table = monitoring_table(env)
    handler = table[f"{{{NS_MONITORING}}}get-schema"]
    rpc = etree.fromstring(
        f'<rpc xmlns="{NS_BASE}" message-id="4"><get-schema xmlns="{NS_MONITORING}">'
        "<identifier>edge-slices</identifier></get-schema></rpc>"
    )
    context = RpcContext(1, None, "127.0.0.1:1", frozenset())
    reply = asyncio.run(handler(context, rpc))
    assert "module edge-slices" in reply.text
