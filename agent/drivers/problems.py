"""Problems that validation finds: which entity, which rule, why, and which op caused it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """An error refuses the batch; a warning tells what applying it will do (e.g. a flap)."""

    ERROR = "error"
    WARNING = "warning"


Entity = tuple[str, str]
"""An entity as (kind, name): ``("port", "eth1")``, ``("slice", "embb")``, ``("lag", "up")``."""


@dataclass(frozen=True, slots=True)
class OpRef:
    """The op of a validated batch that a problem refuses.

    ``index`` is its position in the batch, ``kind``/``name``/``action`` describe it, and
    ``fields`` are the configuration fields it sets (dataclass field names such as
    ``speed_bps``) that break the rule; empty when the rule is about the whole entity.
    """

    index: int
    kind: str
    name: str
    action: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        fields = "".join(f", {field}" for field in self.fields)
        return f"op {self.index}: {self.kind} {self.name} {self.action}{fields}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: which entity (``kind`` device/port/slice/lag and ``name``), which rule, why.

    Checks say what the rule is about: ``fields`` (the configuration fields whose values
    break it; empty means any) and ``involves`` (other entities whose change can break it,
    such as the member ports of a LAG). The driver fills in ``op``: the op of the batch it
    refuses, so that callers can trace the refusal back to what produced that op.
    """

    kind: str
    name: str
    rule: str
    message: str
    severity: Severity = Severity.ERROR
    fields: tuple[str, ...] = ()
    involves: tuple[Entity, ...] = ()
    op: OpRef | None = None

    @property
    def entities(self) -> tuple[Entity, ...]:
        """The entity the problem is about, then the ones it involves."""
        return ((self.kind, self.name), *self.involves)

    @property
    def summary(self) -> str:
        """``port eth1: <message> [rule <rule>]``, without the op it refuses."""
        return f"{self.kind} {self.name}: {self.message} [rule {self.rule}]"

    def __str__(self) -> str:
        refused = f" (refused {self.op})" if self.op is not None else ""
        return f"{self.summary}{refused}"
