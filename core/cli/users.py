"""`users add|list|set-role|set-password|deactivate|link-jira`."""

from __future__ import annotations

import getpass
import sys

from core import auth
from core.cli._output import add_json_flag, print_json, print_table
from core.db import session_scope
from core.errors import ValidationError
from core.jira.people import link_jira_account
from core.models import Role

ROLES = [r.value for r in Role]
ADD_HINT = "give --password P, or --no-password for a single-sign-on account"


def register(subparsers) -> None:  # noqa: ANN001
    users = subparsers.add_parser("users", help="registry accounts")
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add an account")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password", help="omit to be prompted (or leave unset for SSO-only)")
    add.add_argument("--no-password", action="store_true", help="account without a password (SSO)")
    add.add_argument("--jira-account-id", help="the Jira accountId this account acts as in Jira")
    add_json_flag(add)
    add.set_defaults(handler=_add)

    lst = sub.add_parser("list", help="list accounts")
    add_json_flag(lst)
    lst.set_defaults(handler=_list)

    role = sub.add_parser("set-role", help="change an account's role")
    role.add_argument("--email", required=True)
    role.add_argument("--role", required=True, choices=ROLES)
    role.set_defaults(handler=_set_role)

    pw = sub.add_parser("set-password", help="set an account's password (prompted)")
    pw.add_argument("--email", required=True)
    pw.add_argument("--password")
    pw.set_defaults(handler=_set_password)

    off = sub.add_parser("deactivate", help="block an account from logging in")
    off.add_argument("--email", required=True)
    off.set_defaults(handler=_deactivate)

    link = sub.add_parser(
        "link-jira", help="link an account to its Jira accountId (set or replace)"
    )
    link.add_argument("--email", required=True)
    link.add_argument("--account-id", required=True, help="Jira accountId (from the profile URL)")
    add_json_flag(link)
    link.set_defaults(handler=_link_jira)


def _user_dict(user) -> dict:  # noqa: ANN001
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "active": user.is_active,
        "jira_account_id": user.jira_account_id,
    }


def _prompt_password(given: str | None, *, hint: str = "give --password P") -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():  # a script or cron job: nobody can answer a prompt
        raise ValidationError(f"no terminal to ask for a password: {hint}")
    try:
        first = getpass.getpass("Password: ")
        repeated = getpass.getpass("Repeat password: ")
    except EOFError:
        raise ValidationError(f"no password was typed: {hint}") from None
    if first != repeated:
        raise ValidationError("the two passwords differ; try again")
    return first


def _add(args) -> int:  # noqa: ANN001
    password = None if args.no_password else _prompt_password(args.password, hint=ADD_HINT)
    with session_scope(write=True) as session:
        user = auth.create_user(
            session,
            email=args.email,
            name=args.name,
            role=args.role,
            password=password,
            jira_account_id=args.jira_account_id,
        )
        data = _user_dict(user)
    print_json(data) if args.json else print(f"added {data['email']} ({data['role']})")
    return 0


def _list(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        rows = [_user_dict(u) for u in auth.list_users(session)]
    print_json(rows) if args.json else print_table(rows, ["id", "email", "name", "role", "active"])
    return 0


def _set_role(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        user = auth.set_role(session, email=args.email, role=args.role)
        print(f"{user.email} is now {user.role.value}")
    return 0


def _set_password(args) -> int:  # noqa: ANN001
    password = _prompt_password(args.password)
    with session_scope(write=True) as session:
        auth.set_password(session, email=args.email, password=password)
    print("password changed")
    return 0


def _deactivate(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        auth.set_active(session, email=args.email, active=False)
    print(f"{args.email} deactivated")
    return 0


def _link_jira(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        user = link_jira_account(session, email=args.email, account_id=args.account_id)
        data = _user_dict(user)
    print_json(data) if args.json else print(
        f"{data['email']} is Jira account {data['jira_account_id']}"
    )
    return 0
