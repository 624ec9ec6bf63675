"""Counters that accumulate lazily from constant rates between changes."""

from __future__ import annotations

NS_PER_S = 1_000_000_000


class Meter:
    """A vector of counters, each growing at ``rate / divisor`` units per second.

    Values are computed when read: ``base + rate * elapsed // (divisor * 1e9)``, exactly,
    so reading never accumulates rounding. Changing the rates folds the elapsed segment
    into the base first, which keeps every counter monotonic.
    """

    __slots__ = ("_base", "_divisors", "_rates", "_since_ns")

    def __init__(self, divisors: tuple[int, ...], now_ns: int) -> None:
        self._divisors = tuple(divisor * NS_PER_S for divisor in divisors)  # per ns
        self._base = (0,) * len(divisors)
        self._rates = (0,) * len(divisors)
        self._since_ns = now_ns

    def values(self, now_ns: int) -> tuple[int, ...]:
        """The counters at ``now_ns`` (a monotonic reading)."""
        elapsed = now_ns - self._since_ns
        if elapsed <= 0:
            return self._base
        return tuple(
            [
                base + rate * elapsed // divisor
                for base, rate, divisor in zip(self._base, self._rates, self._divisors, strict=True)
            ]
        )

    def set_rates(self, now_ns: int, rates: tuple[int, ...]) -> None:
        """From ``now_ns`` on, the counters grow at ``rates`` (same order as the divisors)."""
        if rates == self._rates:
            return
        self._base = self.values(now_ns)
        self._since_ns = now_ns
        self._rates = rates
