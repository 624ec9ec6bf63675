"""Problems that validation finds: which entity, which rule, why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """An error refuses the batch; a warning tells what applying it will do (e.g. a flap)."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: which entity (``kind`` device/port/slice/lag and ``name``), which rule, why."""

    kind: str
    name: str
    rule: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.message} [rule {self.rule}]"
