"""The policy file, ``STATE_DIR/policy.toml``: operator rules on top of the built-in ones.

The file is TOML (comments welcome): ``version = 1`` and one ``[[rule]]`` table per
rule, each with exactly these keys:

- ``name``: unique, 1-64 characters from ``A-Z a-z 0-9 . _ : -``, not ``builtin:...``;
- ``principals``: a non-empty list of ``"user:NAME"``, ``"group:GROUP"`` (``admin``,
  ``operator``, ``tenant`` or ``tenant:TENANT``) or ``"*"`` (every user);
- ``path``: a gNMI path string; ``*``, ``...`` and key value ``*`` allowed;
- ``action``: ``"read"`` or ``"write"``;
- ``effect``: ``"permit"`` or ``"deny"``.

Example::

    version = 1

    # The NOC does not read device addresses.
    [[rule]]
    name = "noc-no-addresses"
    principals = ["group:operator"]
    path = "/platform/devices/device[name=*]/config/address"
    action = "read"
    effect = "deny"

    # Tenant operator-a may not change slice priorities.
    [[rule]]
    name = "operator-a-fixed-priority"
    principals = ["group:tenant:operator-a"]
    path = "/slices/slice[name=*]/config/priority"
    action = "write"
    effect = "deny"

A missing file at start means the built-in rules alone. :class:`PolicyStore` reloads
the file when it changes (looking at most every ``recheck_s``; with None only when
:meth:`PolicyStore.reload` is called, as ``edge-agent serve`` does on SIGHUP); a file
that is broken, unreadable, writable by group or others, or gone when it is looked at
again leaves the previous policy in force and logs one error. At start any of these
(but a missing file) is an error.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.schema.path import DataPath, PathSyntaxError
from agent.service.policy import Policy
from agent.service.policy_rules import (
    BUILTIN_PREFIX,
    Action,
    Effect,
    Rule,
    RuleError,
    check_principal,
    is_rule_name,
)

log = logging.getLogger(__name__)

POLICY_FILENAME = "policy.toml"
FILE_FORMAT_VERSION = 1
RULE_KEYS = ("name", "principals", "path", "action", "effect")
DEFAULT_RECHECK_S = 0.5
_RACY_WINDOW_NS = 2_000_000_000
_UNSAFE_MODE = stat.S_IWGRP | stat.S_IWOTH

PathCheck = Callable[[DataPath], str | None]
"""A problem with a rule path (e.g. no such schema node), or None when it is fine."""


class PolicyFileError(Exception):
    """A policy file that cannot be used: every problem found, one per line.

    ``unreadable``: the file could not be read at all (as opposed to being invalid).
    """

    def __init__(self, source: str, problems: Sequence[str], *, unreadable: bool = False) -> None:
        self.source = source
        self.problems = tuple(problems)
        self.unreadable = unreadable
        super().__init__(f"{source}: " + "; ".join(self.problems))


def parse_policy(
    text: str, *, source: str = POLICY_FILENAME, check_path: PathCheck | None = None
) -> tuple[Rule, ...]:
    """The rules of a policy file's text; raises PolicyFileError listing every problem."""
    rules, problems = _parse(text, check_path)
    if problems:
        raise PolicyFileError(source, problems)
    return rules


def read_policy(path: Path, *, check_path: PathCheck | None = None) -> tuple[Rule, ...]:
    """The rules of the policy file at ``path``; raises PolicyFileError."""
    return parse_policy(_read(path).decode("utf-8"), source=str(path), check_path=check_path)


def _read(path: Path) -> bytes:
    try:
        content = path.read_bytes()
        content.decode("utf-8")
    except OSError as exc:
        raise PolicyFileError(
            str(path), [f"cannot read: {exc.strerror or exc}"], unreadable=True
        ) from exc
    except UnicodeDecodeError as exc:
        raise PolicyFileError(str(path), [f"not UTF-8 text: {exc}"], unreadable=True) from exc
    return content


