"""`edge-agent user add|list|remove|passwd|role`: manage the user database in the state directory.

A tenant user acts for exactly one tenant (``--tenant NAME``, an entry of
``/tenants/tenant``); other roles take none. Changes take effect on a running agent
within a second: new logins see them, and open Subscribe streams of a removed user, or of
a user whose password, role or tenant changed, end.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from agent.security.errors import UserDatabaseError, UserError
from agent.security.users import Role, User, UserStore

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
    _add_tenant_option(add)
    _add_password_options(add)
    _add_state_dir(add)
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="show users, roles and tenants")
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

    role = actions.add_parser("role", help="change a user's role (and a tenant user's tenant)")
    role.add_argument("name")
    role.add_argument("--role", required=True, help="admin, read-only (alias operator) or tenant")
    _add_tenant_option(role)
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


def _add_tenant_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tenant",
        metavar="TENANT",
        help="the tenant a tenant user acts for (required for the tenant role, else refused)",
    )


def _add_password_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input "
        "(otherwise prompt on a terminal)",
    )


def _role_and_tenant(args: argparse.Namespace) -> tuple[Role, str | None]:
    role = Role.parse(args.role)
    tenant: str | None = args.tenant
    if role is Role.TENANT and tenant is None:
        raise UserError("a tenant user needs --tenant TENANT")
    if role is not Role.TENANT and tenant is not None:
        raise UserError(f"--tenant applies only to the tenant role, not to {role.value}")
    return role, tenant


def _bound(user: User) -> str:
    return f" for tenant {user.tenant!r}" if user.tenant is not None else ""


def _add(args: argparse.Namespace) -> int:
    try:
        role, tenant = _role_and_tenant(args)
        store = UserStore.in_state_dir(args.state_dir)
        if store.get(args.name) is not None:
            raise UserError(f"user {args.name!r} already exists")
        password = _read_password(args.password_stdin)
        user = store.add(args.name, role, password, tenant)
    except (UserError, UserDatabaseError, _PasswordInputError, OSError) as exc:
        return _fail(exc)
    print(f"added user {user.name!r} with role {user.role.value}{_bound(user)}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    try:
        users = UserStore.in_state_dir(args.state_dir).users()
    except (UserDatabaseError, OSError) as exc:
        return _fail(exc)
    if not users:
        print("no users")
        return EXIT_OK
    rows = [("NAME", "ROLE", "TENANT")]
    rows += [(u.name, u.role.value, u.tenant or "-") for u in users]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, role, tenant in rows:
        print(f"{name:<{widths[0]}}  {role:<{widths[1]}}  {tenant}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    try:
        UserStore.in_state_dir(args.state_dir).remove(args.name)
    except (UserError, UserDatabaseError, OSError) as exc:
        return _fail(exc)
    print(f"removed user {args.name!r}")
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
        role, tenant = _role_and_tenant(args)
        user = UserStore.in_state_dir(args.state_dir).set_role(args.name, role, tenant)
    except (UserError, UserDatabaseError, OSError) as exc:
        return _fail(exc)
    print(f"user {user.name!r} now has role {user.role.value}{_bound(user)}")
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
