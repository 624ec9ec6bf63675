"""Validating only what a transaction touched finds exactly what whole-tree validation finds."""

from __future__ import annotations

from typing import Any

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
