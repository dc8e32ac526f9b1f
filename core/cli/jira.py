"""`jira check`, `jira sync` (deliver owed Jira calls) and `jira outbox list|retry`."""

from __future__ import annotations

import sys

from core.cli._output import add_json_flag, print_json, print_table
from core.cli._types import record_id
from core.db import session_scope
from core.jira.check import check_jira
from core.jira.jobs import retry_webhook_events
from core.jira.outbox import deliver, list_rows, outbox_counts, retry_rows


def register(subparsers) -> None:  # noqa: ANN001
    jira = subparsers.add_parser("jira", help="Jira connection check, outbox sync and operations")
    sub = jira.add_subparsers(dest="jira_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="verify credentials, project and workflow statuses")
    add_json_flag(check)
    check.set_defaults(handler=_check)
    sync = sub.add_parser("sync", help="deliver issue creations, attachments and comments owed")
    sync.add_argument("--retry-failed", action="store_true", help="also retry refused calls")
    add_json_flag(sync)
    sync.set_defaults(handler=_sync)

    outbox = sub.add_parser("outbox", help="calls owed to Jira: list them, retry them")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    lst = outbox_sub.add_parser("list", help="rows not yet delivered (queued/retrying/failed)")
    lst.add_argument("--all", action="store_true", help="include delivered rows")
    add_json_flag(lst)
    lst.set_defaults(handler=_outbox_list)
    retry = outbox_sub.add_parser("retry", help="make a row (or every failed row) due now")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=record_id, help="outbox row id")
    target.add_argument("--failed", action="store_true", help="every failed row")
    add_json_flag(retry)
    retry.set_defaults(handler=_outbox_retry)


def _check(args) -> int:  # noqa: ANN001
    report = check_jira()
    if args.json:
        print_json(report.as_dict())
    else:
        for line in report.ok_lines:
            print(f"ok: {line}")
        for line in report.warnings:
            print(f"warning: {line}")
    for line in report.problems:
        print(f"error: {line}", file=sys.stderr)
    return 0 if report.ok else 1


def _sync(args) -> int:  # noqa: ANN001
    report = deliver(include_failed=args.retry_failed)
    retried = retry_webhook_events()
    with session_scope() as session:
        counts = outbox_counts(session)
    if args.json:
        print_json({**report.as_dict(), "webhooks_retried": retried, "outbox": counts})
    else:
        for label in report.done:
            print(f"delivered: {label}")
        for label in report.waiting:
            print(f"waiting: {label}")
        print(
            f"outbox: {counts['pending']} pending, {counts['failed']} failed; "
            f"{retried} webhook deliveries retried"
        )
    problems = report.retrying + report.failed
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


def _outbox_list(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        rows = list_rows(session, include_sent=args.all)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("outbox: nothing waiting")
        return 0
    for row in rows:
        row["last_error"] = (row["last_error"] or "")[:80]
    columns = ["id", "agent_id", "version", "kind", "state", "attempts", "next_attempt_at"]
    print_table(rows, [*columns, "last_error"])
    return 0


def _outbox_retry(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        agents = retry_rows(session, row_id=args.id, failed=args.failed)
    # An explicit operator action: deliver now and say what happened.
    reports = [deliver(agent_id=agent_id) for agent_id in agents]
    done = [label for report in reports for label in report.done]
    problems = [
        line for report in reports for line in report.retrying + report.failed + report.waiting
    ]
    if args.json:
        print_json({"agents": agents, "done": done, "problems": problems})
    else:
        for label in done:
            print(f"delivered: {label}")
        if not agents:
            print("outbox: nothing to retry")
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0
