"""JSON values as Python objects, and JSON text in and out.

Numbers that are not integers are read as :class:`decimal.Decimal`, so decimal64 values
keep every digit; Decimals are written back as JSON numbers with the same digits. Text
nested deeper than ``agent.schema.json_text.MAX_JSON_DEPTH`` or with a member name given
twice is refused.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeAlias

from agent.schema.json_text import JsonRefused, parse_json

JsonValue: TypeAlias = (
    bool | int | float | Decimal | str | list["JsonValue"] | dict[str, "JsonValue"] | None
)
"""A JSON value: what ``json.loads`` returns, plus Decimal for non-integer numbers."""


class JsonTextError(ValueError):
    """Text that is not a single well-formed JSON value."""


class JsonStructureError(JsonTextError):
    """JSON text refused for its structure: nested deeper than MAX_JSON_DEPTH or with a
    member name given twice. Such text is meant as JSON, never as a raw string."""


def load_json(text: bytes | str) -> JsonValue:
    """Parses JSON text (UTF-8 when bytes). NaN and Infinity are refused with
    JsonTextError; nesting deeper than MAX_JSON_DEPTH and duplicate member names with
    JsonStructureError."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        value: JsonValue = parse_json(decoded, parse_float=Decimal, parse_constant=_refuse_constant)
    except JsonRefused as exc:
        raise JsonStructureError(str(exc)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonTextError(str(exc)) from exc
    return value


def dump_json(value: JsonValue) -> bytes:
    """Compact UTF-8 JSON text for ``value``; Decimals become numbers, not strings."""
    try:
        text = json.dumps(
            value,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
            default=_no_default,
        )
    except _DecimalFoundError:
        text = "".join(_write(value))
    return text.encode("utf-8")


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain digits (no exponent), e.g. ``Decimal('1E+2')`` -> ``'100'``."""
    return format(value, "f")


class _DecimalFoundError(Exception):
    pass


def _no_default(value: object) -> Any:
    if isinstance(value, Decimal):
        raise _DecimalFoundError
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _refuse_constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not a JSON number")


def _write(value: JsonValue) -> list[str]:
    parts: list[str] = []
    _write_into(value, parts)
    return parts


def _write_into(value: JsonValue, parts: list[str]) -> None:
    if isinstance(value, dict):
        parts.append("{")
        for index, (name, member) in enumerate(value.items()):
            if index:
                parts.append(",")
            parts.append(json.dumps(name, ensure_ascii=False))
            parts.append(":")
            _write_into(member, parts)
        parts.append("}")
    elif isinstance(value, list):
        parts.append("[")
        for index, element in enumerate(value):
            if index:
                parts.append(",")
            _write_into(element, parts)
        parts.append("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        parts.append(decimal_text(value))
    else:
        parts.append(json.dumps(value, ensure_ascii=False, allow_nan=False))