def _parse(text: str, check_path: PathCheck | None) -> tuple[tuple[Rule, ...], list[str]]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return (), [f"not valid TOML: {exc}"]
    problems: list[str] = []
    if document.get("version") != FILE_FORMAT_VERSION:
        problems.append(f"'version = {FILE_FORMAT_VERSION}' is required")
    problems += [f"unknown key {key!r}" for key in document if key not in ("version", "rule")]
    entries = document.get("rule", [])
    if not isinstance(entries, list):
        return (), [*problems, "'rule' must be an array of tables ([[rule]])"]
    rules: list[Rule] = []
    first: dict[str, int] = {}  # rule name -> number of the rule that has it
    for index, entry in enumerate(entries, start=1):
        label = f"rule #{index}"
        found = _rule_problems(entry, check_path)
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str):
            label += f" {name!r}"
            if name in first:
                duplicate = f"the name is already used by rule #{first[name]}"
                found = [duplicate] if isinstance(found, Rule) else [*found, duplicate]
            first.setdefault(name, index)
        if isinstance(found, Rule):
            rules.append(found)
        else:
            problems += [f"{label}: {problem}" for problem in found]
    return tuple(rules), problems


def _rule_problems(entry: Any, check_path: PathCheck | None) -> Rule | list[str]:
    """The rule of one ``[[rule]]`` table, or every problem with it."""
    if not isinstance(entry, dict):
        return ["must be a table"]
    problems = [
        f"unknown key {key!r} (a rule has {', '.join(RULE_KEYS)})"
        for key in entry
        if key not in RULE_KEYS
    ]
    problems += [f"missing {key!r}" for key in RULE_KEYS if key not in entry]
    name = _name(entry, problems)
    principals = _principals(entry, problems)
    path = _path(entry.get("path"), check_path, problems) if "path" in entry else None
    action = _choice(entry, "action", Action, problems)
    effect = _choice(entry, "effect", Effect, problems)
    if problems:
        return problems
    assert name is not None and principals is not None and path is not None
    assert action is not None and effect is not None
    try:
        return Rule(name, principals, path, Action(action), Effect(effect))
    except RuleError as exc:
        return [str(exc)]


def _name(entry: dict[str, Any], problems: list[str]) -> str | None:
    name = entry.get("name")
    if name is None:
        return None
    if not isinstance(name, str):
        problems.append("'name' must be a string")
    elif name.startswith(BUILTIN_PREFIX):
        problems.append(f"names starting with {BUILTIN_PREFIX!r} are reserved")
    elif not is_rule_name(name):
        problems.append(f"invalid name {name!r}: use 1-64 characters from A-Z a-z 0-9 . _ : -")
    else:
        return name
    return None


def _principals(entry: dict[str, Any], problems: list[str]) -> frozenset[str] | None:
    principals = entry.get("principals")
    if principals is None:
        return None
    if not isinstance(principals, list) or not all(isinstance(p, str) for p in principals):
        problems.append("'principals' must be a list of strings")
        return None
    if not principals:
        problems.append("'principals' must name at least one principal")
    for principal in principals:
        try:
            check_principal(principal)
        except RuleError as exc:
            problems.append(str(exc))
    return frozenset(principals)


def _path(text: Any, check_path: PathCheck | None, problems: list[str]) -> DataPath | None:
    if not isinstance(text, str):
        problems.append("'path' must be a string")
        return None
    if not text.startswith("/"):
        problems.append(f"path {text!r} must start with '/'")
        return None
    try:
        path = DataPath.parse(text)
    except PathSyntaxError as exc:
        problems.append(f"path: {exc}")
        return None
    problem = check_path(path) if check_path is not None else None
    if problem is not None:
        problems.append(f"path {text!r}: {problem}")
        return None
    return path


def _choice(
    entry: dict[str, Any], key: str, kind: type[Action] | type[Effect], problems: list[str]
) -> str | None:
    if key not in entry:
        return None
    value = entry[key]
    choices = [member.value for member in kind]
    if value not in choices:
        problems.append(f"{key!r} must be {' or '.join(repr(c) for c in choices)}, not {value!r}")
        return None
    return str(value)


@dataclass(frozen=True)
class _Seen:
    """The file as last looked at: stat signature, content, whether a rewrite in the
    same timestamp tick could still go unnoticed by the signature, and why it could not
    be used (None: it is the policy in force)."""

    signature: tuple[int, ...] | None
    content: bytes | None
    racy: bool
    problem: str | None = None


