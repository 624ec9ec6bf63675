"""`edge-agent health`: ask a running agent's gRPC health service (grpc.health.v1) whether
it serves; for container health checks and Kubernetes exec probes.

It reads the same settings file as ``serve`` to find the address (a wildcard listen
address is asked on loopback) and the trust anchor (STATE_DIR/tls/ca.crt unless
``--insecure``). It exits 0 when the service answers SERVING and 1 otherwise, with one
line saying why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agent.config import ConfigError, ListenAddress, Settings, load_settings
from agent.security.tls import CA_CERT_FILENAME, TLS_DIRNAME

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1


def register(subparsers: Any) -> None:
    """Adds the ``health`` command."""
    parser = subparsers.add_parser(
        "health",
        help="check a running agent through its gRPC health service (exit 0: serving)",
        description="Ask the agent's grpc.health.v1 service whether it is SERVING. "
        "Exit 0 when it is, 1 when it is not or cannot be asked.",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="the agent's TOML settings")
    parser.add_argument(
        "--target", metavar="HOST:PORT", help="address to ask (default: the listen setting)"
    )
    parser.add_argument(
        "--state-dir", type=Path, metavar="DIR", help="where tls/ca.crt is (default: settings)"
    )
    parser.add_argument("--insecure", action="store_true", help="plaintext gRPC (no TLS)")
    parser.add_argument(
        "--ca-file", type=Path, metavar="FILE", help="CA bundle to trust (default: its ca.crt)"
    )
    parser.add_argument(
        "--server-name", metavar="NAME", help="name expected in the server certificate"
    )
    parser.add_argument("--client-cert", type=Path, metavar="FILE", help="for mutual TLS")
    parser.add_argument("--client-key", type=Path, metavar="FILE", help="for mutual TLS")
    parser.add_argument(
        "--service", default="", metavar="NAME", help="e.g. gnmi.gNMI (default: the whole agent)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="default 5")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Asks once; prints the answer and returns the exit code."""
    try:
        settings = load_settings(args.config) if args.config else Settings()
        target = ListenAddress.parse(args.target) if args.target else settings.listen
        credentials = _credentials(args, settings)
    except (ConfigError, OSError) as err:
        return _report(f"error: {err}")
    address = str(target.for_local_client())
    options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
    if credentials is None:
        channel = grpc.insecure_channel(address, options=options)
    else:
        channel = grpc.secure_channel(address, credentials, options=options)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.RpcError as err:
            code = err.code().name if hasattr(err, "code") else "UNKNOWN"
            details = err.details() if hasattr(err, "details") else str(err)
            return _report(f"{address}: {code}" + (f": {details}" if details else ""))
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    label = args.service or "edge-agent"
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        return _report(f"{address}: {label} {status}")
    print(f"{address}: {label} {status}")
    return EXIT_SERVING


def _credentials(args: argparse.Namespace, settings: Settings) -> grpc.ChannelCredentials | None:
    """TLS trusting the CA file (the state directory's ca.crt by default); None when the
    agent serves plaintext."""
    if (args.client_cert is None) != (args.client_key is None):
        raise ConfigError("--client-cert and --client-key go together")
    if args.insecure or (settings.tls.insecure and args.ca_file is None):
        return None
    state_dir: Path = args.state_dir or settings.state_dir
    ca_file: Path = args.ca_file or state_dir / TLS_DIRNAME / CA_CERT_FILENAME
    root = _read(ca_file, "CA bundle")
    if args.client_cert is None:
        return grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.ssl_channel_credentials(
        root_certificates=root,
        private_key=_read(args.client_key, "client key"),
        certificate_chain=_read(args.client_cert, "client certificate"),
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{what} {path}: {err.strerror or err}") from None


def _report(text: str) -> int:
    print(f"edge-agent health: {text}", file=sys.stderr, flush=True)
    return EXIT_NOT_SERVING


__all__ = ["register", "run"]
