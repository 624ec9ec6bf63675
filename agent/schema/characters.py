"""The characters a YANG string may hold, and a safe rendering of text for messages.

RFC 7950 section 9.4 and the ``yang-char`` rule of its ABNF (section 14): a YANG string
holds any Unicode character except

- the C0 control characters U+0000-U+001F other than tab (U+0009), line feed (U+000A)
  and carriage return (U+000D),
- the surrogate code points U+D800-U+DFFF,
- the noncharacters U+FDD0-U+FDEF and the last two code points of every plane
  (U+FFFE, U+FFFF, U+1FFFE, U+1FFFF, ... U+10FFFE, U+10FFFF).

Everything else is allowed, as the ABNF says (its range ``%x20-D7FF`` includes DEL
U+007F and the C1 controls U+0080-U+009F). Every value of every YANG type is written with
these characters, so a value holding another one is refused whatever the leaf's type.
"""

from __future__ import annotations

import re
from typing import Final

_PLANES: Final = range(0x11)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{chr(low)}-{chr(high)}" if low != high else chr(low) for low, high in ranges)


_FORBIDDEN_RANGES: Final = (
    (0x00, 0x08),
    (0x0B, 0x0C),
    (0x0E, 0x1F),
    (0xD800, 0xDFFF),
    (0xFDD0, 0xFDEF),
    *((plane * 0x10000 + 0xFFFE, plane * 0x10000 + 0xFFFF) for plane in _PLANES),
)
_FORBIDDEN: Final = re.compile(f"[{_char_class(_FORBIDDEN_RANGES)}]")
# Shown escaped in messages: the forbidden characters plus every other control
# character (tab, LF, CR, DEL, C1), so that a value never reaches a log line or terminal
# as anything but printable text.
_UNSHOWN: Final = re.compile(
    f"[{_char_class((*_FORBIDDEN_RANGES, (0x09, 0x0A), (0x0D, 0x0D), (0x7F, 0x9F)))}]"
)

CHARACTER_RULE: Final = (
    "YANG strings exclude C0 controls other than tab, LF and CR, surrogates and "
    "noncharacters (RFC 7950 9.4)"
)
"""The rule in one sentence, as refusals quote it."""


def forbidden_character(text: str) -> int | None:
    """The index of the first character of ``text`` that no YANG string may hold."""
    found = _FORBIDDEN.search(text)
    return found.start() if found is not None else None


def character_problem(text: str) -> str | None:
    """Why ``text`` cannot be a YANG value (a sentence naming the character), or None."""
    index = forbidden_character(text)
    if index is None:
        return None
    return f"{code_point(text[index])} at offset {index} is not allowed: {CHARACTER_RULE}"


def code_point(char: str) -> str:
    """``U+0000`` notation of one character."""
    return f"U+{ord(char):04X}"


def visible(text: str) -> str:
    """``text`` with control characters, surrogates and noncharacters written as
    ``\\uXXXX`` (or ``\\UXXXXXXXX``) escapes."""
    return _UNSHOWN.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    number = ord(found.group())
    return f"\\u{number:04x}" if number <= 0xFFFF else f"\\U{number:08x}"
