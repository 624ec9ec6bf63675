"""Whole-tree validation refuses what JSON would otherwise resolve by letting the last one
win: two list entries with the same keys, one member given twice (with and without its
module)."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from agent.commands import validate
from agent.schema.engine import SchemaEngine
from agent.schema.refusal import Refusal, Rule

Tree = dict[str, Any]

THINGS = """
module dup-test {
  yang-version 1.1;
  namespace "urn:test:dup";
  prefix dt;
  revision 2026-01-01;
  container things {
    list thing {
      key "id";
      leaf id { type string; }
      leaf count { type uint8; }
    }
  }
}
"""


@pytest.fixture(scope="module")
def things_engine(tmp_path_factory: pytest.TempPathFactory) -> SchemaEngine:
    directory = tmp_path_factory.mktemp("yang")
    (directory / "dup-test.yang").write_text(THINGS, encoding="utf-8")
    return SchemaEngine(directory)


def _things(*entries: Tree) -> Tree:
    return {"dup-test:things": {"thing": list(entries)}}


def _only(engine: SchemaEngine, site: Tree) -> Refusal:
    refusals = engine.refusals(site)
    assert len(refusals) == 1, refusals
    return refusals[0]


def test_duplicate_list_keys_are_refused_once_each(engine: SchemaEngine, site: Tree) -> None:
    ports = site["edge-ports:ports"]["port"]
    first = json.loads(json.dumps(ports[0]))
    ports.append(json.loads(json.dumps(first)))
    ports.append(json.loads(json.dumps(first)))
    refusals = engine.refusals(site)
    assert [(str(r.path), r.rule) for r in refusals] == [
        ("/ports/port[name=tor-tf1/1]", Rule.KEY),
        ("/ports/port[name=tor-tf1/1]", Rule.KEY),
    ]  # and no 'unique' refusal for the same entries
    assert "'port'" in refusals[0].message and "name='tor-tf1/1'" in refusals[0].message


def test_duplicate_keys_in_a_nested_list_are_refused(engine: SchemaEngine, site: Tree) -> None:
    members = site["edge-slices:slices"]["slice"][0]["members"]["member"]
    members.append(json.loads(json.dumps(members[0])))
    refusal = _only(engine, site)
    assert refusal.rule is Rule.KEY
    name = site["edge-slices:slices"]["slice"][0]["name"]
    assert (
        str(refusal.path) == f"/slices/slice[name={name}]/members/member[port={members[0]['port']}]"
    )
    assert "'member'" in refusal.message


def test_entries_without_their_key_are_each_refused(things_engine: SchemaEngine) -> None:
    refusals = things_engine.refusals(_things({"count": 1}, {"id": "a"}, {"count": 2}))
    assert [r.rule for r in refusals] == [Rule.KEY, Rule.KEY]
    assert all("'id'" in r.message for r in refusals)


@pytest.mark.parametrize("first", ["mtu", "edge-ports:mtu"])
def test_a_member_given_with_and_without_its_module_is_refused(
    engine: SchemaEngine, site: Tree, first: str
) -> None:
    config = site["edge-ports:ports"]["port"][0]["config"]
    other = "edge-ports:mtu" if first == "mtu" else "mtu"
    rest = {k: v for k, v in config.items() if k != "mtu"}
    config.clear()
    config.update({first: 1500, **rest, other: 9000})
    refusal = _only(engine, site)
    assert str(refusal.path) == "/ports/port[name=tor-tf1/1]/config/mtu"
    assert refusal.rule is Rule.DUPLICATE
    assert "'mtu'" in refusal.message and "'edge-ports:mtu'" in refusal.message


def test_other_spellings_of_a_member_given_twice(engine: SchemaEngine, site: Tree) -> None:
    site["ports"] = {"port": []}  # a top-level member needs its module anyway
    assert [r.rule for r in engine.refusals(site)] == [Rule.UNKNOWN_NODE]
    del site["ports"]
    site["edge-ports:ports"]["edge-ports:port"] = []
    assert [r.rule for r in engine.refusals(site)] == [Rule.DUPLICATE]


def test_a_config_file_with_duplicate_entries_fails_validate(
    tmp_path: Path, site: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = site["edge-ports:ports"]["port"]
    ports.append(json.loads(json.dumps(ports[0])))
    bad = tmp_path / "dup.json"
    bad.write_text(json.dumps(site), encoding="utf-8")
    assert validate.run(Namespace(file=bad, json=True)) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == "/ports/port[name=tor-tf1/1]" and record["rule"] == "key"
    text = json.dumps(site)
    bad.write_text(text.replace('"mtu": 9000', '"mtu": 9000, "mtu": 1500', 1), encoding="utf-8")
    assert validate.run(Namespace(file=bad, json=False)) == 2
    assert "appears twice" in capsys.readouterr().err
