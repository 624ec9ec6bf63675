"""A driver refusal is blamed on the Set operation that produced the refused driver op.

Provenance runs Set operation -> datastore change -> mapping intent -> driver op: the
driver names the op (and the fields of it) that break its rule, the mapping turns those
fields into configuration leaves, and the datastore finds the operation that changed them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.datastore.edits import Edit
from agent.datastore.errors import DatastoreError, ErrorKind
from agent.drivers import DeviceConfig, PortConfig, SliceConfig
from agent.mapping.provenance import DEVICE_LEAVES, PORT_LEAVES, SLICE_LEAVES
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import build, hw

PORT = "/ports/port[name={}]"
LEAF = PORT + "/config/{}"
QUOTA = "/tenants/tenant[name=operator-a]/config/max-guaranteed-rate-bps"


@pytest.fixture
def ds(engine: SchemaEngine, tmp_path: Path) -> Iterator[Datastore]:
    datastore = build(engine, tmp_path / "state", FakeClock())
    yield datastore
    datastore.stop()


def refusal(ds: Datastore, edits: list[Edit]) -> DatastoreError:
    before_tree, before_hw = ds.running.tree, hw(ds)
    with pytest.raises(DatastoreError) as err:
        ds.commit(edits)
    assert err.value.kind is ErrorKind.HARDWARE
    assert ds.running.tree is before_tree and hw(ds) == before_hw
    return err.value


def in_a_lag(ds: Datastore, *ports: str) -> None:
    ds.commit([Edit.update(LEAF.format(port, "lag-group"), "uplinks") for port in ports])


def test_a_lag_speed_refusal_names_the_speed_edit_not_a_description_edit(ds: Datastore) -> None:
    in_a_lag(ds, "tor-tf1/1", "tor-tf1/4")
    err = refusal(
        ds,
        [
            Edit.update(LEAF.format("tor-tf1/4", "speed"), "50G"),
            Edit.update(LEAF.format("tor-tf1/3", "description"), "renamed uplink"),
        ],
    )
    assert err.op_index == 0
    assert err.message.startswith("/ports/port[name=tor-tf1/4]/config/speed: ")
    assert "lag uplinks: members run different speeds" in err.message
    assert "[rule lag-speed]" in err.message
    assert "refused op" in err.message and "port tor-tf1/4 update" in err.message


def test_the_edit_that_joins_a_lag_is_blamed_when_the_speed_is_old(ds: Datastore) -> None:
    in_a_lag(ds, "tor-tf1/1")
    err = refusal(
        ds,
        [
            Edit.update(LEAF.format("tor-tf1/1", "description"), "still 100G"),
            Edit.update(LEAF.format("tor-tf1/3", "lag-group"), "uplinks"),  # a 40G port
            Edit.update(LEAF.format("tor-tf1/4", "description"), "unrelated"),
        ],
    )
    assert err.op_index == 1
    assert err.message.startswith("/ports/port[name=tor-tf1/3]/config/lag-group: ")


def test_one_port_edited_twice_blames_the_leaf_the_rule_is_about(ds: Datastore) -> None:
    err = refusal(
        ds,
        [
            Edit.update(LEAF.format("tor-tf1/1", "mtu"), 9300),
            Edit.update(LEAF.format("tor-tf1/1", "description"), "too big a frame"),
        ],
    )
    assert err.op_index == 0
    assert err.message.startswith("/ports/port[name=tor-tf1/1]/config/mtu: ")
    assert "[rule port-mtu]" in err.message


def test_a_whole_entry_replace_is_blamed_for_the_leaf_it_carries(ds: Datastore) -> None:
    entry = {
        "name": "tor-tf1/5",
        "config": {"name": "tor-tf1/5", "device": "tor-tf1", "index": 5, "speed": "400G"},
    }
    err = refusal(
        ds,
        [
            Edit.update(LEAF.format("tor-tf1/1", "description"), "first"),
            Edit.replace(PORT.format("tor-tf1/5"), entry),
            Edit.update(LEAF.format("tor-tf1/3", "description"), "last"),
        ],
    )
    assert err.op_index == 1
    assert err.message.startswith("/ports/port[name=tor-tf1/5]/config/speed: ")
    assert "port-speed" in err.message


def test_a_guarantee_refusal_names_the_slice_rate_not_the_port(ds: Datastore) -> None:
    embb = "/slices/slice[name=embb]/config/{}"
    err = refusal(
        ds,
        [
            Edit.update(QUOTA, "400000000000"),
            Edit.update(LEAF.format("tor-tf1/1", "description"), "carries embb and urllc"),
            Edit.update(embb.format("max-rate-bps"), "400000000000"),
            Edit.update(embb.format("min-rate-bps"), "96000000000"),  # + urllc 5G > 100G
        ],
    )
    assert err.op_index == 3
    assert err.message.startswith("/slices/slice[name=embb]/config/min-rate-bps: port tor-tf1/1")
    assert "[rule slice-guarantee]" in err.message


def test_validate_only_attributes_the_same_way(ds: Datastore) -> None:
    in_a_lag(ds, "tor-tf1/1", "tor-tf1/4")
    with pytest.raises(DatastoreError) as err:
        ds.validate(
            [
                Edit.update(LEAF.format("tor-tf1/4", "speed"), "50G"),
                Edit.update(LEAF.format("tor-tf1/3", "description"), "renamed uplink"),
            ]
        )
    assert err.value.op_index == 0
    assert err.value.message.startswith("/ports/port[name=tor-tf1/4]/config/speed: ")


@pytest.mark.parametrize(
    ("config", "leaves"),
    [(DeviceConfig, DEVICE_LEAVES), (PortConfig, PORT_LEAVES), (SliceConfig, SLICE_LEAVES)],
)
def test_every_config_field_has_its_leaf(config: type, leaves: Mapping[str, str]) -> None:
    fields = {field.name for field in dataclasses.fields(config)} - {"members"}
    assert fields == set(leaves), "a driver value field the provenance cannot trace back"
