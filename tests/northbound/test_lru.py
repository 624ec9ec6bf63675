"""The bounded LRU map behind the Get caches."""

from __future__ import annotations

import pytest

from agent.northbound.lru import Lru


def test_least_recently_used_goes_first() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_weight_budget() -> None:
    cache: Lru[str, str] = Lru(10, budget=10, weigh=len)
    cache.put("a", "xxxx")
    cache.put("b", "yyyy")
    cache.put("c", "zzzz")  # 12 > 10: "a" goes
    assert cache.get("a") is None and cache.get("b") == "yyyy"
    assert cache.weight == 8
    cache.put("huge", "q" * 11)  # bigger than the whole budget: not kept, nothing evicted
    assert cache.get("huge") is None and cache.weight == 8
    cache.put("b", "yy")  # replacing re-weighs
    assert cache.weight == 6


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Lru(0)
