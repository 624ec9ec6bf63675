"""The driver error taxonomy: refused (ValidationFailed), failed part-way (ApplyFailed),
unreachable (DeviceUnavailable), and no driver at all (DriverUnavailable)."""

from __future__ import annotations

from agent.drivers.ops import Op
from agent.drivers.problems import Problem


class DriverError(Exception):
    """Base class of every error a driver or the driver registry raises."""


class ValidationFailed(DriverError):
    """The ops would leave the device in a state its chip refuses; nothing was applied."""

    def __init__(self, device: str, problems: tuple[Problem, ...]) -> None:
        self.device = device
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"device {device}: configuration refused, {count} {noun}:\n{lines}")


class DeviceUnavailable(DriverError):
    """The device cannot be reached (closed driver, lost control channel, device down)."""

    def __init__(self, device: str, reason: str) -> None:
        self.device = device
        self.reason = reason
        super().__init__(f"device {device} is unavailable: {reason}")


class HardwareFault(DriverError):
    """The hardware refused or failed one operation; the operation left no trace."""

    def __init__(self, device: str, reason: str) -> None:
        self.device = device
        self.reason = reason
        super().__init__(f"device {device}: {reason}")


class ApplyFailed(DriverError):
    """Op ``index`` failed: ops before it stay applied, it and those after it were not."""

    def __init__(self, device: str, index: int, op: Op, cause: DriverError) -> None:
        self.device = device
        self.index = index
        self.op = op
        self.cause = cause
        kept = "no ops were applied" if index == 0 else f"ops 0..{index - 1} remain applied"
        super().__init__(f"device {device}: op {index} ({op.describe()}) failed: {cause}; {kept}")

    @property
    def device_unavailable(self) -> bool:
        return isinstance(self.cause, DeviceUnavailable)


class DriverUnavailable(DriverError):
    """No installed driver can serve a device (unknown chipset or backend, broken plugin)."""


class UnknownChipset(DriverUnavailable):
    """No installed driver family serves this chipset."""

    def __init__(self, chipset: str, known: tuple[str, ...]) -> None:
        self.chipset = chipset
        self.known = known
        listing = ", ".join(known) if known else "none installed"
        super().__init__(f"no driver serves chipset {chipset!r} (known chipsets: {listing})")


class UnknownBackend(DriverUnavailable):
    """The family serving a chipset has no backend of that name."""

    def __init__(self, chipset: str, family: str, backend: str, known: tuple[str, ...]) -> None:
        self.chipset = chipset
        self.family = family
        self.backend = backend
        self.known = known
        super().__init__(
            f"driver family {family} has no backend {backend!r} for chipset {chipset} "
            f"(available: {', '.join(known)})"
        )
