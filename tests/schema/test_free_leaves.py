"""Which leaves may be validated on their own: only those no constraint looks at."""

from __future__ import annotations

from agent.schema.engine import SchemaEngine
from agent.schema.free_leaves import FreeLeaves
from agent.schema.path import DataPath


def _free(engine: SchemaEngine, path: str) -> bool:
    info = engine.nav.root
    for elem in DataPath.parse(path).elems:
        found = engine.nav.child(info, elem.name)
        assert found is not None, path
        info = found
    return FreeLeaves(engine.nav.root.node).is_free(info)


def test_plain_numbers_booleans_and_enumerations_are_free(engine: SchemaEngine) -> None:
    for path in (
        "/ports/port/config/mtu",
        "/ports/port/config/enabled",
        "/ports/port/config/fec",
        "/slices/slice/config/priority",
        "/platform/devices/device/config/enabled",
    ):
        assert _free(engine, path), path


def test_leaves_a_constraint_looks_at_are_not_free(engine: SchemaEngine) -> None:
    for path, why in (
        ("/slices/slice/config/max-rate-bps", "carries a must"),
        ("/slices/slice/config/min-rate-bps", "named by another leaf's must"),
        ("/platform/devices/device/config/chipset", "named by a when"),
        ("/ports/port/config/index", "part of a unique statement"),
        ("/ports/port/config/channel", "part of a unique statement"),
        ("/ports/port/config/device", "a leafref"),
        ("/ports/port/config/description", "a string (characters are checked)"),
        ("/ports/port/name", "a list key"),
    ):
        assert not _free(engine, path), f"{path}: {why}"
