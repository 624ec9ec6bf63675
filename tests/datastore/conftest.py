"""Fixtures of the datastore tests: a fake clock and a started datastore on the default
site (mock drivers, a state directory in tmp_path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.clock import FakeClock
from agent.datastore.datastore import Datastore
from agent.schema.engine import SchemaEngine
from tests.datastore.harness import build


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ds(engine: SchemaEngine, tmp_path: Path, clock: FakeClock) -> Iterator[Datastore]:
    datastore = build(engine, tmp_path / "state", clock)
    yield datastore
    datastore.stop()
