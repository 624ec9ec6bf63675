"""Reading JSON text that comes from outside (clients, configuration files) safely.

Two things plain ``json.loads`` does not refuse are refused here:

- nesting deeper than MAX_JSON_DEPTH arrays/objects, measured before parsing by a
  linear scan (so a megabyte of ``[`` answers at once instead of exhausting the stack);
- a member name given twice in one object (``json.loads`` would keep the last one).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from itertools import accumulate, count
from typing import Any, Final

MAX_JSON_DEPTH: Final = 64
"""The most arrays/objects a JSON text may nest (the outermost one counts as 1). Our data
model is about 10 levels deep; the limit leaves room for any valid value while keeping
every later (recursive) step far from Python's recursion limit."""

# A JSON string, or an unterminated one up to the end of the text (so a scan never
# restarts inside it); possessive, so it never backtracks: linear in the text's length.
_STRING: Final = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]++")
# Openers count +1 and closers -1 once 1 is taken off every step (bytes are unsigned).
_STEPS: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class JsonRefused(ValueError):
    """JSON text refused for its structure: too deep, or a member name given twice."""


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of ``text`` nest (0 for a scalar), without
    parsing it; brackets inside strings do not count. Linear time, no recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    steps = brackets.encode("ascii").translate(_STEPS)
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


def parse_json(
    text: str,
    *,
    parse_float: Callable[[str], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads(text)`` that raises JsonRefused for nesting deeper than
    MAX_JSON_DEPTH or a duplicated member name (json.JSONDecodeError for bad syntax)."""
    # Fewer openers than the limit cannot nest deeper than it: most values skip the scan.
    few = text.count("[") + text.count("{") <= MAX_JSON_DEPTH
    depth = 0 if few else json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise JsonRefused(f"arrays/objects nested {depth} deep; at most {MAX_JSON_DEPTH} allowed")
    return json.loads(
        text,
        parse_float=parse_float,
        parse_constant=parse_constant,
        object_pairs_hook=unique_members,
    )


def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An ``object_pairs_hook`` that refuses an object with a member name given twice."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise JsonRefused(f"member {name!r} appears twice in one object")
            seen.add(name)
    return members
