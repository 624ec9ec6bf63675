"""`edge-agent policy check|explain`: check a policy file, explain a decision.

``check FILE`` exits 0 when the file is valid (every rule path names schema nodes), 1
listing every problem with the rule's number and name, 2 when the file cannot be read.
``explain`` prints the decision for one user, path and action under the built-in rules
and the state directory's policy file, the rule that decided and why (exit 0), or 1 on
an error (unknown user, a path the schema does not have, an unusable policy file or user
database).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath, PathSyntaxError
from agent.security.errors import UserDatabaseError
from agent.security.users import UserStore
from agent.service.policy import Action, Policy
from agent.service.policy_file import POLICY_FILENAME, PolicyFileError, PolicyStore, read_policy
from agent.service.policy_schema import schema_path_check
from agent.service.principal import Principal

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def register(subparsers: Any) -> None:
    """Adds the ``policy`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "policy",
        help="check the policy file, explain access decisions",
        description=f"Work with the access policy (built-in role rules plus {POLICY_FILENAME} "
        "in the state directory).",
    )
    actions = parser.add_subparsers(dest="policy_command", required=True, metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="check a policy file",
        description="Checks a policy file; exits 0 when valid, 1 listing every problem, "
        "2 when it cannot be read.",
    )
    check.add_argument("file", type=Path, help=f"the policy file (TOML, like {POLICY_FILENAME})")
    check.set_defaults(handler=_check)

    explain = actions.add_parser(
        "explain",
        help="explain whether a user may read or write a path",
        description="Prints the decision for a user, a path and an action, the rule that "
        "decided and why, under the policy in force in the state directory.",
    )
    explain.add_argument("--user", required=True, help="a user of the state directory")
    explain.add_argument("--path", required=True, help="a gNMI path, e.g. /slices/slice[name=a]")
    explain.add_argument("--action", required=True, choices=[a.value for a in Action])
    explain.add_argument(
        "--state-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help=f"the agent's state directory (holds users.json and {POLICY_FILENAME})",
    )
    explain.set_defaults(handler=_explain)


def _check(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        rules = read_policy(path, check_path=schema_path_check(SchemaEngine().nav))
    except PolicyFileError as exc:
        if exc.unreadable:
            print(f"edge-agent policy: error: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
        for problem in exc.problems:
            print(f"{path}: {problem}")
        print(f"{path}: invalid ({len(exc.problems)} problem(s))", file=sys.stderr)
        return EXIT_INVALID
    print(f"{path}: valid ({len(rules)} rule(s))")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    try:
        path = DataPath.parse(args.path)
        check = schema_path_check(SchemaEngine().nav)
        problem = check(path)
        if problem is not None:
            return _fail(f"path {args.path!r}: {problem}")
        user = UserStore.in_state_dir(args.state_dir).get(args.user)
        if user is None:
            return _fail(f"no user named {args.user!r} in {args.state_dir}")
        store = PolicyStore.in_state_dir(args.state_dir, check_path=check)
    except (PathSyntaxError, UserDatabaseError, PolicyFileError, OSError) as exc:
        return _fail(str(exc))
    print(_explanation(store.current(), Principal.of(user), path, Action(args.action)))
    return EXIT_OK


def _explanation(policy: Policy, principal: Principal, path: DataPath, action: Action) -> str:
    decision = policy.decide(principal, path, action)
    matching = policy.matching(principal, path, action)
    lines = [
        f"decision:  {decision.effect}",
        f"principal: {principal.describe()}",
        f"rule:      {decision.rule.describe() if decision.rule else 'none (implicit deny)'}",
        f"why:       {decision.explanation}",
    ]
    lines += [f"also:      {rule.describe()}" for rule in matching if rule is not decision.rule]
    return "\n".join(lines)


def _fail(message: str) -> int:
    print(f"edge-agent policy: error: {message}", file=sys.stderr)
    return EXIT_INVALID
