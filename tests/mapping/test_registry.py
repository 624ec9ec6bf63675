"""The model registry read from the schema: top-level lists, keys and config defaults."""

from __future__ import annotations

import pytest

from agent.datastore.model_registry import model_registry
from agent.mapping.model import (
    DEFAULT_DPU_MODE,
    DEVICE_DEFAULTS,
    PORT_DEFAULTS,
    SLICE_DEFAULTS,
    TENANT_DEFAULTS,
    MappingError,
)
from agent.mapping.registry import ModelRegistry
from agent.schema.engine import SchemaEngine

from .helpers import site_model


def test_every_top_level_list_with_its_members_and_keys() -> None:
    model = site_model()
    found = {m.kind: (m.members, m.names, m.keys) for m in model}
    assert found == {
        "device": (
            ("edge-platform:platform", "devices", "device"),
            ("platform", "devices", "device"),
            ("name",),
        ),
        "port": (("edge-ports:ports", "port"), ("ports", "port"), ("name",)),
        "slice": (("edge-slices:slices", "slice"), ("slices", "slice"), ("name",)),
        "tenant": (("edge-tenants:tenants", "tenant"), ("tenants", "tenant"), ("name",)),
    }


def test_defaults_are_those_the_schema_gives(engine: SchemaEngine) -> None:
    model = model_registry(engine.nav)
    for lists in model:
        for leaf, default in {**lists.defaults, **lists.conditional}.items():
            info = engine.nav.root
            for name in (*lists.names, "config", leaf):
                found = engine.nav.child(info, name)
                assert found is not None, (lists.kind, name)
                info = found
            assert info.default == default, (lists.kind, leaf)
    assert model.port.defaults["mtu"] == 1514
    assert model.device.conditional == {"dpu-mode": "dpu"}, "dpu-mode has a when"
    assert "dpu-mode" not in model.device.defaults


def test_the_state_renderers_tables_are_the_schemas() -> None:
    model = site_model()
    assert dict(PORT_DEFAULTS) == dict(model.port.defaults)
    assert dict(DEVICE_DEFAULTS) == dict(model.device.defaults)
    assert dict(SLICE_DEFAULTS) == dict(model.slice.defaults)
    assert dict(TENANT_DEFAULTS) == dict(model.tenant.defaults)
    assert model.device.default("dpu-mode") == DEFAULT_DPU_MODE


def test_lookups_by_kind_and_by_path() -> None:
    model: ModelRegistry = site_model()
    assert model.at(("ports", "port", "config", "mtu")) is model.port
    assert model.at(("platform", "devices", "device")) is model.device
    assert model.at(("platform", "devices")) is None, "above the list"
    assert model.at(("ports",)) is None
    with pytest.raises(MappingError, match="no top-level list 'gadget'"):
        model.of("gadget")
    with pytest.raises(MappingError, match="no default"):
        model.port.default("speed")


def test_entries_and_configured() -> None:
    model = site_model()
    tree = {"edge-ports:ports": {"port": [{"name": "p", "config": {"mtu": 9000}}]}}
    assert model.port.entries(tree) == [{"name": "p", "config": {"mtu": 9000}}]
    assert model.slice.entries(tree) == ()
    assert model.port.entries({"edge-ports:ports": "junk"}) == ()
    configured = model.port.configured({"mtu": 9000, "speed": "25G"})
    assert configured["mtu"] == 9000 and configured["fec"] == "auto"
    assert configured["speed"] == "25G"
