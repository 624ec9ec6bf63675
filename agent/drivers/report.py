"""The report a driver returns from validating a batch of ops."""

from __future__ import annotations

from dataclasses import dataclass

from agent.drivers.errors import ValidationFailed
from agent.drivers.problems import Problem, Severity


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything validation found for one device; ``problems`` holds the errors only."""

    device: str
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_failed(self) -> None:
        """Raises ValidationFailed listing every problem, if there is any."""
        if self.problems:
            raise ValidationFailed(self.device, self.problems)

    @classmethod
    def from_findings(cls, device: str, findings: list[Problem]) -> ValidationReport:
        """Splits findings into errors and warnings, dropping exact duplicates."""
        unique = list(dict.fromkeys(findings))
        return cls(
            device,
            tuple(p for p in unique if p.severity is Severity.ERROR),
            tuple(p for p in unique if p.severity is Severity.WARNING),
        )
