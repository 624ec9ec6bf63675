"""TLS material for the agent's servers: a local CA, a server certificate, client certificates.

On first start :func:`ensure_tls_material` creates, under ``STATE_DIR/tls/``:

    ca.key      CA private key (EC P-256, mode 0600)
    ca.crt      self-signed CA certificate (about ten years)
    server.key  server private key (EC P-256, mode 0600)
    server.crt  server certificate signed by the CA (about one year), SubjectAltNames
                localhost, 127.0.0.1, ::1 and any extra names asked for

Later starts reuse the files. The server certificate is reissued (by the same CA) when it
is missing, expired or close to expiry, lacks a requested name, or no longer matches its
key or the CA. The CA is only recreated when its certificate is missing or expired.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.clock import Clock, SystemClock
from agent.durable_files import atomic_write, ensure_dir
from agent.security.errors import TlsMaterialError
from agent.security.users import validate_user_name

TLS_DIRNAME = "tls"
CA_CERT_FILENAME = "ca.crt"
CA_KEY_FILENAME = "ca.key"
SERVER_CERT_FILENAME = "server.crt"
SERVER_KEY_FILENAME = "server.key"
DEFAULT_SERVER_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
SERVER_COMMON_NAME = "edge-agent"
_BACKDATE = timedelta(minutes=5)

_LOG = logging.getLogger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class TlsMaterial:
    """Where the TLS files are and the PEM bytes a gRPC server needs."""

    directory: Path
    ca_cert_path: Path
    ca_key_path: Path
    server_cert_path: Path
    server_key_path: Path
    ca_cert_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes = field(repr=False)
    server_names: tuple[str, ...]
    ca_created: bool = False
    server_cert_created: bool = False


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate issued by the agent's CA; ``common_name`` is the user name."""

    common_name: str
    certificate_pem: bytes
    private_key_pem: bytes = field(repr=False)


@dataclass(frozen=True)
class _Validity:
    ca_days: int
    server_days: int
    renew_before: timedelta


def ensure_tls_material(
    state_dir: Path,
    *,
    extra_names: Sequence[str] = (),
    clock: Clock | None = None,
    ca_validity_days: int = 3650,
    server_validity_days: int = 365,
    renew_before_days: int = 30,
) -> TlsMaterial:
    """Creates or reuses the CA and server certificate in ``STATE_DIR/tls``.

    ``extra_names`` are DNS names or IP addresses added to the default SubjectAltNames.
    Raises TlsMaterialError when existing files are inconsistent in a way that cannot
    be fixed without losing the CA clients already trust (e.g. a CA certificate whose
    key is missing).
    """
    names = normalise_server_names((*DEFAULT_SERVER_NAMES, *extra_names))
    now = _now(clock)
    validity = _Validity(
        ca_days=ca_validity_days,
        server_days=server_validity_days,
        renew_before=timedelta(days=renew_before_days),
    )
    directory = state_dir / TLS_DIRNAME
    ensure_dir(directory)
    ca_cert_path = directory / CA_CERT_FILENAME
    ca_key_path = directory / CA_KEY_FILENAME
    server_cert_path = directory / SERVER_CERT_FILENAME
    server_key_path = directory / SERVER_KEY_FILENAME

    loaded_ca = _load_ca(ca_cert_path, ca_key_path, now)
    ca_created = loaded_ca is None
    if loaded_ca is None:
        ca_cert, ca_key = _create_ca(now, validity)
        atomic_write(ca_key_path, _key_pem(ca_key), mode=0o600)
        atomic_write(ca_cert_path, _cert_pem(ca_cert), mode=0o644)
    else:
        ca_cert, ca_key = loaded_ca

    server_cert = None
    if not ca_created:
        server_cert = _usable_server_cert(
            server_cert_path, server_key_path, ca_cert, names, now + validity.renew_before
        )
    server_cert_created = server_cert is None
    if server_cert is None:
        server_cert, server_key = _create_server_cert(ca_cert, ca_key, names, now, validity)
        atomic_write(server_key_path, _key_pem(server_key), mode=0o600)
        atomic_write(server_cert_path, _cert_pem(server_cert), mode=0o644)

    return TlsMaterial(
        directory=directory,
        ca_cert_path=ca_cert_path,
        ca_key_path=ca_key_path,
        server_cert_path=server_cert_path,
        server_key_path=server_key_path,
        ca_cert_pem=ca_cert_path.read_bytes(),
        server_cert_pem=server_cert_path.read_bytes(),
        server_key_pem=server_key_path.read_bytes(),
        server_names=tuple(sorted(_names_in(server_cert))),
        ca_created=ca_created,
        server_cert_created=server_cert_created,
    )


def server_credentials(
    material: TlsMaterial, *, client_ca_pem: bytes | None = None
) -> grpc.ServerCredentials:
    """gRPC server credentials; with ``client_ca_pem`` every client must present a
    certificate issued by one of those CAs (mutual TLS)."""
    pairs = [(material.server_key_pem, material.server_cert_pem)]
    if client_ca_pem is None:
        return grpc.ssl_server_credentials(pairs)
    return grpc.ssl_server_credentials(
        pairs, root_certificates=client_ca_pem, require_client_auth=True
    )


