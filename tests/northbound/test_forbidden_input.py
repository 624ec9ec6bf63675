"""Input no YANG datastore may hold, sent over a real gRPC channel: characters outside
``yang-char`` (in values and in keys, by every encoding), two list entries with one key,
member names given twice and JSON nested too deep. Each is INVALID_ARGUMENT naming the
path and rule, and a refused Set changes nothing, in the datastore or in hardware."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent.app import build_agent
from agent.datastore.errors import DatastoreError
from agent.gnmi.pb import gnmi_pb2
from agent.schema.engine import SchemaEngine
from agent.schema.json_text import MAX_JSON_DEPTH
from agent.site_file import SiteFileError, default_site_path
from tests.northbound.harness import FAST_SCRYPT, AgentThread, Client, agent_settings, code_of, path

PORT = "/ports/port[name=tor-tf1/1]"
DESCRIPTION = f"{PORT}/config/description"
DEVICES = ("tor-tf1", "spine-tf2", "nic-cx6")


def snapshot(agent: AgentThread, client: Client) -> tuple[Any, ...]:
    """The whole configuration as Get returns it, plus the version and hardware tables."""
    config = json.loads(client.get("/").notification[0].update[0].val.json_val)
    running = agent.agent.datastore.running
    return config, running.version, {d: agent.hardware(d).hw_snapshot() for d in DEVICES}


def invalid(call: Any, *args: Any, **kwargs: Any) -> str:
    """The details of the INVALID_ARGUMENT that ``call(*args, **kwargs)`` ends with."""
    code, details = code_of(lambda: call(*args, **kwargs))
    assert code is grpc.StatusCode.INVALID_ARGUMENT, details
    return details


def proto_update(text: str, value: str) -> Any:
    return gnmi_pb2.Update(path=path(text), val=gnmi_pb2.TypedValue(string_val=value))


@pytest.fixture
def before(agent: AgentThread, admin: Client) -> Any:
    return snapshot(agent, admin)


# --- characters -------------------------------------------------------------------------

FORBIDDEN = ["\x00", "\x01", "\x0b", "\x1b", "\ufdd0", "\ufffe", "\uffff", "\U0001fffe"]


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_forbidden_character_in_a_description_by_every_encoding(
    agent: AgentThread, admin: Client, before: Any, char: str
) -> None:
    text = f"uplink{char}"
    quoted = json.dumps(text).encode()  # \u escapes, as JSON clients send them
    attempts = [
        lambda: admin.set(update=[(DESCRIPTION, quoted)]),
        lambda: admin.set(update=[(DESCRIPTION, quoted)], ietf=True),
        lambda: admin.set(update=[(f"{PORT}/config", b'{"description": ' + quoted + b"}")]),
        lambda: admin.set_request(gnmi_pb2.SetRequest(update=[proto_update(DESCRIPTION, text)])),
    ]
    for attempt in attempts:
        details = invalid(attempt)
        assert "/ports/port[name=tor-tf1/1]/config/description" in details
        assert "[character]" in details and f"U+{ord(char):04X}" in details
    assert snapshot(agent, admin) == before


def test_lone_surrogate_from_a_json_escape_is_refused(
    agent: AgentThread, admin: Client, before: Any
) -> None:
    details = invalid(lambda: admin.set(update=[(DESCRIPTION, b'"a\\ud800b"')]))
    assert "U+D800" in details and "[character]" in details
    assert snapshot(agent, admin) == before


def test_nul_in_a_list_key_in_the_path(agent: AgentThread, admin: Client, before: Any) -> None:
    key = "tor-tf1/1\x00"
    config = {"name": key, "device": "tor-tf1", "index": 30}
    attempts = [
        lambda: admin.set(update=[(f"/ports/port[name={key}]/config/mtu", b"1500")]),
        lambda: admin.set(
            replace=[(f"/ports/port[name={key}]/config", json.dumps(config).encode())]
        ),
        lambda: admin.set(delete=[f"/ports/port[name={key}]"]),
        lambda: admin.set_request(
            gnmi_pb2.SetRequest(
                update=[proto_update(f"/ports/port[name={key}]/config/fec", "rs528")]
            )
        ),
    ]
    for attempt in attempts:
        details = invalid(attempt)
        assert "U+0000" in details and "RFC 7950 9.4" in details
    assert snapshot(agent, admin) == before


def test_nul_in_a_list_key_in_the_payload(agent: AgentThread, admin: Client, before: Any) -> None:
    key = "new\x00port"
    entry = {"name": key, "config": {"name": key, "device": "tor-tf1", "index": 30}}
    details = invalid(
        lambda: admin.set(update=[("/ports", json.dumps({"port": [entry]}).encode())])
    )
    assert "/ports/port[name=new\\u0000port]/name" in details and "[character]" in details
    details = invalid(lambda: admin.set(update=[("/ports/port", json.dumps([entry]).encode())]))
    assert "[character]" in details
    assert snapshot(agent, admin) == before


def test_allowed_control_characters_are_stored(admin: Client) -> None:
    text = "line 1\r\n\tline 2 \x7f\x85 \U0001f600"
    admin.set(update=[(DESCRIPTION, json.dumps(text).encode())])
    got = admin.get(DESCRIPTION).notification[0].update[0].val.json_val
    assert json.loads(got) == text


# --- duplicates -------------------------------------------------------------------------


def test_two_entries_with_one_key_are_refused(
    agent: AgentThread, admin: Client, before: Any
) -> None:
    ports = [{"name": p["name"], "config": p["config"]} for p in before[0]["ports"]["port"]]
    again = {"name": "tor-tf1/1", "config": {**ports[0]["config"], "mtu": 1600}}
    for target, value in (
        ("/ports/port", [*ports, again]),
        ("/ports", {"port": [*ports, again]}),
    ):
        for op in ("replace", "update"):
            details = invalid(admin.set, **{op: [(target, json.dumps(value).encode())]})
            assert "/ports/port[name=tor-tf1/1]" in details
            assert "list 'port'" in details and "name='tor-tf1/1'" in details
            assert "[key]" in details
    assert snapshot(agent, admin) == before


def test_two_members_with_one_key_are_refused(
    agent: AgentThread, admin: Client, before: Any
) -> None:
    member = {"port": "nic-cx6/1", "config": {"port": "nic-cx6/1"}}
    target = "/slices/slice[name=miot]/members/member"
    details = invalid(lambda: admin.set(replace=[(target, json.dumps([member, member]).encode())]))
    assert "member[port=nic-cx6/1]" in details and "list 'member'" in details
    assert snapshot(agent, admin) == before


@pytest.mark.parametrize("ietf", [False, True])
def test_a_member_name_given_twice_is_refused(
    agent: AgentThread, admin: Client, before: Any, ietf: bool
) -> None:
    for target, text in (
        (f"{PORT}/config", b'{"mtu": 1500, "mtu": 9000}'),
        (f"{PORT}/config/mtu", b'{"mtu": 1500, "mtu": 9000}'),
        (DESCRIPTION, b'{"description": "a", "description": "b"}'),
    ):
        details = invalid(admin.set, update=[(target, text)], ietf=ietf)
        assert "appears twice" in details
    assert snapshot(agent, admin) == before


# --- depth ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/", "/ports", f"{PORT}/config", DESCRIPTION])
def test_very_deep_json_is_invalid_argument(
    agent: AgentThread, admin: Client, before: Any, target: str
) -> None:
    for text in (b"[" * 100_000, b'{"a":' * 100_000):
        details = invalid(admin.set, update=[(target, text)])
        assert f"at most {MAX_JSON_DEPTH}" in details
    assert snapshot(agent, admin) == before  # and the agent still answers


def test_deep_but_allowed_json_is_an_ordinary_refusal(
    agent: AgentThread, admin: Client, before: Any
) -> None:
    inner = b"[" * (MAX_JSON_DEPTH - 1) + b'"x"' + b"]" * (MAX_JSON_DEPTH - 1)
    for target, text in (
        (DESCRIPTION, b"[" + inner + b"]"),
        (f"{PORT}/config", b'{"description": ' + inner + b"}"),
    ):
        details = invalid(admin.set, update=[(target, text)])
        assert "at most" not in details
    assert snapshot(agent, admin) == before


# --- all or nothing ---------------------------------------------------------------------


def test_one_bad_operation_refuses_the_whole_set(
    agent: AgentThread, admin: Client, before: Any
) -> None:
    details = invalid(
        lambda: admin.set(
            update=[
                (f"{PORT}/config/mtu", b"1600"),
                ("/ports/port[name=tor-tf1/2/0]/config/description", b'"a\\u0000"'),
            ]
        )
    )
    assert details.startswith("operation 1 ")
    assert snapshot(agent, admin) == before


# --- files read at start ----------------------------------------------------------------


def _site_file(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True)
    site = directory / "site.json"
    site.write_text(text, encoding="utf-8")
    return site


def test_a_site_file_with_forbidden_input_does_not_start(
    engine: SchemaEngine, tmp_path: Path
) -> None:
    good = default_site_path().read_text(encoding="utf-8")
    tree = json.loads(good)
    tree["edge-ports:ports"]["port"][0]["config"]["description"] = "a\x00b"
    cases: list[tuple[str, type[Exception], str]] = [
        (json.dumps(tree), DatastoreError, "[character]"),
        (good.replace("{", '{"x": 1, "x": 2, ', 1), SiteFileError, "appears twice"),
        ('{"edge-ports:ports": ' + "[" * 100_000, SiteFileError, "nested 100001 deep"),
    ]
    for number, (text, error, words) in enumerate(cases):
        settings = agent_settings(
            tmp_path / f"state-{number}", site=_site_file(tmp_path / str(number), text)
        )
        agent = build_agent(settings, scrypt=FAST_SCRYPT, schema=engine)
        with pytest.raises(error) as excinfo:
            asyncio.run(agent.start())
        assert words in str(excinfo.value)