class PolicyStore:
    """The policy in force: built-in rules plus the policy file's, reloaded on change.

    Safe to share between threads. ``current()`` costs a clock read, and at most every
    ``recheck_s`` one ``stat`` of the file (and a read only when it changed).
    """

    def __init__(
        self,
        path: Path,
        *,
        check_path: PathCheck | None = None,
        recheck_s: float | None = DEFAULT_RECHECK_S,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        """Loads the file now; raises PolicyFileError if it exists and cannot be used.

        ``recheck_s`` None: the file is looked at again only by :meth:`reload`."""
        self._path = path
        self._check_path = check_path
        self._recheck_ns = None if recheck_s is None else int(recheck_s * 1_000_000_000)
        self._monotonic_ns = monotonic_ns
        self._lock = threading.Lock()
        signature = self._signature()
        content: bytes | None = None
        self._policy = Policy()
        if signature is not None:
            self._check_mode(signature)
            content = _read(path)
            self._policy = self._parse(content)
        self._seen = _Seen(signature, content, _recent(signature))
        self._checked_ns = monotonic_ns()

    @classmethod
    def in_state_dir(cls, state_dir: Path, **options: Any) -> PolicyStore:
        """The store of ``STATE_DIR/policy.toml``."""
        return cls(state_dir / POLICY_FILENAME, **options)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def problem(self) -> str | None:
        """Why the file, as last looked at, is not the policy in force (None: it is)."""
        return self._seen.problem

    def current(self) -> Policy:
        """The policy in force, reloaded first if the file changed since last looked at."""
        if self._recheck_ns is None:
            return self._policy  # replaced whole by reload(): one read, no lock needed
        now = self._monotonic_ns()
        with self._lock:
            if now - self._checked_ns >= self._recheck_ns:
                self._checked_ns = now
                self._look()
            return self._policy

    def reload(self) -> Policy:
        """Looks at the file now, whatever ``recheck_s`` says; returns the policy in force."""
        with self._lock:
            self._checked_ns = self._monotonic_ns()
            self._look()
            return self._policy

    def _look(self) -> None:
        """Reloads on change; a file that cannot be used keeps the policy (caller locks)."""
        seen = self._seen
        try:
            signature = self._signature()
        except PolicyFileError as exc:
            self._refuse(_Seen(None, None, False, str(exc)))
            return
        if signature == seen.signature and not seen.racy:
            return
        content: bytes | None = None
        try:
            if signature is None:
                raise PolicyFileError(
                    str(self._path),
                    [
                        "removed; the policy stays as it was until the file is back (a file "
                        f"with 'version = {FILE_FORMAT_VERSION}' alone holds no rules)"
                    ],
                )
            self._check_mode(signature)
            content = _read(self._path)
            if content == seen.content:
                self._seen = dataclasses.replace(seen, signature=signature, racy=_recent(signature))
                return
            policy = self._parse(content)
        except PolicyFileError as exc:
            self._refuse(_Seen(signature, content, _recent(signature), str(exc)))
            return
        self._policy = policy
        self._seen = _Seen(signature, content, _recent(signature))
        log.info("%s: reloaded, %d rules", self._path, len(policy.rules))

    def _refuse(self, seen: _Seen) -> None:
        """Logs one error per version of the file that cannot be used."""
        if (seen.problem, seen.content) != (self._seen.problem, self._seen.content):
            log.error("policy not reloaded, the previous one stays: %s", seen.problem)
        self._seen = seen

    def _parse(self, content: bytes) -> Policy:
        text = content.decode("utf-8")
        return Policy(parse_policy(text, source=str(self._path), check_path=self._check_path))

    def _check_mode(self, signature: tuple[int, ...]) -> None:
        if signature[-1] & _UNSAFE_MODE:
            raise PolicyFileError(
                str(self._path),
                [f"writable by group or others: refused (chmod go-w {self._path})"],
            )

    def _signature(self) -> tuple[int, ...] | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PolicyFileError(
                str(self._path), [f"cannot look at it: {exc.strerror or exc}"], unreadable=True
            ) from exc
        if not stat.S_ISREG(st.st_mode):
            raise PolicyFileError(str(self._path), ["not a regular file"], unreadable=True)
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


def _recent(signature: tuple[int, ...] | None) -> bool:
    """True if the file may be rewritten within its timestamp granularity unnoticed."""
    return signature is not None and time.time_ns() - signature[3] < _RACY_WINDOW_NS
