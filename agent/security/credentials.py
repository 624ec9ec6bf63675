"""Turning gRPC call credentials into an authenticated user.

Credentials follow the gNMI authentication specification: ``username`` and ``password``
metadata on every RPC. With mutual TLS, a verified client certificate authenticates the
user it names without password metadata. Explicit username/password metadata always wins
over the certificate. :func:`peer_host` names the client's host for login throttling.

Which user a certificate names: its subject common name (CN) when that is a known user;
otherwise the first subjectAltName, in certificate order, that is a known user, where a
DNS name names the user of exactly that name and a URI ``user:NAME`` names ``NAME``
(IP addresses, e-mail addresses and other URIs name nobody). A client holding a
certificate with several such names may pick one with ``username`` metadata (and no
password); a ``username`` the certificate does not carry still needs a password.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from agent.security.errors import AuthenticationError, AuthFailure
from agent.security.users import User, is_user_name

USERNAME_KEY = "username"
PASSWORD_KEY = "password"
COMMON_NAME_PROPERTY = "x509_common_name"
ALT_NAME_PROPERTY = "x509_subject_alternative_name"
DNS_PROPERTY = "peer_dns"
URI_PROPERTY = "peer_uri"
USER_URI_SCHEME = "user:"

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
    """A verified client certificate: its common name and the user names its
    subjectAltNames carry, in certificate order (see the module docstring).

    ``username``: the one of those names the client asked for with ``username``
    metadata, if it did.
    """

    common_name: str
    alt_names: tuple[str, ...] = ()
    username: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The user names to try, in order: the CN, then the alt names (no repeats)."""
        if self.username is not None:
            return (self.username,)
        found = (self.common_name, *self.alt_names) if self.common_name else self.alt_names
        return tuple(dict.fromkeys(found))

    def describe(self) -> str:
        """How the certificate names its user, for messages (``CN 'a', SAN 'b'``)."""
        parts = [f"CN {self.common_name!r}"] if self.common_name else []
        parts += [f"SAN {name!r}" for name in self.alt_names]
        return ", ".join(parts) or "no user name"


Credentials = PasswordCredentials | CertificateCredentials


def _text(value: MetadataValue) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def extract_credentials(
    metadata: Iterable[tuple[str, MetadataValue]] | None,
    certificate: CertificateCredentials | str | None = None,
) -> Credentials:
    """Picks the credentials of a call; raises AuthenticationError when there are none.

    ``certificate`` must come from a certificate the TLS layer verified (see
    :func:`peer_certificate`); a plain string is a certificate with only that CN.
    """
    if isinstance(certificate, str):
        certificate = CertificateCredentials(certificate) if certificate else None
    if certificate is not None and not certificate.names:
        certificate = None
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
    if certificate is not None:
        if not username:
            return certificate
        if username not in certificate.names:
            raise AuthenticationError(
                AuthFailure.MISSING_PASSWORD,
                f"no 'password' metadata for user {username!r} (the client certificate "
                f"has {certificate.describe()})",
                username=username,
            )
        return dataclasses.replace(certificate, username=username)
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
    names = credentials.names
    for name in names:
        user = authenticator.get(name)
        if user is not None:
            return user
    raise AuthenticationError(
        AuthFailure.UNKNOWN_CERTIFICATE_USER,
        f"client certificate ({credentials.describe()}) does not name a known user",
        username=names[0] if names else None,
    )


def authenticate_metadata(
    authenticator: Authenticator,
    metadata: Iterable[tuple[str, MetadataValue]] | None,
    certificate: CertificateCredentials | str | None = None,
) -> User:
    """Extracts and verifies the credentials of a call in one step (may run scrypt)."""
    return verify_credentials(authenticator, extract_credentials(metadata, certificate))


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


def peer_certificate(
    auth_context: Mapping[str, Sequence[bytes]] | None,
) -> CertificateCredentials | None:
    """The verified client certificate's names from a gRPC ``context.auth_context()``,
    or None without one.

    The alt names are the DNS names and the ``NAME`` of ``user:NAME`` URIs, in the order
    of the certificate's subjectAltName extension (gRPC lists every kind in one property,
    and each kind in its own).
    """
    if not auth_context:
        return None
    common_name = peer_common_name(auth_context) or ""
    alt_names = _user_alt_names(auth_context)
    if not common_name and not alt_names:
        return None
    return CertificateCredentials(common_name, alt_names)


def _user_alt_names(auth_context: Mapping[str, Sequence[bytes]]) -> tuple[str, ...]:
    values = [_text(v) for v in auth_context.get(ALT_NAME_PROPERTY) or ()]
    dns = {_text(v) for v in auth_context.get(DNS_PROPERTY) or ()}
    uris = {_text(v) for v in auth_context.get(URI_PROPERTY) or ()}
    names: list[str] = []
    for value in values:
        if value in uris and value.startswith(USER_URI_SCHEME):
            name = value[len(USER_URI_SCHEME) :]
        elif value in dns:
            name = value
        else:
            continue
        if is_user_name(name) and name not in names:
            names.append(name)
    return tuple(names)


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
