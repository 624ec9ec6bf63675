"""Refusals: why a configuration is not acceptable, each with its path and rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.schema.characters import visible
from agent.schema.path import DataPath

MAX_SHOWN = 80


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters with a note of how much was left out, so a
    huge bad value never floods a message."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class Rule(StrEnum):
    """The kind of constraint a refusal reports."""

    TYPE = "type"
    CHARACTER = "character"  # a character no YANG string may hold (RFC 7950 9.4)
    RANGE = "range"
    LENGTH = "length"
    PATTERN = "pattern"
    ENUM = "enum"
    IDENTITY = "identity"
    LEAFREF = "leafref"
    UNIQUE = "unique"
    MUST = "must"
    WHEN = "when"
    MANDATORY = "mandatory"
    KEY = "key"
    DUPLICATE = "duplicate"  # one member given twice (with and without its module)
    UNKNOWN_NODE = "unknown-node"
    STATE_IN_CONFIG = "state-in-config"
    CARDINALITY = "cardinality"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reason the data is refused: where, which rule, and a sentence for people."""

    path: DataPath
    rule: Rule
    message: str

    def __str__(self) -> str:
        """One line: control characters and the like in the path or message are escaped."""
        return visible(f"{self.path}: {self.message} [{self.rule}]")


class ValidationFailed(ValueError):
    """Raised when data breaks the schema; carries every refusal found."""

    def __init__(self, refusals: tuple[Refusal, ...]) -> None:
        self.refusals = refusals
        lines = "; ".join(str(r) for r in refusals[:5])
        more = f" (and {len(refusals) - 5} more)" if len(refusals) > 5 else ""
        super().__init__(f"{len(refusals)} refusal(s): {lines}{more}")