def channel_credentials(
    root_ca_pem: bytes, client: ClientCertificate | None = None
) -> grpc.ChannelCredentials:
    """Client-side credentials trusting ``root_ca_pem``, optionally presenting ``client``."""
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=root_ca_pem)
    return grpc.ssl_channel_credentials(
        root_certificates=root_ca_pem,
        private_key=client.private_key_pem,
        certificate_chain=client.certificate_pem,
    )


def load_ca_bundle(path: Path) -> bytes:
    """Reads a PEM bundle of CA certificates (for mutual TLS); TlsMaterialError if it
    holds no certificate."""
    try:
        data = path.read_bytes()
        certificates = x509.load_pem_x509_certificates(data)
    except (OSError, ValueError) as exc:
        raise TlsMaterialError(f"{path}: not a PEM bundle of CA certificates: {exc}") from exc
    if not certificates:
        raise TlsMaterialError(f"{path}: no certificate found")
    return data


def issue_client_certificate(
    material: TlsMaterial,
    username: str,
    *,
    validity_days: int = 365,
    clock: Clock | None = None,
) -> ClientCertificate:
    """Issues a client certificate (CN = ``username``) signed by the agent's CA."""
    validate_user_name(username)
    loaded = _load_ca(material.ca_cert_path, material.ca_key_path, _now(clock))
    if loaded is None:
        raise TlsMaterialError(f"{material.ca_cert_path}: no usable CA to sign with")
    ca_cert, ca_key = loaded
    now = _now(clock)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _leaf_builder(ca_cert, key, now, timedelta(days=validity_days))
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, username)]))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ClientCertificate(
        common_name=username, certificate_pem=_cert_pem(cert), private_key_pem=_key_pem(key)
    )


def normalise_server_names(names: Iterable[str]) -> tuple[str, ...]:
    """Deduplicated SubjectAltNames: IP addresses in canonical form, DNS names lowercased.

    Raises ValueError for something that is neither an IP address nor a DNS name.
    """
    seen: dict[str, None] = {}
    for raw in names:
        name = raw.strip()
        try:
            canonical = str(ipaddress.ip_address(name))
        except ValueError:
            canonical = name.lower().rstrip(".")
            labels = canonical.split(".")
            if not canonical or not all(_dns_label_ok(label) for label in labels):
                raise ValueError(f"{raw!r} is neither an IP address nor a DNS name") from None
        seen[canonical] = None
    return tuple(seen)


def _dns_label_ok(label: str) -> bool:
    if label == "*":
        return True
    return (
        0 < len(label) <= 63
        and label.isascii()
        and all(c.isalnum() or c == "-" for c in label)
        and not label.startswith("-")
        and not label.endswith("-")
    )


def _now(clock: Clock | None) -> datetime:
    ns = (clock if clock is not None else SystemClock()).now_ns()
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_matches(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)


def _load_ca(
    cert_path: Path, key_path: Path, now: datetime
) -> tuple[x509.Certificate, PrivateKey] | None:
    """The CA if usable; None if it must be (re)created; TlsMaterialError if broken."""
    if not cert_path.exists():
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as exc:
        raise TlsMaterialError(
            f"{cert_path}: unreadable CA certificate ({exc}); remove the directory to start over"
        ) from exc
    if cert.not_valid_after_utc <= now:
        _LOG.warning("%s expired on %s; creating a new CA", cert_path, cert.not_valid_after_utc)
        return None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise TlsMaterialError(
            f"{key_path}: CA key missing or unreadable ({exc}); remove the directory to start over"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _key_matches(key, cert):
        raise TlsMaterialError(f"{key_path} does not belong to {cert_path}")
    return cert, key


def _usable_server_cert(
    cert_path: Path,
    key_path: Path,
    ca_cert: x509.Certificate,
    names: Sequence[str],
    must_outlive: datetime,
) -> x509.Certificate | None:
    """The existing server certificate if it can stay; None if it must be reissued."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return None
    if not _key_matches(key, cert) or cert.not_valid_after_utc <= must_outlive:
        return None
    if not set(names) <= _names_in(cert):
        return None
    return cert


def _names_in(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    dns = (name.lower() for name in san.get_values_for_type(x509.DNSName))
    ips = (str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return {*dns, *ips}


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _create_ca(now: datetime, validity: _Validity) -> tuple[x509.Certificate, PrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edge-agent"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"edge-agent CA {secrets.token_hex(4)}"),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=validity.ca_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf_builder(
    ca_cert: x509.Certificate, key: PrivateKey, now: datetime, lifetime: timedelta
) -> x509.CertificateBuilder:
    """Fields shared by server and client certificates."""
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    not_after = min(now + lifetime, ca_cert.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _create_server_cert(
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    names: Sequence[str],
    now: datetime,
    validity: _Validity,
) -> tuple[x509.Certificate, PrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _leaf_builder(ca_cert, key, now, timedelta(days=validity.server_days))
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_COMMON_NAME)]))
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key
