"""TLS material for the agent's servers: a local CA, a server certificate, client certificates.

:func:`ensure_tls_material` looks after ``STATE_DIR/tls/``:

    ca.crt      the CA certificate clients trust
    ca.key      its private key (mode 0600), needed only to issue certificates
    server.crt  the server certificate (first in the file, then any intermediates)
    server.key  its private key (mode 0600)

Whose certificate: server.crt is the agent's when ca.crt directly issued it and ca.key,
the key of ca.crt, is present; the agent could issue it again, so it may replace it.
Any other server certificate is the operator's: it is kept byte for byte, whatever CA
signed it, and the agent only warns when it is expired or close to expiry, lacks a
configured server name, or does not chain to ca.crt.

On first start the agent creates an EC P-256 CA (about ten years) and a server
certificate signed by it (about one year) for localhost, 127.0.0.1, ::1 and any extra
names. Later starts reuse the files. The agent's own server certificate is reissued, by
the same CA, when its key is missing or does not match, when it is expired or close to
expiry, or when it lacks a requested name. A CA is created only when a certificate must
be issued and there is no ca.crt, and recreated only when it must issue and ca.crt has
expired. Without ca.key nothing is issued: when something must be, MissingCaKeyError
names the missing file (the operator's ca.crt is never replaced). A damaged or
unreadable file, a key that does not match the operator's certificate, or a key without
its certificate raise TlsMaterialError naming the file. Every file written is logged as
a warning with the reason.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.clock import Clock, SystemClock
from agent.durable_files import atomic_write, ensure_dir
from agent.security.errors import MissingCaKeyError, TlsMaterialError
from agent.security.users import validate_user_name

TLS_DIRNAME = "tls"
CA_CERT_FILENAME = "ca.crt"
CA_KEY_FILENAME = "ca.key"
SERVER_CERT_FILENAME = "server.crt"
SERVER_KEY_FILENAME = "server.key"
DEFAULT_SERVER_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
SERVER_COMMON_NAME = "edge-agent"
_BACKDATE = timedelta(minutes=5)
_SIGNING_KEYS = (
    ec.EllipticCurvePrivateKey,
    rsa.RSAPrivateKey,
    dsa.DSAPrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)

_LOG = logging.getLogger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PrivateKey = ec.EllipticCurvePrivateKey


class CertificateOrigin(enum.Enum):
    """Who a server certificate belongs to, which decides whether the agent may replace it."""

    AGENT = "agent"  # issued by the CA whose key is in the state directory
    OPERATOR = "operator"  # anything else: kept as it is


@dataclass(frozen=True)
class TlsMaterial:
    """Where the TLS files are and the PEM bytes a gRPC server needs.

    ``ca_cert_pem`` is None when the state directory has no ca.crt (an operator's
    server certificate alone).
    """

    directory: Path
    ca_cert_path: Path
    ca_key_path: Path
    server_cert_path: Path
    server_key_path: Path
    ca_cert_pem: bytes | None
    server_cert_pem: bytes
    server_key_pem: bytes = field(repr=False)
    server_names: tuple[str, ...]
    ca_created: bool = False
    server_cert_created: bool = False
    server_cert_origin: CertificateOrigin = CertificateOrigin.AGENT


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


@dataclass(frozen=True)
class _Ca:
    """ca.crt (its first certificate, and all of them) and, if present, ca.key (which
    then belongs to the first)."""

    cert: x509.Certificate
    key: PrivateKeyTypes | None
    bundle: tuple[x509.Certificate, ...]


@dataclass(frozen=True)
class _Paths:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def in_directory(cls, directory: Path) -> _Paths:
        return cls(
            ca_cert=directory / CA_CERT_FILENAME,
            ca_key=directory / CA_KEY_FILENAME,
            server_cert=directory / SERVER_CERT_FILENAME,
            server_key=directory / SERVER_KEY_FILENAME,
        )


def ensure_tls_material(
    state_dir: Path,
    *,
    extra_names: Sequence[str] = (),
    clock: Clock | None = None,
    ca_validity_days: int = 3650,
    server_validity_days: int = 365,
    renew_before_days: int = 30,
) -> TlsMaterial:
    """Creates, reuses or reissues the TLS files in ``STATE_DIR/tls`` (module docstring).

    ``extra_names`` are DNS names or IP addresses added to the default SubjectAltNames.
    Raises TlsMaterialError (MissingCaKeyError when a certificate must be issued without
    ca.key) naming the file at fault; files are then left as they are.
    """
    names = normalise_server_names((*DEFAULT_SERVER_NAMES, *extra_names))
    configured = normalise_server_names(extra_names)
    now = _now(clock)
    validity = _Validity(
        ca_days=ca_validity_days,
        server_days=server_validity_days,
        renew_before=timedelta(days=renew_before_days),
    )
    directory = state_dir / TLS_DIRNAME
    ensure_dir(directory)
    paths = _Paths.in_directory(directory)

    ca = _read_ca(paths)
    reason = _reason_to_issue(ca, paths, names, configured, now, validity)
    ca_created = False
    if reason is not None:
        ca_cert, ca_key, ca_created = _ca_for_issuing(ca, paths, now, validity, reason)
        _LOG.warning("%s: issuing a new server certificate and key (%s)", paths.server_cert, reason)
        cert, key = _create_server_cert(ca_cert, ca_key, names, now, validity)
        # The certificate first: a crash in between leaves the agent's certificate with a
        # key that does not match, which the next start reissues.
        atomic_write(paths.server_cert, _cert_pem(cert), mode=0o644)
        atomic_write(paths.server_key, _key_pem(key), mode=0o600)
    elif ca is not None and ca.cert.not_valid_after_utc <= now:
        _LOG.warning("%s expired on %s", paths.ca_cert, ca.cert.not_valid_after_utc)

    server_cert_pem = paths.server_cert.read_bytes()
    leaf = x509.load_pem_x509_certificate(server_cert_pem)
    agents = reason is not None or _is_agents(leaf, ca)
    return TlsMaterial(
        directory=directory,
        ca_cert_path=paths.ca_cert,
        ca_key_path=paths.ca_key,
        server_cert_path=paths.server_cert,
        server_key_path=paths.server_key,
        ca_cert_pem=paths.ca_cert.read_bytes() if paths.ca_cert.exists() else None,
        server_cert_pem=server_cert_pem,
        server_key_pem=paths.server_key.read_bytes(),
        server_names=tuple(sorted(_names_in(leaf))),
        ca_created=ca_created,
        server_cert_created=reason is not None,
        server_cert_origin=CertificateOrigin.AGENT if agents else CertificateOrigin.OPERATOR,
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
        message = f"{path}: not a PEM bundle of CA certificates: {exc}"
        raise TlsMaterialError(message, path=path) from exc
    if not certificates:
        raise TlsMaterialError(f"{path}: no certificate found", path=path)
    return data


def issue_client_certificate(
    material: TlsMaterial,
    username: str,
    *,
    validity_days: int = 365,
    clock: Clock | None = None,
) -> ClientCertificate:
    """Issues a client certificate (CN = ``username``) signed by the agent's CA.

    Raises MissingCaKeyError without ca.key, TlsMaterialError without a usable ca.crt.
    """
    validate_user_name(username)
    now = _now(clock)
    paths = _Paths.in_directory(material.directory)
    ca = _read_ca(paths)
    if ca is None:
        raise TlsMaterialError(f"{paths.ca_cert}: missing, no CA to sign with", path=paths.ca_cert)
    if ca.cert.not_valid_after_utc <= now:
        raise TlsMaterialError(
            f"{paths.ca_cert} expired on {ca.cert.not_valid_after_utc}", path=paths.ca_cert
        )
    ca_key = _issuer_key(ca, paths, f"a client certificate for {username}")
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _leaf_builder(ca.cert, ca_key, key, now, timedelta(days=validity_days))
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, username)]))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    cert = _sign(builder, ca_key)
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
    try:
        return key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _read_certificates(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM file, first one first; TlsMaterialError if there are none."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise TlsMaterialError(f"{path}: cannot read: {exc.strerror or exc}", path=path) from None
    except ValueError as exc:
        raise TlsMaterialError(f"{path}: not a PEM certificate ({exc})", path=path) from None
    if not certificates:
        raise TlsMaterialError(f"{path}: no certificate found", path=path)
    return certificates


def _read_key(path: Path) -> PrivateKeyTypes:
    """An unencrypted PEM private key; TlsMaterialError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsMaterialError(f"{path}: cannot read: {exc.strerror or exc}", path=path) from None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise TlsMaterialError(
            f"{path}: the key is encrypted; the agent needs it unencrypted (mode 0600)",
            path=path,
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise TlsMaterialError(f"{path}: not a PEM private key ({exc})", path=path) from None


def _read_ca(paths: _Paths) -> _Ca | None:
    """ca.crt with its key if present; None without ca.crt."""
    if not paths.ca_cert.exists():
        if paths.ca_key.exists():
            raise TlsMaterialError(
                f"{paths.ca_key} exists without {paths.ca_cert.name}: add the CA certificate "
                "or remove the key",
                path=paths.ca_cert,
            )
        return None
    bundle = tuple(_read_certificates(paths.ca_cert))
    cert = bundle[0]
    key = _read_key(paths.ca_key) if paths.ca_key.exists() else None
    if key is not None and not _key_matches(key, cert):
        raise TlsMaterialError(
            f"{paths.ca_key} does not belong to {paths.ca_cert} (if {paths.ca_cert.name} "
            f"comes from your own PKI, remove {paths.ca_key.name} or put its key there)",
            path=paths.ca_key,
        )
    return _Ca(cert, key, bundle)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_agents(leaf: x509.Certificate, ca: _Ca | None) -> bool:
    """True when the CA whose key is in the state directory issued ``leaf``."""
    return ca is not None and ca.key is not None and _issued_by(leaf, ca.cert)


def _reason_to_issue(
    ca: _Ca | None,
    paths: _Paths,
    names: Sequence[str],
    configured: Sequence[str],
    now: datetime,
    validity: _Validity,
) -> str | None:
    """Why a new server certificate must be issued; None to keep server.crt (the
    operator's is checked for its key and warned about)."""
    chain = _read_certificates(paths.server_cert) if paths.server_cert.exists() else None
    key = _read_key(paths.server_key) if paths.server_key.exists() else None
    if chain is None:
        if key is not None:
            raise TlsMaterialError(
                f"{paths.server_key} exists without {paths.server_cert.name}: add the "
                "certificate or remove the key",
                path=paths.server_cert,
            )
        return f"no {paths.server_cert.name} yet"
    if _is_agents(chain[0], ca):
        return _reissue_reason(chain[0], key, names, now + validity.renew_before, paths)
    _check_operator_pair(chain[0], key, paths)
    _warn_about_operator_certificate(chain, ca, configured, now, validity, paths)
    return None


def _reissue_reason(
    leaf: x509.Certificate,
    key: PrivateKeyTypes | None,
    names: Sequence[str],
    must_outlive: datetime,
    paths: _Paths,
) -> str | None:
    """Why the agent's own server certificate must be reissued; None if it can stay."""
    if key is None:
        return f"{paths.server_key.name} is missing"
    if not _key_matches(key, leaf):
        return f"{paths.server_key.name} does not match {paths.server_cert.name}"
    if leaf.not_valid_after_utc <= must_outlive:
        return f"{paths.server_cert.name} expires on {leaf.not_valid_after_utc}"
    missing = [name for name in names if name not in _names_in(leaf)]
    if missing:
        return f"{paths.server_cert.name} does not name {', '.join(missing)}"
    return None


def _check_operator_pair(
    leaf: x509.Certificate, key: PrivateKeyTypes | None, paths: _Paths
) -> None:
    """The operator's certificate needs its own key: the agent cannot make one."""
    if key is None:
        raise TlsMaterialError(
            f"{paths.server_key}: missing; {paths.server_cert.name} was not issued by this "
            "agent, which therefore does not replace it: add its key",
            path=paths.server_key,
        )
    if not _key_matches(key, leaf):
        raise TlsMaterialError(
            f"{paths.server_key} does not match the certificate in {paths.server_cert}",
            path=paths.server_key,
        )


def _warn_about_operator_certificate(
    chain: Sequence[x509.Certificate],
    ca: _Ca | None,
    configured: Sequence[str],
    now: datetime,
    validity: _Validity,
    paths: _Paths,
) -> None:
    """Logs what is wrong with a certificate the agent keeps but does not own."""
    leaf = chain[0]
    where = f"{paths.server_cert} (not issued by this agent, kept as it is)"
    expiry = leaf.not_valid_after_utc
    if expiry <= now:
        _LOG.warning("%s expired on %s: clients will refuse it", where, expiry)
    elif expiry <= now + validity.renew_before:
        _LOG.warning("%s expires on %s", where, expiry)
    if leaf.not_valid_before_utc > now:
        _LOG.warning("%s is not valid before %s", where, leaf.not_valid_before_utc)
    present = _names_in(leaf)
    missing = [name for name in configured if not _covers(present, name)]
    if missing:
        _LOG.warning("%s does not name %s", where, ", ".join(missing))
    if ca is not None and not any(_issued_by(c, anchor) for c in chain for anchor in ca.bundle):
        _LOG.warning(
            "%s is not issued by %s: clients trusting %s will refuse it",
            where,
            paths.ca_cert,
            paths.ca_cert.name,
        )


def _covers(present: set[str], name: str) -> bool:
    """True when ``name`` is among the SubjectAltNames, directly or by a wildcard."""
    if name in present:
        return True
    _, dot, parent = name.partition(".")
    return bool(dot) and f"*.{parent}" in present


def _issuer_key(ca: _Ca, paths: _Paths, purpose: str) -> CertificateIssuerPrivateKeyTypes:
    """The CA key for signing ``purpose``; MissingCaKeyError without it."""
    if ca.key is None:
        raise MissingCaKeyError(
            f"{paths.ca_key}: missing; the key of {paths.ca_cert.name} is needed to issue "
            f"{purpose}. Put it there, or install {paths.server_cert.name} and "
            f"{paths.server_key.name} from your own PKI",
            path=paths.ca_key,
        )
    if not isinstance(ca.key, _SIGNING_KEYS):
        raise TlsMaterialError(f"{paths.ca_key}: this kind of key cannot sign", path=paths.ca_key)
    try:
        constraints = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise TlsMaterialError(f"{paths.ca_cert}: not a CA certificate", path=paths.ca_cert)
    return ca.key


def _ca_for_issuing(
    ca: _Ca | None, paths: _Paths, now: datetime, validity: _Validity, reason: str
) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes, bool]:
    """The CA to issue the server certificate with, created if there is none or it
    expired; True when it was created."""
    purpose = f"a server certificate ({reason})"
    if ca is not None and ca.cert.not_valid_after_utc > now:
        return ca.cert, _issuer_key(ca, paths, purpose), False
    if ca is None:
        why = f"no {paths.ca_cert.name} yet"
    else:
        _issuer_key(ca, paths, purpose)  # an expired CA without its key is the operator's
        why = f"{paths.ca_cert.name} expired on {ca.cert.not_valid_after_utc}"
    _LOG.warning("%s: creating a new CA (%s)", paths.ca_cert, why)
    cert, key = _create_ca(now, validity)
    atomic_write(paths.ca_key, _key_pem(key), mode=0o600)
    atomic_write(paths.ca_cert, _cert_pem(cert), mode=0o644)
    return cert, key, True


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
    ca_cert: x509.Certificate,
    ca_key: CertificateIssuerPrivateKeyTypes,
    key: PrivateKey,
    now: datetime,
    lifetime: timedelta,
) -> x509.CertificateBuilder:
    """Fields shared by server and client certificates."""
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:  # an operator's CA may lack it
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
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
        .add_extension(aki, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _create_server_cert(
    ca_cert: x509.Certificate,
    ca_key: CertificateIssuerPrivateKeyTypes,
    names: Sequence[str],
    now: datetime,
    validity: _Validity,
) -> tuple[x509.Certificate, PrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _leaf_builder(ca_cert, ca_key, key, now, timedelta(days=validity.server_days))
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_COMMON_NAME)]))
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    return _sign(builder, ca_key), key


def _sign(
    builder: x509.CertificateBuilder, ca_key: CertificateIssuerPrivateKeyTypes
) -> x509.Certificate:
    """Signs with SHA-256, or with the key's own hash for Ed25519 and Ed448."""
    if isinstance(ca_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return builder.sign(ca_key, None)
    return builder.sign(ca_key, hashes.SHA256())
