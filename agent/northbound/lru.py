"""A small thread-safe least-recently-used map for the Get caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """At most ``size`` entries and ``budget`` total weight (a ``put`` may give an entry's
    weight, else ``weigh`` measures the value, else it weighs 1); the least recently used
    entries go first."""

    def __init__(
        self, size: int, *, budget: int | None = None, weigh: Callable[[V], int] | None = None
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._budget = budget
        self._weigh = weigh
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, *, weight: int | None = None) -> None:
        """Stores ``value`` unless it alone exceeds the budget."""
        if weight is None:
            weight = self._weigh(value) if self._weigh is not None else 1
        if self._budget is not None and weight > self._budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._entries[key] = (value, weight)
            self._weight += weight
            while len(self._entries) > self._size or (
                self._budget is not None and self._weight > self._budget
            ):
                _, (_, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def weight(self) -> int:
        """The total weight of the entries."""
        return self._weight
