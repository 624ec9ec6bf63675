"""`edge-agent user add|list|remove|passwd|role`: manage the user database in the state directory.

Changes take effect on a running agent within a second: new logins see them, and open
Subscribe streams of a removed user, or of a user whose password or role changed, end.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from agent.security.errors import UserDatabaseError, UserError
from agent.security.users import Role, UserStore

EXIT_OK = 0
EXIT_ERROR = 1


class _PasswordInputError(Exception):
    """No usable password was supplied."""


def register(subparsers: Any) -> None:
    """Adds the ``user`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "user",
        help="manage users (roles admin, read-only, tenant)",
        description="Manage the users allowed to talk to the agent.",
    )
    actions = parser.add_subparsers(dest="user_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="create a user")
    add.add_argument("name", help="user name: 1-64 characters from A-Z a-z 0-9 . _ -")
    add.add_argument(
        "--role",
        required=True,
        help="admin, read-only (alias operator) or tenant",
    )
    add.add_argument(
        "--slices",
        default="",
        help="comma-separated slice names a tenant is bound to (tenants only, required)",
    )
    _add_password_options(add)
    _add_state_dir(add)
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="show users, roles and slice bindings")
    _add_state_dir(listing)
    listing.set_defaults(handler=_list)

    remove = actions.add_parser("remove", help="delete a user")
    remove.add_argument("name")
    _add_state_dir(remove)
    remove.set_defaults(handler=_remove)

    passwd = actions.add_parser("passwd", help="change a user's password")
    passwd.add_argument("name")
    _add_password_options(passwd)
    _add_state_dir(passwd)
    passwd.set_defaults(handler=_passwd)

    role = actions.add_parser("role", help="change a user's role (and a tenant's slices)")
    role.add_argument("name")
    role.add_argument("--role", required=True, help="admin, read-only (alias operator) or tenant")
    role.add_argument(
        "--slices",
        default="",
        help="comma-separated slice names a tenant is bound to (tenants only, required)",
    )
    _add_state_dir(role)
    role.set_defaults(handler=_role)


def _add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="the agent's state directory (holds users.json)",
    )


def _add_password_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input "
        "(otherwise prompt on a terminal)",
    )


def _slices(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _role_and_slices(args: argparse.Namespace) -> tuple[Role, list[str]]:
    role = Role.parse(args.role)
    slices = _slices(args.slices)
    if role is Role.TENANT and not slices:
        raise UserError("a tenant needs --slices NAME[,NAME...]")
    return role, slices


def _add(args: argparse.Namespace) -> int:
    try:
        role, slices = _role_and_slices(args)
        store = UserStore.in_state_dir(args.state_dir)
        if store.get(args.name) is not None:
            raise UserError(f"user {args.name!r} already exists")
        password = _read_password(args.password_stdin)
        user = store.add(args.name, role, password, slices)
    except (UserError, UserDatabaseError, _PasswordInputError, OSError) as exc:
        return _fail(exc)
    bound = f" bound to slices {', '.join(sorted(user.slices))}" if user.slices else ""
    print(f"added user {user.name!r} with role {user.role.value}{bound}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    try:
        users = UserStore.in_state_dir(args.state_dir).users()
    except (UserDatabaseError, OSError) as exc:
        return _fail(exc)
    if not users:
        print("no users")
        return EXIT_OK
    rows = [("NAME", "ROLE", "SLICES")]
    rows += [(u.name, u.role.value, ",".join(sorted(u.slices)) or "-") for u in users]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, role, slices in rows:
        print(f"{name:<{widths[0]}}  {role:<{widths[1]}}  {slices}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    try:
        user = UserStore.in_state_dir(args.state_dir).remove(args.name)
    except (UserError, UserDatabaseError, OSError) as exc:
        return _fail(exc)
    print(f"removed user {user.name!r}")
    return EXIT_OK


def _passwd(args: argparse.Namespace) -> int:
    try:
        store = UserStore.in_state_dir(args.state_dir)
        if store.get(args.name) is None:
            raise UserError(f"no user named {args.name!r}")
        password = _read_password(args.password_stdin)
        store.set_password(args.name, password)
    except (UserError, UserDatabaseError, _PasswordInputError, OSError) as exc:
        return _fail(exc)
    print(f"changed the password of {args.name!r}")
    return EXIT_OK


def _role(args: argparse.Namespace) -> int:
    try:
        role, slices = _role_and_slices(args)
        user = UserStore.in_state_dir(args.state_dir).set_role(args.name, role, slices)
    except (UserError, UserDatabaseError, OSError) as exc:
        return _fail(exc)
    bound = f" bound to slices {', '.join(sorted(user.slices))}" if user.slices else ""
    print(f"user {user.name!r} now has role {user.role.value}{bound}")
    return EXIT_OK


def _read_password(from_stdin: bool) -> str:
    """One line from stdin without its line ending, or a confirmed terminal prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise _PasswordInputError("--password-stdin: standard input is empty")
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise _PasswordInputError("--password-stdin: the first line of standard input is empty")
        return password
    if not sys.stdin.isatty():
        raise _PasswordInputError("standard input is not a terminal: use --password-stdin")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise _PasswordInputError("the passwords do not match")
    return password


def _fail(exc: Exception) -> int:
    print(f"edge-agent user: error: {exc}", file=sys.stderr)
    return EXIT_ERROR
