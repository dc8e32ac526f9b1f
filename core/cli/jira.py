"""`jira check` (credentials, project, statuses) and `jira sync` (deliver owed Jira calls)."""

from __future__ import annotations

import sys

from core.cli._output import add_json_flag, print_json
from core.db import session_scope
from core.jira.check import check_jira
from core.jira.jobs import retry_webhook_events
from core.jira.outbox import deliver, outbox_counts


def register(subparsers) -> None:  # noqa: ANN001
    jira = subparsers.add_parser("jira", help="Jira connection check and outbox sync")
    sub = jira.add_subparsers(dest="jira_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="verify credentials, project and workflow statuses")
    add_json_flag(check)
    check.set_defaults(handler=_check)
    sync = sub.add_parser("sync", help="deliver issue creations, attachments and comments owed")
    sync.add_argument("--retry-failed", action="store_true", help="also retry refused calls")
    add_json_flag(sync)
    sync.set_defaults(handler=_sync)


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
