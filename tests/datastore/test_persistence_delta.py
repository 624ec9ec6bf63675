"""Journal deltas: replaying the delta of two trees on the first gives the second, exactly
(list order and value types included), through a JSON round trip as on disk."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.datastore.journal_delta import DeltaError, apply_delta, tree_delta

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=40,
)
TREES = st.dictionaries(st.text(max_size=2), VALUES, max_size=4)


def edited(value: Any, rng: random.Random) -> Any:
    """A copy-on-write edit of ``value``: a new object on the path to each change, the
    untouched parts shared, as the datastore's trees are."""
    if isinstance(value, dict) and rng.random() < 0.9:
        new = dict(value)
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if new and roll < 0.5:
                key = rng.choice(list(new))
                new[key] = edited(new[key], rng)
            elif new and roll < 0.7:
                del new[rng.choice(list(new))]
            else:
                new[rng.choice("abcxyz")] = rng.choice([1, "v", None, [], {}, [1, 2], True])
        return new
    if isinstance(value, list) and rng.random() < 0.9:
        new = list(value)
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if new and roll < 0.4:
                n = rng.randrange(len(new))
                new[n] = edited(new[n], rng)
            elif new and roll < 0.6:
                del new[rng.randrange(len(new))]
            elif new and roll < 0.7:
                rng.shuffle(new)
            else:
                new.insert(rng.randint(0, len(new)), {"k": rng.randint(0, 9)})
        return new
    return rng.choice([0, 1, True, False, "x", None, 1.5, [3], {"n": 1}])


def exact(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def replayed(old: Any, delta: list[Any]) -> Any:
    tree = json.loads(json.dumps(old))
    apply_delta(tree, json.loads(json.dumps(delta)))
    return tree


@settings(max_examples=400, deadline=None)
@given(TREES, st.randoms(use_true_random=False), st.integers(1, 4))
def test_replaying_a_delta_gives_the_new_tree_exactly(
    old: dict[str, Any], rng: random.Random, rounds: int
) -> None:
    new = old
    for _ in range(rounds):
        new = edited(new, rng)
        if not isinstance(new, dict):
            new = {"root": new}
    assert exact(replayed(old, tree_delta(old, new))) == exact(new)


def test_shared_subtrees_cost_nothing_and_one_leaf_is_one_operation() -> None:
    ports = [{"name": f"p{n}", "config": {"mtu": 1500}} for n in range(1000)]
    old = {"ports": {"port": ports}}
    changed = list(ports)
    changed[500] = {**ports[500], "config": {"mtu": 9000}}
    new = {"ports": {"port": changed}}

    assert tree_delta(old, old) == []
    assert tree_delta(old, new) == [["=", ["ports", "port", 500, "config", "mtu"], 9000]]


def test_inserted_and_removed_entries_are_splices_of_those_entries_only() -> None:
    ports = [{"name": f"p{n}"} for n in range(1000)]
    added = {"name": "new"}
    new = {"port": ports[:10] + ports[11:700] + [added] + ports[700:]}

    delta = tree_delta({"port": ports}, new)

    assert delta == [["s", ["port"], 700, 700, [added]], ["s", ["port"], 10, 11, []]]
    assert exact(replayed({"port": ports}, delta)) == exact(new)


@pytest.mark.parametrize(
    ("tree", "delta", "problem"),
    [
        ({"a": 1}, [["-", ["b"]]], "no node at /b"),
        ({"a": [1]}, [["=", ["a", 3], 2]], "no node at /a/3"),
        ({"a": [1]}, [["s", ["a"], 0, 5, []]], "outside the list"),
        ({"a": 1}, [["s", ["a"], 0, 0, []]], "no list at /a"),
        ({"a": 1}, [["?", ["a"]]], "not an operation"),
        ({"a": 1}, ["junk"], "not an operation"),
        ({"a": 1}, [["=", [], 2]], "the root itself"),
        ({"a": {"b": 1}}, [["=", ["a", "b", "c"], 2]], "no node at /a/b"),
    ],
)
def test_a_delta_that_does_not_fit_says_where(tree: Any, delta: Any, problem: str) -> None:
    with pytest.raises(DeltaError, match=problem):
        apply_delta(tree, [["=", ["ok"], 1], *delta])
