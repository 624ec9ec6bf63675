"""Turning gRPC call credentials into an authenticated user.

Credentials follow the gNMI authentication specification: ``username`` and ``password``
metadata on every RPC. With mutual TLS, a verified client certificate whose common name
names a known user authenticates that user without password metadata. Explicit
username/password metadata always wins over the certificate. :func:`peer_host` names the
client's host for login throttling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from agent.security.errors import AuthenticationError, AuthFailure
from agent.security.users import User

USERNAME_KEY = "username"
PASSWORD_KEY = "password"
COMMON_NAME_PROPERTY = "x509_common_name"

MetadataValue = str | bytes


class Authenticator(Protocol):
    """What credential checks need from a user database (UserStore implements it)."""

    def get(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        ...

    def authenticate(self, name: str, password: str) -> User:
        """The user if ``password`` is right; raises AuthenticationError otherwise."""
        ...

    def cached_user(self, name: str, password: str) -> User | None:
        """The user if this pair was verified recently; None otherwise (cheap)."""
        ...


@dataclass(frozen=True)
class PasswordCredentials:
    """``username``/``password`` metadata."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class CertificateCredentials:
    """A verified client certificate, identified by its common name."""

    common_name: str


Credentials = PasswordCredentials | CertificateCredentials


def _text(value: MetadataValue) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def extract_credentials(
    metadata: Iterable[tuple[str, MetadataValue]] | None,
    cert_common_name: str | None = None,
) -> Credentials:
    """Picks the credentials of a call; raises AuthenticationError when there are none.

    ``cert_common_name`` must come from a certificate the TLS layer verified (see
    :func:`peer_common_name`).
    """
    username: str | None = None
    password: str | None = None
    for key, value in metadata or ():
        lowered = key.lower()
        if lowered == USERNAME_KEY and username is None:
            username = _text(value)
        elif lowered == PASSWORD_KEY and password is None:
            password = _text(value)
    if password is not None:
        if not username:
            raise AuthenticationError(
                AuthFailure.MISSING_USERNAME, "'password' metadata given without 'username'"
            )
        if not password:
            raise AuthenticationError(
                AuthFailure.MISSING_PASSWORD,
                f"empty 'password' metadata for user {username!r}",
                username=username,
            )
        return PasswordCredentials(username=username, password=password)
    if cert_common_name:
        if username and username != cert_common_name:
            raise AuthenticationError(
                AuthFailure.MISSING_PASSWORD,
                f"no 'password' metadata for user {username!r} (the client certificate "
                f"names {cert_common_name!r})",
                username=username,
            )
        return CertificateCredentials(common_name=cert_common_name)
    if username:
        raise AuthenticationError(
            AuthFailure.MISSING_PASSWORD,
            f"no 'password' metadata for user {username!r}",
            username=username,
        )
    raise AuthenticationError(
        AuthFailure.MISSING_CREDENTIALS,
        "no credentials: send 'username' and 'password' metadata or a client certificate",
    )


def verify_credentials(authenticator: Authenticator, credentials: Credentials) -> User:
    """The user the credentials prove; raises AuthenticationError otherwise."""
    if isinstance(credentials, PasswordCredentials):
        return authenticator.authenticate(credentials.username, credentials.password)
    user = authenticator.get(credentials.common_name)
    if user is None:
        raise AuthenticationError(
            AuthFailure.UNKNOWN_CERTIFICATE_USER,
            f"client certificate CN {credentials.common_name!r} does not name a known user",
            username=credentials.common_name,
        )
    return user


def authenticate_metadata(
    authenticator: Authenticator,
    metadata: Iterable[tuple[str, MetadataValue]] | None,
    cert_common_name: str | None = None,
) -> User:
    """Extracts and verifies the credentials of a call in one step (may run scrypt)."""
    return verify_credentials(authenticator, extract_credentials(metadata, cert_common_name))


def peer_common_name(auth_context: Mapping[str, Sequence[bytes]] | None) -> str | None:
    """The client certificate's common name from a gRPC ``context.auth_context()``.

    gRPC only fills it in for a certificate it verified, which the agent's server
    credentials do exactly when client certificates are required.
    """
    if not auth_context:
        return None
    values = auth_context.get(COMMON_NAME_PROPERTY)
    if not values:
        return None
    name = _text(values[0])
    return name or None


def peer_host(peer: str) -> str:
    """The client's address without the port, from a gRPC ``context.peer()``.

    ``ipv4:10.0.0.7:5555`` gives ``10.0.0.7`` and ``ipv6:[fd00::7]:5555`` (which gRPC
    may percent-encode) gives ``fd00::7``; anything else (``unix:...``) is returned
    whole, so every client of that kind counts as one peer.
    """
    scheme, _, rest = peer.partition(":")
    rest = unquote(rest)
    if scheme == "ipv4":
        host, sep, port = rest.rpartition(":")
        if sep and host and port.isdigit():
            return host
    elif scheme == "ipv6" and rest.startswith("["):
        host, sep, port = rest[1:].rpartition("]:")
        if sep and host and port.isdigit():
            return host.partition("%")[0]  # without a zone such as %eth0
    return peer
