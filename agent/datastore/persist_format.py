"""On-disk encoding of a saved configuration and of the pending commit-confirmed record.

A configuration file is two lines of JSON, so ``jq`` reads it as a stream of two values:

1. the header: ``format``, ``version``, ``saved_at_ns``, ``meta``, ``config_sha256`` (sha256
   of the canonical JSON of the tree), ``config_bytes`` (its length) and ``header_sha256``
   (sha256 of the canonical header without that member);
2. the tree itself as canonical JSON (sorted keys, no whitespace, UTF-8).

Because the second line is exactly the canonical JSON, checking a file costs one sha256
over the bytes read; any truncation, flipped byte or foreign file fails a check that says
which.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FORMAT = "edge-agent/config/1"
PENDING_FORMAT = "edge-agent/pending-confirm/1"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class FormatError(ValueError):
    """A file's content fails a check; the message says which one."""


@dataclass(frozen=True, slots=True)
class ConfigHeader:
    """What a saved configuration file says about the tree it carries."""

    version: int
    saved_at_ns: int
    config_sha256: str
    config_bytes: int
    meta: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A configuration read back from disk: its header and its RFC 7951 tree."""

    header: ConfigHeader
    tree: dict[str, Any]

    @property
    def version(self) -> int:
        return self.header.version

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.header.meta

    @property
    def config_sha256(self) -> str:
        return self.header.config_sha256


@dataclass(frozen=True, slots=True)
class PendingConfirm:
    """A commit-confirmed commit that is not yet confirmed.

    ``version`` is the version the commit saves, ``previous_version`` the one to roll back
    to; ``deadline_wall_ns`` is wall-clock time (a monotonic clock does not survive a reboot).
    """

    commit_id: str
    version: int
    previous_version: int
    deadline_wall_ns: int


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    """One checkpoint file; ``header`` is None and ``problem`` says why when it is unusable."""

    version: int
    path: Path
    header: ConfigHeader | None
    problem: str | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None


def canonical_json(value: Any) -> bytes:
    """The canonical JSON of ``value``: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode_config(
    version: int, tree: Mapping[str, Any], meta: Mapping[str, Any], saved_at_ns: int
) -> tuple[ConfigHeader, bytes]:
    """The header and the complete file content for ``tree`` saved as ``version``."""
    body = canonical_json(tree)
    header = ConfigHeader(version, saved_at_ns, sha256_hex(body), len(body), dict(meta))
    return header, encode_with_body(header, body)


def encode_with_body(header: ConfigHeader, body: bytes) -> bytes:
    """The file content for an already canonical ``body`` described by ``header``."""
    fields: dict[str, Any] = {
        "format": CONFIG_FORMAT,
        "version": header.version,
        "saved_at_ns": header.saved_at_ns,
        "meta": dict(header.meta),
        "config_sha256": header.config_sha256,
        "config_bytes": header.config_bytes,
    }
    fields["header_sha256"] = sha256_hex(canonical_json(fields))
    return canonical_json(fields) + b"\n" + body + b"\n"


def decode_header(line: bytes) -> ConfigHeader:
    """Checks and decodes a header line (without its newline)."""
    try:
        fields = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"header line is not JSON (truncated or foreign file): {exc}") from None
    if not isinstance(fields, dict) or "format" not in fields:
        raise FormatError("not an edge-agent configuration file (no format marker)")
    if fields["format"] != CONFIG_FORMAT:
        raise FormatError(f"unsupported format {fields['format']!r}, expected {CONFIG_FORMAT!r}")
    claimed = fields.pop("header_sha256", None)
    if claimed != sha256_hex(canonical_json(fields)):
        raise FormatError("header checksum mismatch (header damaged)")
    meta = fields.get("meta")
    if not isinstance(meta, dict):
        raise FormatError("header field 'meta' is not a JSON object")
    sha = fields.get("config_sha256")
    if not isinstance(sha, str) or not _SHA256_HEX.fullmatch(sha):
        raise FormatError("header field 'config_sha256' is not a sha256 digest")
    return ConfigHeader(
        version=_natural(fields, "version"),
        saved_at_ns=_natural(fields, "saved_at_ns"),
        config_sha256=sha,
        config_bytes=_natural(fields, "config_bytes"),
        meta=meta,
    )


def split_config(data: bytes) -> tuple[ConfigHeader, bytes]:
    """Checks a whole file and returns its header and canonical tree bytes (not parsed)."""
    if not data:
        raise FormatError("empty file")
    end = data.find(b"\n")
    header = decode_header(data if end < 0 else data[:end])
    if end < 0:
        raise FormatError("truncated: the file ends after the header")
    body = data[end + 1 :]
    expected = header.config_bytes + 1
    if len(body) < expected:
        raise FormatError(f"truncated: tree has {len(body)} of {expected} bytes")
    if len(body) > expected or not body.endswith(b"\n"):
        raise FormatError(f"size mismatch: tree has {len(body)} bytes, header says {expected}")
    body = body[:-1]
    if sha256_hex(body) != header.config_sha256:
        raise FormatError("tree checksum mismatch (content damaged)")
    return header, body


def decode_config(data: bytes) -> Snapshot:
    """Checks a whole file and decodes it."""
    header, body = split_config(data)
    try:
        tree = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"tree is not JSON: {exc}") from None
    if not isinstance(tree, dict):
        raise FormatError("tree is not a JSON object")
    return Snapshot(header, tree)


def encode_pending(record: PendingConfirm) -> bytes:
    fields: dict[str, Any] = {
        "format": PENDING_FORMAT,
        "commit_id": record.commit_id,
        "version": record.version,
        "previous_version": record.previous_version,
        "deadline_wall_ns": record.deadline_wall_ns,
    }
    fields["sha256"] = sha256_hex(canonical_json(fields))
    return canonical_json(fields) + b"\n"


def decode_pending(data: bytes) -> PendingConfirm:
    """Checks and decodes a pending commit-confirmed record."""
    if not data:
        raise FormatError("empty file")
    try:
        fields = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not JSON (truncated or foreign file): {exc}") from None
    if not isinstance(fields, dict) or fields.get("format") != PENDING_FORMAT:
        raise FormatError(f"not a pending commit-confirmed record ({PENDING_FORMAT!r})")
    claimed = fields.pop("sha256", None)
    if claimed != sha256_hex(canonical_json(fields)):
        raise FormatError("checksum mismatch (record damaged)")
    commit_id = fields.get("commit_id")
    if not isinstance(commit_id, str):
        raise FormatError("field 'commit_id' is not a string")
    return PendingConfirm(
        commit_id=commit_id,
        version=_natural(fields, "version"),
        previous_version=_natural(fields, "previous_version"),
        deadline_wall_ns=_natural(fields, "deadline_wall_ns"),
    )


def _natural(fields: Mapping[str, Any], name: str) -> int:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FormatError(f"field {name!r} is not a non-negative integer")
    return value
