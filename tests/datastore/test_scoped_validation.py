"""Validating only what a transaction touched finds exactly what whole-tree validation finds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.datastore.diff import diff_trees
from agent.datastore.errors import DatastoreError
from agent.datastore.scoped_validation import ScopedValidator
from agent.datastore.tree import TreeOps
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from tests.datastore.harness import default_site
from tests.datastore.test_properties import EDITS, PORTS

SITE = default_site()

# Edits aimed at the rules only the whole tree can see: references and uniqueness.
CROSS = st.one_of(
    st.builds(
        lambda p, i, c: DataPath.parse(f"/ports/port[name={p}]/config").child("index"),
        st.sampled_from(PORTS),
        st.integers(1, 4),
        st.integers(0, 3),
    ).map(lambda path: ("update", path, 1)),
    st.builds(
        lambda p, c: (f"/ports/port[name={p}]/config/channel", c),
        st.sampled_from(PORTS),
        st.integers(0, 3),
    ).map(lambda pv: ("update", DataPath.parse(pv[0]), pv[1])),
    st.sampled_from(["tor-tf1", "nic-cx6", "ipu-e2k"]).map(
        lambda d: ("delete", DataPath.parse(f"/platform/devices/device[name={d}]"), None)
    ),
    st.builds(
        lambda p, d: ("update", DataPath.parse(f"/ports/port[name={p}]/config/device"), d),
        st.sampled_from(PORTS),
        st.sampled_from(["tor-tf1", "ghost"]),
    ),
    st.builds(
        lambda s, sd: ("update", DataPath.parse(f"/slices/slice[name={s}]/config/sd"), sd),
        st.sampled_from(["embb", "urllc", "miot"]),
        st.sampled_from(["000001", "000002"]),
    ),
)


def _apply(ops: TreeOps, tree: dict[str, Any], edit: Any) -> dict[str, Any]:
    if isinstance(edit, tuple):
        kind, path, value = edit
        return ops.delete(tree, path) if kind == "delete" else ops.update(tree, path, value)
    if edit.kind.value == "delete":
        return ops.delete(tree, edit.path)
    return ops.update(tree, edit.path, edit.value)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(st.one_of(EDITS, CROSS), min_size=1, max_size=5))
def test_scoped_equals_full_validation(engine: SchemaEngine, edits: list[Any]) -> None:
    ops = TreeOps(engine.nav)
    candidate = SITE
    for edit in edits:
        try:
            candidate = _apply(ops, candidate, edit)
        except DatastoreError:
            continue
    scoped = ScopedValidator(engine).refusals(
        SITE, candidate, diff_trees(SITE, candidate, engine.nav)
    )
    full = engine.refusals(candidate)
    assert bool(scoped) == bool(full), (scoped, full)
    assert sorted({r.rule for r in scoped}) == sorted({r.rule for r in full})
    # the same problems, modulo which entry of a colliding pair is named
    assert len(scoped) == len(full)


def _one_change(engine: SchemaEngine, path: str, value: Any) -> tuple[Any, Any]:
    candidate = TreeOps(engine.nav).update(SITE, DataPath.parse(path), value)
    return candidate, diff_trees(SITE, candidate, engine.nav)


def test_new_values_of_free_leaves_are_checked_without_building_a_tree(
    engine: SchemaEngine, monkeypatch: Any
) -> None:
    validator = ScopedValidator(engine)
    port = PORTS[0]
    edits = [  # leaves the site holds, given new values
        (f"/ports/port[name={port}]/config/mtu", 1600),
        (f"/ports/port[name={port}]/config/fec", "none"),
        (f"/ports/port[name={PORTS[1]}]/config/mtu", 9216),
    ]
    candidate = SITE
    ops = TreeOps(engine.nav)
    for path, value in edits:
        candidate = ops.update(candidate, DataPath.parse(path), value)
    changes = diff_trees(SITE, candidate, engine.nav)
    assert len(changes) == 3
    assert engine.refusals(candidate) == ()
    # a free leaf the site does not hold yet: it appears, so the tree is checked
    added, added_changes = _one_change(engine, f"/ports/port[name={port}]/config/enabled", False)

    def no_tree(*_: Any, **__: Any) -> Any:
        raise AssertionError("validated as a tree")

    monkeypatch.setattr(engine, "refusals", no_tree)
    assert validator.refusals(SITE, candidate, changes) == ()
    with pytest.raises(AssertionError, match="validated as a tree"):
        validator.refusals(SITE, added, added_changes)


def test_values_outside_the_type_and_constrained_leaves_get_the_full_check(
    engine: SchemaEngine,
) -> None:
    validator = ScopedValidator(engine)
    port = PORTS[0]
    cases = [
        (f"/ports/port[name={port}]/config/mtu", 70000),  # outside uint16
        (f"/ports/port[name={port}]/config/mtu", "9000"),  # not canonical JSON
        (f"/ports/port[name={port}]/config/speed", "no-such-speed"),
        (f"/ports/port[name={port}]/config/index", 1),  # in a unique statement
        ("/slices/slice[name=embb]/config/max-rate-bps", "1"),  # has a must
        ("/slices/slice[name=embb]/config/min-rate-bps", "1000000000000"),  # a must names it
    ]
    for path, value in cases:
        candidate, changes = _one_change(engine, path, value)
        scoped = validator.refusals(SITE, candidate, changes)
        full = engine.refusals(candidate)
        assert [r.rule for r in scoped] == [r.rule for r in full], path
        assert [r.message for r in scoped] == [r.message for r in full], path
    bad, changes = _one_change(engine, f"/ports/port[name={port}]/config/mtu", 70000)
    assert validator.refusals(SITE, bad, changes), "an MTU outside uint16 passed"
