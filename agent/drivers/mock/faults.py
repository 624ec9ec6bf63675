"""Fault injection for the mock: fail the Nth operation, fail ops on a port."""

from __future__ import annotations


class FaultPlan:
    """Which upcoming hardware operations fail.

    Operations are counted from 0 as the mock receives them; ``fail_operation(n)`` makes
    the n-th operation from now fail once. ``fail_port`` makes every operation that
    touches the port fail until ``clear``.
    """

    def __init__(self) -> None:
        self._count = 0
        self._failing_numbers: set[int] = set()
        self._failing_ports: set[str] = set()

    @property
    def operations(self) -> int:
        """How many operations the mock has received so far."""
        return self._count

    def fail_operation(self, n: int = 0) -> None:
        if n < 0:
            raise ValueError("n counts operations from now and cannot be negative")
        self._failing_numbers.add(self._count + n)

    def fail_port(self, port: str) -> None:
        self._failing_ports.add(port)

    def clear(self) -> None:
        self._failing_numbers.clear()
        self._failing_ports.clear()

    def next_failure(self, ports: frozenset[str]) -> str | None:
        """Counts one operation touching ``ports``; returns why it fails, or None."""
        number = self._count
        self._count += 1
        if number in self._failing_numbers:
            self._failing_numbers.discard(number)
            return f"injected fault: hardware operation #{number} failed"
        hit = sorted(ports & self._failing_ports)
        if hit:
            return f"injected fault: operations on port {hit[0]} fail"
        return None
