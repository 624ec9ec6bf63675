"""Set values the decode layer refuses for their JSON structure: nesting beyond the limit
and member names given twice, for every way JSON reaches it (json_val, json_ietf_val, the
deprecated Value), never read as raw text instead."""

from __future__ import annotations

import grpc
import pytest

from agent.gnmi.encoding import Encoding, decode_update, decode_value
from agent.gnmi.errors import GnmiError
from agent.gnmi.json_value import JsonStructureError, JsonTextError, load_json
from agent.gnmi.pb import gnmi_pb2
from agent.schema.engine import SchemaEngine
from agent.schema.json_text import MAX_JSON_DEPTH
from agent.schema.path import DataPath

P = DataPath.parse
PORT = "/ports/port[name=tor-tf1/1]"
CONFIG = f"{PORT}/config"
DESCRIPTION = f"{PORT}/config/description"
DEEP = b"[" * 100_000


def refusal(engine: SchemaEngine, path: str, **value: bytes) -> str:
    with pytest.raises(GnmiError) as excinfo:
        decode_value(P(path), gnmi_pb2.TypedValue(**value), engine)
    assert excinfo.value.code is grpc.StatusCode.INVALID_ARGUMENT, excinfo.value
    return excinfo.value.message


@pytest.mark.parametrize("kind", ["json_val", "json_ietf_val"])
@pytest.mark.parametrize("path", ["/", "/ports", CONFIG, DESCRIPTION, f"{PORT}/config/mtu"])
def test_deep_json_is_invalid_argument(engine: SchemaEngine, kind: str, path: str) -> None:
    message = refusal(engine, path, **{kind: DEEP})
    assert f"at most {MAX_JSON_DEPTH}" in message


@pytest.mark.parametrize(
    "text", [b'{"a":' * 100_000, b'["x",' * 100_000, b"[" * 100_000 + b"]" * 100_000]
)
def test_every_shape_of_deep_json_is_refused(engine: SchemaEngine, text: bytes) -> None:
    assert "nested 100000 deep" in refusal(engine, CONFIG, json_val=text)


def test_deep_json_in_the_deprecated_value_field_is_refused(engine: SchemaEngine) -> None:
    update = gnmi_pb2.Update(
        path=gnmi_pb2.Path(), value=gnmi_pb2.Value(value=DEEP, type=Encoding.JSON)
    )
    with pytest.raises(GnmiError) as excinfo:
        decode_update(P(CONFIG), update, engine)
    assert excinfo.value.code is grpc.StatusCode.INVALID_ARGUMENT


def nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


@pytest.mark.parametrize(
    ("path", "kind", "text"),
    [
        (DESCRIPTION, "json_val", nested(MAX_JSON_DEPTH)),
        (CONFIG, "json_val", b'{"mtu": ' + nested(MAX_JSON_DEPTH - 1) + b"}"),
        ("/", "json_ietf_val", b'{"edge-ports:ports": {"port": ' + nested(62) + b"}}"),
        ("/", "json_ietf_val", b'{"edge-ports:gadget": ' + nested(MAX_JSON_DEPTH - 1) + b"}"),
    ],
)
def test_deep_but_allowed_json_is_an_ordinary_refusal(
    engine: SchemaEngine, path: str, kind: str, text: bytes
) -> None:
    message = refusal(engine, path, **{kind: text})
    assert "at most" not in message  # within the limit: refused for its type or shape


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (CONFIG, b'{"mtu": 1500, "mtu": 9000}'),
        ("/ports", b'{"port": [{"name": "a", "name": "b"}]}'),
        (f"{PORT}/config/mtu", b'{"mtu": 1500, "mtu": 9000}'),
        (DESCRIPTION, b'{"description": "a", "description": "b"}'),  # not taken as raw text
    ],
)
def test_a_member_name_given_twice_is_invalid_argument(
    engine: SchemaEngine, path: str, text: bytes
) -> None:
    for kind in ("json_val", "json_ietf_val"):
        assert "appears twice" in refusal(engine, path, **{kind: text})


@pytest.mark.parametrize("text", [b"[draft] uplink", b"NaN", b"{not json"])
def test_raw_text_for_a_string_is_still_accepted(engine: SchemaEngine, text: bytes) -> None:
    assert decode_value(P(DESCRIPTION), gnmi_pb2.TypedValue(json_val=text), engine) == (
        text.decode()
    )


def test_load_json_reports_structure_separately() -> None:
    for text in (b'{"a":1,"a":2}', DEEP):
        with pytest.raises(JsonStructureError):
            load_json(text)
    with pytest.raises(JsonTextError) as excinfo:
        load_json(b"[1,")
    assert not isinstance(excinfo.value, JsonStructureError)
