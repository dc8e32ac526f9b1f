"""`audit production|verify`: what was in production when, and is the history intact."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from core.audit.production import production_at
from core.audit.verify import verify_database
from core.cli._output import add_json_flag, print_json, print_table
from core.db import session_scope

PRODUCTION_COLUMNS = [
    "agent_id",
    "name",
    "version",
    "content_hash",
    "approved_by",
    "approved_at",
    "jira_issue_key",
    "deployed_by",
    "deployed_at",
]


def register(subparsers) -> None:  # noqa: ANN001
    audit = subparsers.add_parser("audit", help="the tamper-evident audit trail")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    production = sub.add_parser("production", help="what was in production at an instant")
    production.add_argument(
        "--at", required=True, type=_instant, help="ISO 8601 instant (no offset means UTC)"
    )
    add_json_flag(production)
    production.set_defaults(handler=_production)
    verify = sub.add_parser("verify", help="recompute the history hash chain")
    add_json_flag(verify)
    verify.set_defaults(handler=_verify)


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 instant: {value!r} (e.g. 2026-03-03T14:00:00Z)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _production(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        rows = production_at(session, at=args.at)
    if args.json:
        print_json(rows)
    else:
        print_table(rows, PRODUCTION_COLUMNS)
    return 0


def _verify(args) -> int:  # noqa: ANN001
    report = verify_database()
    if args.json:
        print_json(report.as_dict())
    elif report.ok:
        print(f"ok: {report.entries} entries")
    if not report.ok:
        print(f"error: audit trail broken: {report.reason}", file=sys.stderr)
        return 1
    return 0
