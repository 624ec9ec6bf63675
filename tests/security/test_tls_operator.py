"""TLS material from the operator's own PKI: kept as it is, never silently replaced."""

from __future__ import annotations

import ipaddress
import logging
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
)
from cryptography.x509.oid import NameOID

from agent.security.errors import MissingCaKeyError, TlsMaterialError
from agent.security.tls import (
    CertificateOrigin,
    TlsMaterial,
    channel_credentials,
    ensure_tls_material,
    issue_client_certificate,
    server_credentials,
)

TIMEOUT = 10
LOGGER = "agent.security.tls"


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def issue(
    subject: str,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    names: tuple[str, ...] = (),
    days: float = 365,
    rsa_key: bool = False,
    subject_key_id: bool = True,
) -> Issued:
    """A certificate of the operator's PKI: a self-signed root when ``issuer`` is None."""
    key: CertificateIssuerPrivateKeyTypes
    if rsa_key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if subject_key_id:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    if names:
        sans = [general_name(n) for n in names]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


@dataclass(frozen=True)
class OperatorPki:
    root: Issued
    intermediate: Issued
    server: Issued

    @property
    def chain_pem(self) -> bytes:
        return self.server.cert_pem + self.intermediate.cert_pem


LOCAL_NAMES = ("localhost", "127.0.0.1", "::1", "agent.example.net")


@pytest.fixture(scope="module")
def pki() -> OperatorPki:
    root = issue("Operator Root CA", ca=True, days=3650)
    intermediate = issue("Operator Issuing CA", root, ca=True, days=1800)
    server = issue("agent.example.net", intermediate, names=LOCAL_NAMES)
    return OperatorPki(root, intermediate, server)


@pytest.fixture
def tls_dir(state_dir: Path) -> Path:
    directory = state_dir / "tls"
    directory.mkdir(parents=True, mode=0o700)
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def install(directory: Path, **files: bytes) -> dict[str, bytes]:
    for name, data in files.items():
        (directory / name.replace("_", ".")).write_bytes(data)
    return snapshot(directory)


def test_operator_pair_replacing_the_agents_is_kept_byte_for_byte(
    state_dir: Path, tls_dir: Path, pki: OperatorPki, caplog: pytest.LogCaptureFixture
) -> None:
    ensure_tls_material(state_dir)  # the agent's own CA and certificate first
    before = install(tls_dir, server_crt=pki.chain_pem, server_key=pki.server.key_pem)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        material = ensure_tls_material(state_dir, extra_names=["agent.example.net"])
    assert snapshot(tls_dir) == before
    assert material.server_cert_origin is CertificateOrigin.OPERATOR
    assert not material.server_cert_created and not material.ca_created
    assert material.server_cert_pem == pki.chain_pem
    assert material.server_key_pem == pki.server.key_pem
    assert "agent.example.net" in material.server_names
    # The agent's ca.crt no longer vouches for the server: that is worth a warning.
    [warning] = [record.getMessage() for record in caplog.records]
    assert "server.crt (not issued by this agent, kept as it is) is not issued by" in warning
    assert "ca.crt" in warning


