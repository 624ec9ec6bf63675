"""The HTTP listener for Prometheus: ``GET /metrics`` on the address configured.

prometheus_client's WSGI server runs in a thread of its own, so a scrape (and the
driver reads of the per-entity counters) never waits for the event loop, and the event
loop never waits for a scrape.
"""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from agent.config import ListenAddress

log = logging.getLogger(__name__)


class MetricsStartError(RuntimeError):
    """The metrics listener cannot listen on its address."""


class MetricsListener:
    """Serves one registry over HTTP; start, then stop."""

    def __init__(self, address: ListenAddress, registry: CollectorRegistry) -> None:
        self._address = address
        self._registry = registry
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (0 before start)."""
        return 0 if self._server is None else int(self._server.server_port)

    @property
    def url(self) -> str:
        """Where Prometheus scrapes (after start)."""
        return f"http://{self._address.with_port(self.port)}/metrics"

    def start(self) -> int:
        """Binds and serves; returns the port. Raises MetricsStartError."""
        address = self._address
        try:
            server, thread = start_http_server(address.port, address.host, self._registry)
        except OSError as err:
            reason = err.strerror or str(err)
            raise MetricsStartError(f"metrics cannot listen on {address}: {reason}") from None
        self._server, self._thread = server, thread
        log.info("Prometheus metrics on %s", self.url)
        return self.port

    def stop(self) -> None:
        """Stops serving and closes the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
