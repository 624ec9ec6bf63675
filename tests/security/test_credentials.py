"""Credentials from gRPC metadata and client certificates."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.security.credentials import (
    CertificateCredentials,
    PasswordCredentials,
    authenticate_metadata,
    extract_credentials,
    peer_certificate,
    peer_common_name,
)
from agent.security.errors import AuthenticationError, AuthFailure
from agent.security.users import Role, User, UserStore


@pytest.fixture
def users(store: UserStore) -> UserStore:
    store.add("alice", Role.ADMIN, "pw-alice")
    store.add("acme", Role.TENANT, "pw-acme", tenant="operator-a")
    return store


def refusal(
    users: UserStore,
    metadata: list[tuple[str, str | bytes]],
    cn: str | CertificateCredentials | None = None,
) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as refused:
        authenticate_metadata(users, metadata, cn)
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    return refused.value


def test_username_and_password(users: UserStore) -> None:
    metadata = [("user-agent", "x"), ("username", "acme"), ("password", "pw-acme")]
    assert authenticate_metadata(users, metadata) == User("acme", Role.TENANT, "operator-a")


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
    assert authenticate_metadata(users, [], certificate="alice").name == "alice"
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


def context(cn: str = "", *sans: tuple[str, str]) -> dict[str, list[bytes]]:
    """An auth_context as gRPC fills it in: every SAN in one property, each kind in its own."""
    kinds = {"dns": "peer_dns", "uri": "peer_uri", "email": "peer_email", "ip": "peer_ip"}
    found: dict[str, list[bytes]] = {"x509_common_name": [cn.encode()]}
    found["x509_subject_alternative_name"] = [value.encode() for _, value in sans]
    for kind, value in sans:
        found.setdefault(kinds[kind], []).append(value.encode())
    return found


def test_peer_certificate_reads_user_names_from_dns_and_user_uris() -> None:
    found = peer_certificate(
        context(
            "",
            ("email", "alice@example.com"),
            ("ip", "10.0.0.7"),
            ("uri", "spiffe://edge/alice"),
            ("dns", "collector-1.noc"),
            ("uri", "user:alice"),
            ("dns", "*.noc"),
            ("dns", "collector-1.noc"),
        )
    )
    assert found == CertificateCredentials("", ("collector-1.noc", "alice"))
    assert peer_certificate(context("alice")) == CertificateCredentials("alice")
    assert peer_certificate(context("", ("ip", "10.0.0.7"))) is None
    assert peer_certificate({"transport_security_type": [b"ssl"]}) is None
    assert peer_certificate(None) is None


def test_the_common_name_first_then_the_first_alt_name_of_a_known_user(users: UserStore) -> None:
    by_san = CertificateCredentials("collector-9", ("nobody", "acme", "alice"))
    assert authenticate_metadata(users, [], by_san).name == "acme"
    assert authenticate_metadata(users, [], CertificateCredentials("alice", ("acme",))).name == (
        "alice"
    )
    assert authenticate_metadata(users, [], CertificateCredentials("", ("alice",))).name == "alice"


def test_username_metadata_picks_one_of_the_certificate_names(users: UserStore) -> None:
    both = CertificateCredentials("alice", ("acme",))
    assert authenticate_metadata(users, [("username", "acme")], both).name == "acme"
    error = refusal(users, [("username", "bob")], CertificateCredentials("alice", ("acme",)))
    assert error.reason is AuthFailure.MISSING_PASSWORD
    assert "the client certificate has CN 'alice', SAN 'acme'" in error.message


def test_a_certificate_naming_no_known_user(users: UserStore) -> None:
    error = refusal(users, [], CertificateCredentials("collector-9", ("noc-1", "noc-2")))
    assert error.reason is AuthFailure.UNKNOWN_CERTIFICATE_USER
    assert error.message == (
        "client certificate (CN 'collector-9', SAN 'noc-1', SAN 'noc-2') does not name a known user"
    )
    assert error.username == "collector-9"
    assert refusal(users, [], CertificateCredentials("")).reason is AuthFailure.MISSING_CREDENTIALS


class Pki:
    """A CA made with the cryptography package, issuing server and client certificates."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
        builder = self._builder(self.name, self.key.public_key()).add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
        self.cert_pem = _pem(builder.sign(self.key, hashes.SHA256()))

    def _builder(self, subject: x509.Name, public_key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(hours=1))
            .not_valid_after(self.now + datetime.timedelta(hours=1))
        )

    def issue(
        self, cn: str | None, alt_names: list[x509.GeneralName], usage: x509.ObjectIdentifier
    ) -> tuple[bytes, bytes]:
        """(certificate PEM, private key PEM)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
        builder = self._builder(subject, key.public_key()).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if alt_names:  # critical when the subject is empty (RFC 5280)
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=not cn)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return _pem(builder.sign(self.key, hashes.SHA256())), key_pem


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def mtls_server(users: UserStore) -> Iterator[tuple[Pki, int]]:
    """A gRPC server requiring client certificates that answers with the caller's name."""
    pki = Pki()

    def who(request: bytes, context: grpc.ServicerContext) -> bytes:
        metadata = list(context.invocation_metadata() or ())
        try:
            user = authenticate_metadata(users, metadata, peer_certificate(context.auth_context()))
        except AuthenticationError as exc:
            return f"refused: {exc.message}".encode()
        return user.name.encode()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(who, lambda b: b, lambda b: b)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("edge.test.Who", {"Am": handler}),)
    )
    server_pem, server_key = pki.issue(
        "localhost", [x509.DNSName("localhost")], ExtendedKeyUsageOID.SERVER_AUTH
    )
    credentials = grpc.ssl_server_credentials(
        [(server_key, server_pem)], root_certificates=pki.cert_pem, require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    yield pki, port
    server.stop(grace=None)


def who_am_i(
    pki: Pki, port: int, cn: str | None, *alt_names: x509.GeneralName, username: str = ""
) -> str:
    cert_pem, key_pem = pki.issue(cn, list(alt_names), ExtendedKeyUsageOID.CLIENT_AUTH)
    channel_credentials = grpc.ssl_channel_credentials(pki.cert_pem, key_pem, cert_pem)
    with grpc.secure_channel(f"localhost:{port}", channel_credentials) as channel:
        call = channel.unary_unary("/edge.test.Who/Am", lambda b: b, lambda b: b)
        metadata = [("username", username)] if username else None
        answer: bytes = call(b"", timeout=10, metadata=metadata)
        return answer.decode()


def test_mtls_names_the_user_by_san(mtls_server: tuple[Pki, int]) -> None:
    pki, port = mtls_server
    assert who_am_i(pki, port, "alice") == "alice"
    assert who_am_i(pki, port, None, x509.UniformResourceIdentifier("user:acme")) == "acme"
    assert (
        who_am_i(
            pki,
            port,
            "collector-9",
            x509.RFC822Name("alice@example.com"),
            x509.IPAddress(ipaddress.ip_address("10.0.0.7")),
            x509.UniformResourceIdentifier("spiffe://edge/alice"),
            x509.DNSName("nobody.noc"),
            x509.DNSName("acme"),
            x509.UniformResourceIdentifier("user:alice"),
        )
        == "acme"
    )
    both = (x509.DNSName("alice"), x509.DNSName("acme"))
    assert who_am_i(pki, port, None, *both) == "alice"
    assert who_am_i(pki, port, None, *both, username="acme") == "acme"
    assert who_am_i(pki, port, None, x509.RFC822Name("alice@example.com")).startswith(
        "refused: no credentials"
    )
    assert who_am_i(pki, port, "nobody", x509.DNSName("ghost")) == (
        "refused: client certificate (CN 'nobody', SAN 'ghost') does not name a known user"
    )
