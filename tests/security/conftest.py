"""Shared fixtures: a user store with cheap scrypt parameters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.security.passwords import ScryptParams
from agent.security.users import UserStore

# Cheap parameters keep the tests fast; production uses the (unchanged) defaults.
FAST_SCRYPT = ScryptParams(n=16, r=1, p=1)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def fast_scrypt() -> ScryptParams:
    return FAST_SCRYPT


@pytest.fixture
def open_store(state_dir: Path) -> Callable[[], UserStore]:
    """Opens another store on the same file, as another process would."""
    return lambda: UserStore.in_state_dir(state_dir, scrypt=FAST_SCRYPT)


@pytest.fixture
def store(open_store: Callable[[], UserStore]) -> UserStore:
    return open_store()
