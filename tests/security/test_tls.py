"""TLS material: generation on first start, reuse, reissue, client certificates."""

from __future__ import annotations

import logging
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.clock import FakeClock
from agent.security.errors import MissingCaKeyError, UserError
from agent.security.tls import ensure_tls_material, issue_client_certificate


def san_of(pem: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName)} | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    }


def test_first_start_creates_ca_and_server_cert(state_dir: Path) -> None:
    material = ensure_tls_material(state_dir)
    tls = state_dir / "tls"
    assert material.directory == tls
    assert material.ca_created and material.server_cert_created
    for name in ("ca.crt", "ca.key", "server.crt", "server.key"):
        assert (tls / name).is_file()
    assert stat.S_IMODE((tls / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tls / "server.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(tls.stat().st_mode) == 0o700
    assert material.server_key_pem == (tls / "server.key").read_bytes()
    assert material.ca_cert_pem == (tls / "ca.crt").read_bytes()

    ca = x509.load_pem_x509_certificate(material.ca_cert_pem)
    server = x509.load_pem_x509_certificate(material.server_cert_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > timedelta(days=3600)
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert timedelta(days=364) < lifetime < timedelta(days=367)
    server.verify_directly_issued_by(ca)
    assert san_of(material.server_cert_pem) == {"localhost", "127.0.0.1", "::1"}
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku


def test_later_starts_reuse_the_files(state_dir: Path) -> None:
    first = ensure_tls_material(state_dir, extra_names=["agent.example"])
    second = ensure_tls_material(state_dir, extra_names=["agent.example"])
    assert not second.ca_created and not second.server_cert_created
    assert (second.ca_cert_pem, second.server_cert_pem, second.server_key_pem) == (
        first.ca_cert_pem,
        first.server_cert_pem,
        first.server_key_pem,
    )
    # A subset of the names already present needs no new certificate either.
    assert not ensure_tls_material(state_dir).server_cert_created


def test_missing_name_reissues_server_cert_with_same_ca(state_dir: Path) -> None:
    first = ensure_tls_material(state_dir)
    second = ensure_tls_material(state_dir, extra_names=["edge-7.example", "10.0.0.7", "fd00::7"])
    assert second.server_cert_created and not second.ca_created
    assert second.ca_cert_pem == first.ca_cert_pem
    assert second.server_key_pem != first.server_key_pem
    expected = {"localhost", "127.0.0.1", "::1", "edge-7.example", "10.0.0.7", "fd00::7"}
    assert san_of(second.server_cert_pem) == expected
    assert (state_dir / "tls" / "server.crt").read_bytes() == second.server_cert_pem
    ca = x509.load_pem_x509_certificate(second.ca_cert_pem)
    x509.load_pem_x509_certificate(second.server_cert_pem).verify_directly_issued_by(ca)


def test_expired_server_cert_is_reissued(state_dir: Path) -> None:
    clock = FakeClock()
    first = ensure_tls_material(state_dir, clock=clock)
    clock.advance(seconds=366 * 86400)
    renewed = ensure_tls_material(state_dir, clock=clock)
    assert renewed.server_cert_created and not renewed.ca_created
    assert renewed.ca_cert_pem == first.ca_cert_pem
    server = x509.load_pem_x509_certificate(renewed.server_cert_pem)
    old_expiry = x509.load_pem_x509_certificate(first.server_cert_pem).not_valid_after_utc
    assert server.not_valid_after_utc > old_expiry


def test_server_cert_is_renewed_shortly_before_expiry(state_dir: Path) -> None:
    clock = FakeClock()
    ensure_tls_material(state_dir, clock=clock)
    clock.advance(seconds=300 * 86400)
    assert not ensure_tls_material(state_dir, clock=clock).server_cert_created
    clock.advance(seconds=40 * 86400)  # 25 days left, inside the 30-day renewal window
    assert ensure_tls_material(state_dir, clock=clock).server_cert_created


def test_replaced_server_key_triggers_reissue(state_dir: Path) -> None:
    first = ensure_tls_material(state_dir)
    other = ensure_tls_material(state_dir / "other")
    (state_dir / "tls" / "server.key").write_bytes(other.server_key_pem)
    again = ensure_tls_material(state_dir)
    assert again.server_cert_created and again.ca_cert_pem == first.ca_cert_pem


def test_without_the_ca_key_the_certificates_stay_but_nothing_is_issued(
    state_dir: Path,
) -> None:
    first = ensure_tls_material(state_dir)
    (state_dir / "tls" / "ca.key").unlink()
    again = ensure_tls_material(state_dir)
    assert not again.server_cert_created and again.server_cert_pem == first.server_cert_pem
    # Without the key nobody can tell it from an operator's: a missing name only warns.
    named = ensure_tls_material(state_dir, extra_names=["edge-7.example"])
    assert not named.server_cert_created and named.server_cert_pem == first.server_cert_pem
    (state_dir / "tls" / "server.crt").unlink()
    (state_dir / "tls" / "server.key").unlink()
    with pytest.raises(MissingCaKeyError, match=r"ca\.key: missing") as missing:
        ensure_tls_material(state_dir)
    assert missing.value.path == state_dir / "tls" / "ca.key"
    assert sorted(path.name for path in (state_dir / "tls").iterdir()) == ["ca.crt"]


def test_missing_server_key_of_the_agents_certificate_is_reissued(state_dir: Path) -> None:
    first = ensure_tls_material(state_dir)
    (state_dir / "tls" / "server.key").unlink()
    again = ensure_tls_material(state_dir)
    assert again.server_cert_created and again.server_cert_pem != first.server_cert_pem


def test_expired_ca_is_recreated_when_a_certificate_must_be_issued(state_dir: Path) -> None:
    clock = FakeClock()
    first = ensure_tls_material(state_dir, clock=clock)
    clock.advance(seconds=3651 * 86400)
    again = ensure_tls_material(state_dir, clock=clock)
    assert again.ca_created and again.server_cert_created
    assert again.ca_cert_pem != first.ca_cert_pem
    assert again.ca_cert_pem is not None
    ca = x509.load_pem_x509_certificate(again.ca_cert_pem)
    x509.load_pem_x509_certificate(again.server_cert_pem).verify_directly_issued_by(ca)


def test_every_file_written_is_logged_with_its_reason(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="agent.security.tls"):
        ensure_tls_material(state_dir)
        ensure_tls_material(state_dir)  # nothing to do: nothing logged
        ensure_tls_material(state_dir, extra_names=["edge-7.example"])
    tls = state_dir / "tls"
    assert [record.getMessage() for record in caplog.records] == [
        f"{tls / 'ca.crt'}: creating a new CA (no ca.crt yet)",
        f"{tls / 'server.crt'}: issuing a new server certificate and key (no server.crt yet)",
        f"{tls / 'server.crt'}: issuing a new server certificate and key "
        "(server.crt does not name edge-7.example)",
    ]


def test_bad_extra_name_is_refused(state_dir: Path) -> None:
    with pytest.raises(ValueError, match="neither an IP address nor a DNS name"):
        ensure_tls_material(state_dir, extra_names=["bad name!"])


def test_issue_client_certificate(state_dir: Path) -> None:
    material = ensure_tls_material(state_dir)
    client = issue_client_certificate(material, "alice")
    cert = x509.load_pem_x509_certificate(client.certificate_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(material.ca_cert_pem))
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert b"PRIVATE KEY" in client.private_key_pem
    assert "PRIVATE" not in repr(client)
    with pytest.raises(UserError):
        issue_client_certificate(material, "not a name")


def test_ip_names_are_canonical(state_dir: Path) -> None:
    material = ensure_tls_material(state_dir, extra_names=["0:0:0:0:0:0:0:1", "LOCALHOST"])
    assert sorted(material.server_names) == sorted(["localhost", "127.0.0.1", "::1"])
