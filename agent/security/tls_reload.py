"""Server TLS credentials whose certificate is replaced while the server runs.

gRPC asks :class:`ReloadableTls` for a new certificate configuration at every TLS
handshake; it hands one over only after :meth:`ReloadableTls.reload` read new files,
so connections made from then on present the new certificate (and, with mutual TLS,
verify clients against the client CA bundle as it is now), while connections already
open, and the streams on them, go on with the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import grpc

from agent.security.tls import TlsMaterial, ensure_tls_material, load_ca_bundle


class ReloadableTls:
    """The agent's TLS material and the gRPC server credentials serving it."""

    def __init__(
        self, state_dir: Path, *, extra_names: Sequence[str] = (), client_ca: Path | None = None
    ) -> None:
        """Reads (or creates) the material now; raises TlsMaterialError."""
        self._state_dir = state_dir
        self._extra_names = tuple(extra_names)
        self._client_ca = client_ca
        self._lock = threading.Lock()
        self._material, initial = self._read()
        self._fresh: grpc.ServerCertificateConfiguration | None = None
        self.credentials = grpc.dynamic_ssl_server_credentials(
            initial, self._fetch, require_client_authentication=client_ca is not None
        )

    @property
    def material(self) -> TlsMaterial:
        """The material new connections get."""
        return self._material

    def reload(self) -> TlsMaterial:
        """Reads the files again (reissuing the agent's own certificate when it is due, as
        at start); new connections get them. Raises TlsMaterialError, and then the
        certificate in use stays."""
        material, configuration = self._read()
        with self._lock:
            self._material, self._fresh = material, configuration
        return material

    def _read(self) -> tuple[TlsMaterial, grpc.ServerCertificateConfiguration]:
        material = ensure_tls_material(self._state_dir, extra_names=self._extra_names)
        client_ca = load_ca_bundle(self._client_ca) if self._client_ca else None
        configuration = grpc.ssl_server_certificate_configuration(
            [(material.server_key_pem, material.server_cert_pem)], root_certificates=client_ca
        )
        return material, configuration

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC at each handshake: the new configuration once, else None."""
        with self._lock:
            fresh, self._fresh = self._fresh, None
        return fresh
