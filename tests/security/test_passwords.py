"""Password hashing: scrypt with a per-hash salt, parameters kept with the hash."""

from __future__ import annotations

import pytest

from agent.security.passwords import (
    DEFAULT_SCRYPT,
    PasswordHash,
    ScryptParams,
    hash_password,
    verify_password,
)

FAST_SCRYPT = ScryptParams(n=16, r=1, p=1)


def test_default_parameters_are_memory_hard() -> None:
    assert (DEFAULT_SCRYPT.n, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p) == (2**14, 8, 1)


def test_verify_accepts_the_password_and_rejects_others() -> None:
    stored = hash_password("s3cret", FAST_SCRYPT)
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret ", stored)
    assert not verify_password("S3cret", stored)
    assert not verify_password("", stored)


def test_each_hash_has_its_own_salt() -> None:
    first = hash_password("same", FAST_SCRYPT)
    second = hash_password("same", FAST_SCRYPT)
    assert first.salt != second.salt
    assert first.digest != second.digest


def test_json_round_trip_keeps_parameters() -> None:
    stored = hash_password("pw", FAST_SCRYPT)
    data = stored.to_json()
    assert data["algorithm"] == "scrypt"
    assert (data["n"], data["r"], data["p"]) == (16, 1, 1)
    parsed = PasswordHash.from_json(data)
    assert parsed == stored
    assert verify_password("pw", parsed)


def test_default_parameters_verify() -> None:
    stored = hash_password("real cost", DEFAULT_SCRYPT)
    assert verify_password("real cost", stored)


@pytest.mark.parametrize(
    "change",
    [
        {"algorithm": "md5"},
        {"n": 1000},
        {"n": 2**30},
        {"r": 0},
        {"p": True},
        {"salt": "***"},
        {"hash": ""},
    ],
)
def test_from_json_rejects_bad_entries(change: dict[str, object]) -> None:
    data = {**hash_password("pw", FAST_SCRYPT).to_json(), **change}
    with pytest.raises(ValueError):
        PasswordHash.from_json(data)


def test_parameters_must_be_sane() -> None:
    with pytest.raises(ValueError):
        ScryptParams(n=3)
