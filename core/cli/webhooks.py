"""`webhooks list` and `webhooks replay ID|--failed`: stored Jira deliveries."""

from __future__ import annotations

import sys

from core.cli._output import add_json_flag, print_json, print_table
from core.cli._types import bounded_int
from core.db import session_scope
from core.jira.inbox import list_events, replay_delivery, replay_failed_deliveries
from core.models import WebhookStatus

MAX_LIST = 10_000
SETTLED = {
    WebhookStatus.PROCESSED.value,
    WebhookStatus.IGNORED.value,
    WebhookStatus.UNMATCHED.value,
    WebhookStatus.STALE.value,
}


def register(subparsers) -> None:  # noqa: ANN001
    webhooks = subparsers.add_parser("webhooks", help="stored Jira webhook deliveries")
    sub = webhooks.add_subparsers(dest="webhooks_command", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="newest deliveries first")
    lst.add_argument("--status", choices=[s.value for s in WebhookStatus])
    lst.add_argument("--limit", type=bounded_int(1, MAX_LIST), default=50)
    add_json_flag(lst)
    lst.set_defaults(handler=_list)
    replay = sub.add_parser("replay", help="process a stored delivery again")
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", help="delivery id (X-Atlassian-Webhook-Identifier)")
    target.add_argument("--failed", action="store_true", help="replay every failed delivery")
    add_json_flag(replay)
    replay.set_defaults(handler=_replay)


def _list(args) -> int:  # noqa: ANN001
    status = WebhookStatus(args.status) if args.status else None
    with session_scope() as session:
        rows = list_events(session, status=status, limit=args.limit)
    if args.json:
        print_json(rows)
    else:
        print_table(
            rows,
            [
                "delivery_id",
                "event_type",
                "issue_key",
                "status",
                "attempts",
                "received_at",
                "error",
            ],
        )
    return 0


def _replay(args) -> int:  # noqa: ANN001
    if args.failed:
        rows = replay_failed_deliveries()
    else:
        with session_scope(write=True) as session:
            rows = [replay_delivery(session, ref=args.id)]
    if args.json:
        print_json(rows if args.failed else rows[0])
    else:
        for row in rows:
            print(
                f"{row['delivery_id']}: {row['status']}"
                + (f" ({row['error']})" if row["error"] else "")
            )
        if args.failed and not rows:
            print("no failed deliveries")
    still_failing = [r for r in rows if r["status"] not in SETTLED]
    for row in still_failing:
        print(f"error: {row['delivery_id']} is {row['status']}: {row['error']}", file=sys.stderr)
    return 1 if still_failing else 0