def test_operator_ca_and_pair_without_ca_key_serve_tls(
    state_dir: Path, tls_dir: Path, pki: OperatorPki, caplog: pytest.LogCaptureFixture
) -> None:
    before = install(
        tls_dir,
        ca_crt=pki.root.cert_pem,
        server_crt=pki.chain_pem,
        server_key=pki.server.key_pem,
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        material = ensure_tls_material(state_dir)
        ensure_tls_material(state_dir)
    assert snapshot(tls_dir) == before  # no ca.key appears, nothing is rewritten
    assert caplog.records == []  # the chain leads to ca.crt: nothing to warn about
    assert material.ca_cert_pem == pki.root.cert_pem
    assert material.server_cert_origin is CertificateOrigin.OPERATOR
    assert handshake(material, pki.root.cert_pem, "agent.example.net") == b"pong"
    with pytest.raises(MissingCaKeyError, match=r"ca\.key"):
        issue_client_certificate(material, "alice")


def test_operator_pair_alone_needs_no_ca_files(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    before = install(tls_dir, server_crt=pki.chain_pem, server_key=pki.server.key_pem)
    material = ensure_tls_material(state_dir)
    assert snapshot(tls_dir) == before
    assert material.ca_cert_pem is None and not material.ca_created
    assert handshake(material, pki.root.cert_pem, "localhost") == b"pong"


def test_issuing_without_the_ca_key_names_the_missing_file(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    before = install(tls_dir, ca_crt=pki.root.cert_pem)
    with pytest.raises(MissingCaKeyError) as missing:
        ensure_tls_material(state_dir)
    assert missing.value.path == tls_dir / "ca.key"
    assert f"{tls_dir / 'ca.key'}: missing" in str(missing.value)
    assert "no server.crt yet" in str(missing.value)
    assert snapshot(tls_dir) == before  # the operator's CA is not replaced


def test_expired_operator_ca_without_key_is_not_replaced(state_dir: Path, tls_dir: Path) -> None:
    old_root = issue("Old Root", ca=True, days=-1)
    before = install(tls_dir, ca_crt=old_root.cert_pem)
    with pytest.raises(MissingCaKeyError):
        ensure_tls_material(state_dir)
    assert snapshot(tls_dir) == before


def test_expired_or_misnamed_operator_certificate_is_kept_with_warnings(
    state_dir: Path, tls_dir: Path, pki: OperatorPki, caplog: pytest.LogCaptureFixture
) -> None:
    expired = issue("old.example.net", pki.intermediate, names=("old.example.net",), days=-2)
    before = install(tls_dir, server_crt=expired.cert_pem, server_key=expired.key_pem)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        material = ensure_tls_material(state_dir, extra_names=["agent.example.net"])
    assert snapshot(tls_dir) == before
    assert not material.server_cert_created
    messages = [record.getMessage() for record in caplog.records]
    where = f"{tls_dir / 'server.crt'} (not issued by this agent, kept as it is)"
    assert len(messages) == 2
    assert messages[0].startswith(f"{where} expired on ")
    # Only names asked for are checked: the defaults are not the operator's business.
    assert messages[1] == f"{where} does not name agent.example.net"


def test_soon_expiring_operator_certificate_warns_and_wildcards_count(
    state_dir: Path, tls_dir: Path, pki: OperatorPki, caplog: pytest.LogCaptureFixture
) -> None:
    soon = issue("*.example.net", pki.intermediate, names=("*.example.net",), days=10)
    before = install(tls_dir, server_crt=soon.cert_pem, server_key=soon.key_pem)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        ensure_tls_material(state_dir, extra_names=["agent.example.net"])
    assert snapshot(tls_dir) == before
    [message] = [record.getMessage() for record in caplog.records]
    assert " expires on " in message


def test_operator_key_not_matching_its_certificate_is_an_error(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    stranger = issue("stranger", pki.intermediate)
    before = install(tls_dir, server_crt=pki.chain_pem, server_key=stranger.key_pem)
    with pytest.raises(TlsMaterialError, match="does not match the certificate") as wrong:
        ensure_tls_material(state_dir)
    assert wrong.value.path == tls_dir / "server.key"
    assert snapshot(tls_dir) == before


def test_operator_certificate_without_its_key_is_an_error(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    before = install(tls_dir, server_crt=pki.chain_pem)
    with pytest.raises(TlsMaterialError, match=r"server\.key: missing") as missing:
        ensure_tls_material(state_dir)
    assert missing.value.path == tls_dir / "server.key"
    assert snapshot(tls_dir) == before


def test_a_key_without_its_certificate_is_an_error(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    before = install(tls_dir, server_key=pki.server.key_pem)
    with pytest.raises(TlsMaterialError, match=r"exists without server\.crt"):
        ensure_tls_material(state_dir)
    before_ca = install(tls_dir, ca_key=pki.root.key_pem)
    assert before_ca != before
    with pytest.raises(TlsMaterialError, match=r"exists without ca\.crt") as orphan:
        ensure_tls_material(state_dir)
    assert orphan.value.path == tls_dir / "ca.crt"
    assert snapshot(tls_dir) == before_ca


def test_ca_key_not_belonging_to_ca_cert_is_an_error(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    ensure_tls_material(state_dir)
    # The operator's CA certificate replaces the agent's, the agent's ca.key is left.
    before = install(tls_dir, ca_crt=pki.root.cert_pem)
    with pytest.raises(TlsMaterialError, match="does not belong to") as wrong:
        ensure_tls_material(state_dir)
    assert wrong.value.path == tls_dir / "ca.key"
    assert snapshot(tls_dir) == before


@pytest.mark.parametrize("name", ["ca.crt", "ca.key", "server.crt", "server.key"])
@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_damaged_files_are_errors_naming_the_file(
    state_dir: Path, tls_dir: Path, name: str, content: bytes
) -> None:
    ensure_tls_material(state_dir)
    before = install(tls_dir, **{name.replace(".", "_"): content})
    with pytest.raises(TlsMaterialError) as damaged:
        ensure_tls_material(state_dir)
    assert damaged.value.path == tls_dir / name
    assert str(damaged.value).startswith(f"{tls_dir / name}: ")
    assert snapshot(tls_dir) == before


def test_encrypted_key_is_an_error_naming_the_file(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    encrypted = pki.server.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    install(tls_dir, server_crt=pki.chain_pem, server_key=encrypted)
    with pytest.raises(TlsMaterialError, match="encrypted") as locked:
        ensure_tls_material(state_dir)
    assert locked.value.path == tls_dir / "server.key"


def test_unreadable_file_is_an_error_naming_the_file(
    state_dir: Path, tls_dir: Path, pki: OperatorPki
) -> None:
    install(tls_dir, server_crt=pki.chain_pem)
    (tls_dir / "server.key").mkdir()  # exists, yet cannot be read as a file
    with pytest.raises(TlsMaterialError, match="cannot read") as unreadable:
        ensure_tls_material(state_dir)
    assert unreadable.value.path == tls_dir / "server.key"


def test_operator_ca_with_its_key_issues_the_agents_certificate(
    state_dir: Path, tls_dir: Path
) -> None:
    # An RSA CA without a SubjectKeyIdentifier, as some PKIs make them.
    root = issue("Operator RSA Root", ca=True, days=3650, rsa_key=True, subject_key_id=False)
    install(tls_dir, ca_crt=root.cert_pem, ca_key=root.key_pem)
    material = ensure_tls_material(state_dir)
    assert material.server_cert_created and not material.ca_created
    assert material.server_cert_origin is CertificateOrigin.AGENT
    assert material.ca_cert_pem == root.cert_pem
    assert (tls_dir / "ca.key").read_bytes() == root.key_pem
    leaf = x509.load_pem_x509_certificate(material.server_cert_pem)
    leaf.verify_directly_issued_by(root.cert)
    assert handshake(material, root.cert_pem, "localhost") == b"pong"
    client = issue_client_certificate(material, "alice")
    x509.load_pem_x509_certificate(client.certificate_pem).verify_directly_issued_by(root.cert)


def test_non_ca_certificate_with_key_cannot_issue(state_dir: Path, tls_dir: Path) -> None:
    leafish = issue("not a CA")
    before = install(tls_dir, ca_crt=leafish.cert_pem, ca_key=leafish.key_pem)
    with pytest.raises(TlsMaterialError, match="not a CA certificate"):
        ensure_tls_material(state_dir)
    assert snapshot(tls_dir) == before


def identity(data: bytes) -> bytes:
    return data


def handshake(material: TlsMaterial, trust_pem: bytes, server_name: str) -> bytes:
    """One call over TLS to a server using ``material``, trusting ``trust_pem``."""

    def ping(request: bytes, context: grpc.ServicerContext) -> bytes:
        return b"pong"

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(ping, identity, identity)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("edge.test.Tls", {"Ping": handler}),)
    )
    port = server.add_secure_port("127.0.0.1:0", server_credentials(material))
    server.start()
    try:
        options = (("grpc.ssl_target_name_override", server_name),)
        with grpc.secure_channel(
            f"127.0.0.1:{port}", channel_credentials(trust_pem), options=options
        ) as channel:
            stub = channel.unary_unary(
                "/edge.test.Tls/Ping", request_serializer=identity, response_deserializer=identity
            )
            answer: bytes = stub(b"ping", timeout=TIMEOUT)
            return answer
    finally:
        server.stop(grace=None)
