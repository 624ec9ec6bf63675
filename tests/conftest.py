"""Shared fixtures: the schema engine (loaded once) and the default site."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from agent.schema.engine import SchemaEngine
from agent.site_file import default_site_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def engine() -> SchemaEngine:
    return SchemaEngine()


@pytest.fixture(scope="session")
def _site_text() -> str:
    return default_site_path().read_text(encoding="utf-8")


@pytest.fixture
def site(_site_text: str) -> dict[str, Any]:
    """A fresh copy of the default simulated site, free to mutate."""
    return copy.deepcopy(json.loads(_site_text))
