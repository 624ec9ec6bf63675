"""`edge-agent drivers` lists the families, their chipset models and backends."""

from __future__ import annotations

import argparse
import json

from agent.commands import drivers


def _run(capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="edge-agent")
    drivers.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["drivers", *argv])
    code = args.handler(args)
    return code, capsys.readouterr().out


def test_the_table_lists_four_families_and_nine_models(capsys) -> None:
    code, out = _run(capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["FAMILY", "CHIPSET", "BACKENDS", "MODEL"]
    rows = [line.split()[:3] for line in lines[1:10]]
    assert rows == [
        ["intel", "e810", "mock"],
        ["intel", "ipu-e2000", "mock"],
        ["nvidia", "connectx-6", "mock"],
        ["nvidia", "connectx-7", "mock"],
        ["nvidia", "bluefield-2", "mock"],
        ["nvidia", "bluefield-3", "mock"],
        ["stratix", "stratix10-dx", "mock"],
        ["tofino", "tofino1", "mock"],
        ["tofino", "tofino2", "mock"],
    ]
    assert "4 driver families, 9 chipset models" in out


def test_json_output(capsys) -> None:
    code, out = _run(capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert [f["name"] for f in data["families"]] == ["intel", "nvidia", "stratix", "tofino"]
    tofino = data["families"][3]
    assert tofino["backends"] == ["mock"]
    assert [c["chipset"] for c in tofino["chipsets"]] == ["tofino1", "tofino2"]
    assert tofino["chipsets"][0]["mtu-max"] == 9216
    assert data["load-errors"] == []
