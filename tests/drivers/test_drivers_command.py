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
    assert [row[:2] for row in rows] == [
        ["intel", "e810"],
        ["intel", "ipu-e2000"],
        ["nvidia", "connectx-6"],
        ["nvidia", "connectx-7"],
        ["nvidia", "bluefield-2"],
        ["nvidia", "bluefield-3"],
        ["stratix", "stratix10-dx"],
        ["tofino", "tofino1"],
        ["tofino", "tofino2"],
    ]
    assert all("mock" in row[2].split(",") for row in rows)
    assert "4 driver families, 9 chipset models" in out


def test_json_output(capsys) -> None:
    code, out = _run(capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert [f["name"] for f in data["families"]] == ["intel", "nvidia", "stratix", "tofino"]
    tofino = data["families"][3]
    assert "mock" in tofino["backends"]
    assert [c["chipset"] for c in tofino["chipsets"]] == ["tofino1", "tofino2"]
    assert tofino["chipsets"][0]["mtu-max"] == 9216
    assert data["load-errors"] == []
