"""YANG string characters (RFC 7950 9.4, ``yang-char``): the rule itself, and the engine
refusing every value that breaks it, whatever the leaf's type, with path and rule."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from agent.commands import validate
from agent.schema.characters import character_problem, forbidden_character, visible
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.schema.refusal import Refusal, Rule

Tree = dict[str, Any]

FORBIDDEN = [
    *(chr(c) for c in range(0x00, 0x09)),
    "\x0b",
    "\x0c",
    *(chr(c) for c in range(0x0E, 0x20)),
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\ufdd0",
    "\ufdef",
    *(chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF)),
]
ALLOWED = [
    "\t",
    "\n",
    "\r",
    " ",
    "~",
    "\x7f",  # DEL: inside %x20-D7FF, allowed by the ABNF
    "\x80",
    "\x85",
    "\x9f",  # C1 controls: allowed too
    "\ud7ff",
    "\ue000",
    "\ufdcf",
    "\ufdf0",
    "\ufffd",
    "\U00010000",
    "\U0001fffd",
    "\U0001f600",
    "\U0010fffd",
]


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_forbidden_characters(char: str) -> None:
    assert forbidden_character(f"ab{char}c") == 2
    problem = character_problem(f"ab{char}c")
    assert problem is not None and f"U+{ord(char):04X}" in problem and "RFC 7950" in problem
    assert char not in visible(f"ab{char}c")


@pytest.mark.parametrize("char", ALLOWED, ids=lambda c: f"U+{ord(c):04X}")
def test_allowed_characters(char: str) -> None:
    assert forbidden_character(f"ab{char}c") is None
    assert character_problem(char) is None


def test_visible_escapes_control_characters_only() -> None:
    assert (
        visible("a\x00b\tc\x1b[31m\x85é\U0010ffff")
        == "a\\u0000b\\u0009c\\u001b[31m\\u0085é\\U0010ffff"
    )


def test_a_refusal_prints_on_one_safe_line() -> None:
    path = DataPath.parse("/ports/port[name=a\x00b]/config/description")
    text = str(Refusal(path, Rule.CHARACTER, "bad\nvalue"))
    assert text == "/ports/port[name=a\\u0000b]/config/description: bad\\u000avalue [character]"


# --- the engine -------------------------------------------------------------------------


def _port(site: Tree, name: str) -> Tree:
    port: Tree = next(p for p in site["edge-ports:ports"]["port"] if p["name"] == name)
    return port


def _only(engine: SchemaEngine, site: Tree) -> Refusal:
    refusals = engine.refusals(site)
    assert len(refusals) == 1, refusals
    return refusals[0]


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\ud800", "\ufffe", "\U0001ffff", "\ufdd5"])
def test_description_with_a_forbidden_character_is_refused(
    engine: SchemaEngine, site: Tree, char: str
) -> None:
    _port(site, "tor-tf1/1")["config"]["description"] = f"uplink{char}"
    refusal = _only(engine, site)
    assert str(refusal.path) == "/ports/port[name=tor-tf1/1]/config/description"
    assert refusal.rule is Rule.CHARACTER
    assert f"U+{ord(char):04X}" in refusal.message


def test_allowed_control_characters_are_kept(engine: SchemaEngine, site: Tree) -> None:
    _port(site, "tor-tf1/1")["config"]["description"] = "line 1\r\n\tline 2 \x7f\x85"
    assert engine.refusals(site) == ()


def test_list_key_with_nul_is_refused(engine: SchemaEngine, site: Tree) -> None:
    entry = {
        "name": "new\x00port",
        "config": {"name": "new\x00port", "device": "tor-tf1", "index": 30, "speed": "100G"},
    }
    site["edge-ports:ports"]["port"].append(entry)
    refusals = engine.refusals(site)
    assert {(str(r.path), r.rule) for r in refusals} == {
        ("/ports/port[name=new\x00port]/name", Rule.CHARACTER),
        ("/ports/port[name=new\x00port]/config/name", Rule.CHARACTER),
    }
    assert all("\x00" not in str(r) for r in refusals)


def test_enumeration_with_nul_is_refused(engine: SchemaEngine, site: Tree) -> None:
    _port(site, "tor-tf1/1")["config"]["fec"] = "rs528\x00"
    refusal = _only(engine, site)
    assert refusal.rule is Rule.CHARACTER
    assert str(refusal.path) == "/ports/port[name=tor-tf1/1]/config/fec"


def test_identityref_with_nul_is_refused(engine: SchemaEngine, site: Tree) -> None:
    device = site["edge-platform:platform"]["devices"]["device"][0]
    device["config"]["chipset"] = "edge-types:tofino1\x00"
    refusal = _only(engine, site)
    assert refusal.rule is Rule.IDENTITY  # identities are YANG identifiers: ASCII only
    assert "\x00" not in str(refusal)


def test_leaf_list_element_with_a_forbidden_character_is_refused(engine: SchemaEngine) -> None:
    caps = DataPath.parse("/platform/devices/device[name=d]/state/capabilities")
    assert engine.leaf_type(caps.child("supported-speeds")) is not None
    state = {
        "edge-platform:platform": {
            "devices": {
                "device": [
                    {
                        "name": "d",
                        "config": {"name": "d", "chipset": "edge-types:tofino1"},
                        "state": {"capabilities": {"supported-speeds": ["100G", "40G\x00"]}},
                    }
                ]
            }
        }
    }
    refusals = engine.refusals(state, config_only=False)
    assert [r.rule for r in refusals] == [Rule.CHARACTER]


def test_validate_command_refuses_a_file_with_nul(
    tmp_path: Path, site: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    _port(site, "tor-tf1/1")["config"]["description"] = "a\x00b"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(site), encoding="utf-8")
    assert validate.run(Namespace(file=bad, json=True)) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == "/ports/port[name=tor-tf1/1]/config/description"
    assert record["rule"] == "character"


# --- other string-based types, in a module of their own ----------------------------------

TEST_MODULE = """
module chars-test {
  yang-version 1.1;
  namespace "urn:test:chars";
  prefix ct;
  revision 2026-01-01;
  container things {
    list thing {
      key "id";
      leaf id { type string; }
      leaf either { type union { type uint8; type string { length "1..10"; } } }
      leaf peer { type leafref { path "../../thing/id"; } }
      leaf-list tags { type string; }
      leaf count { type uint8; }
    }
  }
}
"""


@pytest.fixture(scope="module")
def chars_engine(tmp_path_factory: pytest.TempPathFactory) -> SchemaEngine:
    directory = tmp_path_factory.mktemp("yang")
    (directory / "chars-test.yang").write_text(TEST_MODULE, encoding="utf-8")
    return SchemaEngine(directory)


def _things(*entries: Tree) -> Tree:
    return {"chars-test:things": {"thing": list(entries)}}


def test_good_strings_of_every_kind_are_accepted(chars_engine: SchemaEngine) -> None:
    data = _things(
        {"id": "a", "either": 5, "tags": ["x\ty"]},
        {"id": "b", "either": "text", "peer": "a", "count": 3},
    )
    assert chars_engine.refusals(data) == ()


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"id": "a\x00"}, "/things/thing[id=a\x00]/id"),
        ({"id": "a", "either": "te\x01xt"}, "/things/thing[id=a]/either"),
        ({"id": "a", "tags": ["ok", "bad\ufffe"]}, "/things/thing[id=a]/tags"),
    ],
    ids=["key", "union-string-member", "leaf-list"],
)
def test_string_based_leaves_refuse_forbidden_characters(
    chars_engine: SchemaEngine, entry: Tree, where: str
) -> None:
    refusals = chars_engine.refusals(_things(entry))
    assert [(str(r.path), r.rule) for r in refusals] == [(where, Rule.CHARACTER)]


def test_leafref_to_a_string_refuses_forbidden_characters(chars_engine: SchemaEngine) -> None:
    refusals = chars_engine.refusals(_things({"id": "a\x02"}, {"id": "b", "peer": "a\x02"}))
    assert sorted((str(r.path), r.rule) for r in refusals) == [
        ("/things/thing[id=a\x02]/id", Rule.CHARACTER),
        ("/things/thing[id=b]/peer", Rule.CHARACTER),
    ]
