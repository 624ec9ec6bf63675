"""Credentials from gRPC metadata and client certificates."""

from __future__ import annotations

import grpc
import pytest

from agent.security.credentials import (
    CertificateCredentials,
    PasswordCredentials,
    authenticate_metadata,
    extract_credentials,
    peer_common_name,
)
from agent.security.errors import AuthenticationError, AuthFailure
from agent.security.users import Role, User, UserStore


@pytest.fixture
def users(store: UserStore) -> UserStore:
    store.add("alice", Role.ADMIN, "pw-alice")
    store.add("acme", Role.TENANT, "pw-acme", slices=["embb-1"])
    return store


def refusal(
    users: UserStore, metadata: list[tuple[str, str | bytes]], cn: str | None = None
) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as refused:
        authenticate_metadata(users, metadata, cn)
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    return refused.value


def test_username_and_password(users: UserStore) -> None:
    metadata = [("user-agent", "x"), ("username", "acme"), ("password", "pw-acme")]
    assert authenticate_metadata(users, metadata) == User(
        "acme", Role.TENANT, frozenset({"embb-1"})
    )


def test_keys_are_case_insensitive_and_values_may_be_bytes(users: UserStore) -> None:
    metadata = [("Username", b"alice"), ("PASSWORD", b"pw-alice")]
    assert authenticate_metadata(users, metadata).name == "alice"


def test_missing_credentials(users: UserStore) -> None:
    error = refusal(users, [("user-agent", "x")])
    assert error.reason is AuthFailure.MISSING_CREDENTIALS
    assert "username" in error.message and "password" in error.message
    assert refusal(users, []).reason is AuthFailure.MISSING_CREDENTIALS


def test_missing_password_or_username(users: UserStore) -> None:
    assert refusal(users, [("username", "alice")]).reason is AuthFailure.MISSING_PASSWORD
    assert (
        refusal(users, [("username", "alice"), ("password", "")]).reason
        is AuthFailure.MISSING_PASSWORD
    )
    assert refusal(users, [("password", "pw-alice")]).reason is AuthFailure.MISSING_USERNAME


def test_bad_password_and_unknown_user(users: UserStore) -> None:
    bad = refusal(users, [("username", "alice"), ("password", "nope")])
    assert bad.reason is AuthFailure.BAD_PASSWORD and bad.username == "alice"
    unknown = refusal(users, [("username", "bob"), ("password", "pw-alice")])
    assert unknown.reason is AuthFailure.UNKNOWN_USER and unknown.username == "bob"


def test_client_certificate_alone_authenticates_a_known_user(users: UserStore) -> None:
    assert authenticate_metadata(users, [], cert_common_name="alice").name == "alice"
    assert authenticate_metadata(users, [("username", "alice")], "alice").name == "alice"


def test_client_certificate_of_an_unknown_user_is_refused(users: UserStore) -> None:
    error = refusal(users, [], cn="collector-9")
    assert error.reason is AuthFailure.UNKNOWN_CERTIFICATE_USER
    assert "collector-9" in error.message


def test_password_metadata_wins_over_the_certificate(users: UserStore) -> None:
    metadata = [("username", "acme"), ("password", "pw-acme")]
    assert authenticate_metadata(users, metadata, "alice").name == "acme"
    bad = refusal(users, [("username", "acme"), ("password", "wrong")], cn="alice")
    assert bad.reason is AuthFailure.BAD_PASSWORD


def test_username_not_matching_the_certificate_needs_a_password(users: UserStore) -> None:
    error = refusal(users, [("username", "acme")], cn="alice")
    assert error.reason is AuthFailure.MISSING_PASSWORD


def test_extraction_does_not_check_the_database() -> None:
    assert extract_credentials([("username", "u"), ("password", "p")]) == PasswordCredentials(
        "u", "p"
    )
    assert extract_credentials([], "u") == CertificateCredentials("u")
    assert "p'" not in repr(PasswordCredentials("u", "p"))


def test_peer_common_name() -> None:
    assert peer_common_name({"x509_common_name": [b"alice"]}) == "alice"
    assert peer_common_name({"transport_security_type": [b"ssl"]}) is None
    assert peer_common_name({}) is None
    assert peer_common_name(None) is None
