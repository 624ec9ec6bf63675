"""JSON text from outside: the nesting limit (found by a linear scan, before parsing) and
member names given twice."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agent.schema.json_text import MAX_JSON_DEPTH, JsonRefused, json_depth, parse_json


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[{"', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a\\"[[": ["\\\\", "]]]"]}', 2),  # escaped quotes and backslashes in strings
        ('["\\u005b", "[", "\\"["]', 1),
        ('"unterminated [[[[', 0),
        ('"ends in a backslash \\', 0),
        ("[[[[", 4),  # not JSON, but the scan still measures it
    ],
)
def test_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert json_depth(text) == depth


def test_the_limit_is_inclusive() -> None:
    assert parse_json(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))
    with pytest.raises(JsonRefused, match=f"nested {MAX_JSON_DEPTH + 1} deep"):
        parse_json(nested(MAX_JSON_DEPTH + 1))
    deep_objects = '{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(JsonRefused):
        parse_json(deep_objects)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000,
        '["x",' * 100_000,
    ],
    ids=["open", "balanced", "objects", "with-strings"],
)
def test_very_deep_text_is_refused_without_recursion(text: str) -> None:
    with pytest.raises(JsonRefused, match="nested 100000 deep"):
        parse_json(text)


def test_many_brackets_in_strings_are_not_nesting() -> None:
    text = json.dumps({"description": "[" * 10_000, "list": [["x"]] * 1000})
    assert parse_json(text)["description"] == "[" * 10_000


def test_pathological_unterminated_strings_are_scanned_once() -> None:
    # Each quote would start a new scan to the end if unterminated strings restarted it.
    assert json_depth('"' + '\\"' * 200_000 + "[[") == 0
    assert json_depth("[" + '"\\' * 200_000) == 1


@pytest.mark.parametrize(
    "text",
    ['{"mtu": 1500, "mtu": 9000}', '[{"a": {"b": 1, "c": 2, "b": 3}}]'],
)
def test_a_member_name_given_twice_is_refused(text: str) -> None:
    with pytest.raises(JsonRefused, match="appears twice"):
        parse_json(text)


def test_same_name_in_different_objects_is_fine() -> None:
    assert parse_json('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]


def test_parse_options_are_passed_on() -> None:
    assert parse_json("[1.50]", parse_float=Decimal) == [Decimal("1.50")]
    with pytest.raises(json.JSONDecodeError):
        parse_json("[1,")
