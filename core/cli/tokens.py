"""`tokens create|list|revoke`: bearer tokens for the HTTP API."""

from __future__ import annotations

from core import auth
from core.cli._output import add_json_flag, print_json, print_table
from core.cli._types import record_id
from core.db import session_scope
from core.registry.views import iso


def register(subparsers) -> None:  # noqa: ANN001
    tokens = subparsers.add_parser("tokens", help="API tokens for the HTTP endpoints")
    sub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a token (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--created-by", help="email of the admin creating it (the token dies with the account)"
    )
    create.add_argument("--expires-in", type=int, metavar="DAYS", help="expire after DAYS days")
    add_json_flag(create)
    create.set_defaults(handler=_create)
    lst = sub.add_parser("list", help="list tokens (never their secrets)")
    add_json_flag(lst)
    lst.set_defaults(handler=_list)
    revoke = sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("id", type=record_id)
    revoke.set_defaults(handler=_revoke)


def _create(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        issued = auth.create_api_token(
            session,
            name=args.name,
            created_by_email=args.created_by,
            expires_in_days=args.expires_in,
        )
    if args.json:
        print_json(
            {
                "id": issued.id,
                "name": issued.name,
                "token": issued.token,
                "created_by": issued.created_by,
                "expires_at": issued.expires_at,
            }
        )
    else:
        print(issued.token)
        print("Store it now: it is shown only once.", flush=True)
    return 0


def _list(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "created_by": creator,
                "created_at": iso(t.created_at),
                "expires_at": iso(t.expires_at),
                "last_used_at": iso(t.last_used_at),
                "revoked": t.revoked_at is not None,
            }
            for t, creator in auth.list_api_tokens_with_creators(session)
        ]
    print_json(rows) if args.json else print_table(
        rows, ["id", "name", "prefix", "created_by", "expires_at", "last_used_at", "revoked"]
    )
    return 0


def _revoke(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        auth.revoke_api_token(session, token_id=args.id)
    print(f"token {args.id} revoked")
    return 0
