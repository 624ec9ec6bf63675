"""On-disk encoding of a saved configuration (a checkpoint) and of the pending
commit-confirmed record.

A configuration file is two lines of JSON, so ``jq`` reads it as a stream of two values:

1. the header: ``format``, ``version``, ``saved_at_ns``, ``meta``, ``config_sha256`` (sha256
   of the canonical JSON of the tree), ``config_bytes`` (its length), ``validated_by`` (the
   schema stamp the tree was validated with, see ``validation_stamp``) and
   ``header_sha256`` (sha256 of the canonical header without that member);
2. the tree itself as canonical JSON (sorted keys, no whitespace, UTF-8).

Because the second line is exactly the canonical JSON, checking a file costs one sha256
over the bytes read; any truncation, flipped byte or foreign file fails a check that says
which.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import __version__
from agent.schema.library import ModuleInfo

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
    validated_by: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A configuration read back from disk: the tree of ``version`` with the meta and
    time of that commit, the checkpoint it was rebuilt from and how many journal records
    were replayed on top of it. ``validated_by`` is the schema stamp every part of it was
    validated with ("" when the parts disagree or do not say)."""

    version: int
    tree: dict[str, Any]
    meta: Mapping[str, Any]
    saved_at_ns: int
    checkpoint: ConfigHeader
    replayed: int = 0
    validated_by: str = ""

    @classmethod
    def of_checkpoint(cls, header: ConfigHeader, tree: dict[str, Any]) -> Snapshot:
        return cls(
            header.version, tree, header.meta, header.saved_at_ns, header, 0, header.validated_by
        )


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


def canonical_chunks(value: Any) -> Iterator[bytes]:
    """``canonical_json(value)`` in pieces of one list entry or leaf each, so that a
    thread encoding a large tree gives the interpreter lock up between pieces."""
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        separator = b"{"
        for key in sorted(value):
            yield separator + canonical_json(key) + b":"
            yield from canonical_chunks(value[key])
            separator = b","
        yield b"}"
    elif isinstance(value, list) and value:
        separator = b"["
        for entry in value:
            yield separator
            yield canonical_json(entry)
            separator = b","
        yield b"]"
    else:
        yield canonical_json(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validation_stamp(modules: Iterable[ModuleInfo]) -> str:
    """What a tree was validated with: a digest of the YANG modules (names, revisions,
    source text) and of the agent's version. A tree saved under the same stamp passed
    the same checks when it was committed."""
    digest = hashlib.sha256(f"edge-agent {__version__}\0".encode())
    for module in sorted(modules, key=lambda m: m.name):
        digest.update(f"{module.name}@{module.revision}\0".encode())
        digest.update(module.path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def seal(fields: Mapping[str, Any], checksum: str) -> bytes:
    """``fields`` as one canonical JSON line with member ``checksum`` added: the sha256
    of the canonical JSON of ``fields``."""
    sealed = dict(fields)
    sealed[checksum] = sha256_hex(canonical_json(fields))
    return canonical_json(sealed) + b"\n"


def unseal(data: bytes, expected_format: str, checksum: str, what: str) -> dict[str, Any]:
    """The fields of a line made by ``seal`` (without its newline) whose ``format`` is
    ``expected_format``; FormatError naming ``what`` when it is not one."""
    try:
        fields = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{what} is not JSON (truncated or foreign file): {exc}") from None
    if not isinstance(fields, dict) or "format" not in fields:
        raise FormatError(f"not an edge-agent {what} (no format marker)")
    if fields["format"] != expected_format:
        raise FormatError(f"unsupported format {fields['format']!r}, expected {expected_format!r}")
    claimed = fields.pop(checksum, None)
    if claimed != sha256_hex(canonical_json(fields)):
        raise FormatError(f"{what} checksum mismatch (damaged)")
    return fields


def encode_config(
    version: int,
    tree: Mapping[str, Any],
    meta: Mapping[str, Any],
    saved_at_ns: int,
    validated_by: str = "",
    *,
    in_pieces: bool = False,
) -> tuple[ConfigHeader, bytes]:
    """The header and the complete file content for ``tree`` saved as ``version``;
    ``in_pieces`` encodes through ``canonical_chunks`` (for a background thread)."""
    body = b"".join(canonical_chunks(tree)) if in_pieces else canonical_json(tree)
    header = ConfigHeader(
        version, saved_at_ns, sha256_hex(body), len(body), dict(meta), validated_by
    )
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
        "validated_by": header.validated_by,
    }
    return seal(fields, "header_sha256") + body + b"\n"


def decode_header(line: bytes) -> ConfigHeader:
    """Checks and decodes a header line (without its newline)."""
    fields = unseal(line, CONFIG_FORMAT, "header_sha256", "configuration header")
    meta = fields.get("meta")
    if not isinstance(meta, dict):
        raise FormatError("header field 'meta' is not a JSON object")
    sha = fields.get("config_sha256")
    if not isinstance(sha, str) or not _SHA256_HEX.fullmatch(sha):
        raise FormatError("header field 'config_sha256' is not a sha256 digest")
    stamp = fields.get("validated_by", "")
    if not isinstance(stamp, str):
        raise FormatError("header field 'validated_by' is not a string")
    return ConfigHeader(
        version=natural(fields, "version"),
        saved_at_ns=natural(fields, "saved_at_ns"),
        config_sha256=sha,
        config_bytes=natural(fields, "config_bytes"),
        meta=meta,
        validated_by=stamp,
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


def decode_config(data: bytes) -> tuple[ConfigHeader, dict[str, Any]]:
    """Checks a whole file and decodes it."""
    header, body = split_config(data)
    try:
        tree = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"tree is not JSON: {exc}") from None
    if not isinstance(tree, dict):
        raise FormatError("tree is not a JSON object")
    return header, tree


def encode_pending(record: PendingConfirm) -> bytes:
    fields: dict[str, Any] = {
        "format": PENDING_FORMAT,
        "commit_id": record.commit_id,
        "version": record.version,
        "previous_version": record.previous_version,
        "deadline_wall_ns": record.deadline_wall_ns,
    }
    return seal(fields, "sha256")


def decode_pending(data: bytes) -> PendingConfirm:
    """Checks and decodes a pending commit-confirmed record."""
    if not data:
        raise FormatError("empty file")
    fields = unseal(data.rstrip(b"\n"), PENDING_FORMAT, "sha256", "pending commit-confirmed record")
    commit_id = fields.get("commit_id")
    if not isinstance(commit_id, str):
        raise FormatError("field 'commit_id' is not a string")
    return PendingConfirm(
        commit_id=commit_id,
        version=natural(fields, "version"),
        previous_version=natural(fields, "previous_version"),
        deadline_wall_ns=natural(fields, "deadline_wall_ns"),
    )


def natural(fields: Mapping[str, Any], name: str) -> int:
    """Member ``name`` of ``fields``, which must be a non-negative integer."""
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FormatError(f"field {name!r} is not a non-negative integer")
    return value
