"""`analytics import|aggregate|metrics|summary|partitions|prices`: usage analytics from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import analytics
from core.analytics.importer import ImportRejected, import_file
from core.analytics.jobs import maintain_partitions
from core.analytics.runner import roll_up
from core.cli._output import add_json_flag, print_json, print_table
from core.cli._types import day, record_id
from core.db import session_scope
from core.errors import ValidationError

SHOWN_ERRORS = 20


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("analytics", help="usage events, rollups, metrics, prices")
    sub = parser.add_subparsers(dest="analytics_command", metavar="ACTION", required=True)

    imp = sub.add_parser("import", help="import events from a CSV or JSON-lines file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name")
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the valid lines, skip the rest"
    )
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(imp)
    imp.set_defaults(handler=_import)

    agg = sub.add_parser("aggregate", help="roll up daily metrics (default: pending days)")
    which = agg.add_mutually_exclusive_group()
    which.add_argument("--date", type=day, help="one UTC day (YYYY-MM-DD)")
    which.add_argument("--all", action="store_true", help="every day with events")
    add_json_flag(agg)
    agg.set_defaults(handler=_aggregate)

    metrics = sub.add_parser("metrics", help="one day's metrics")
    metrics.add_argument("--date", type=day, required=True)
    metrics.add_argument("--agent", type=record_id, help="one agent's id")
    add_json_flag(metrics)
    metrics.set_defaults(handler=_metrics)

    summ = sub.add_parser("summary", help="figures for a date range and the period before")
    summ.add_argument("--from", dest="start", type=day, required=True)
    summ.add_argument("--to", dest="end", type=day, required=True, help="inclusive")
    summ.add_argument("--agent", type=record_id)
    summ.add_argument("--model")
    add_json_flag(summ)
    summ.set_defaults(handler=_summary)

    parts = sub.add_parser(
        "partitions",
        help="PostgreSQL: create usage_logs' coming month partitions, apply retention",
    )
    parts.add_argument(
        "--drop-older-than",
        type=months,
        metavar="MONTHS",
        help="drop events older than this many whole months before the current one "
        "(default: ANALYTICS_RETENTION_MONTHS; unset keeps everything); rollups are kept",
    )
    parts.add_argument("--months-ahead", type=months, help="partitions to create ahead (default 3)")
    parts.add_argument("--dry-run", action="store_true", help="only list what would be dropped")
    add_json_flag(parts)
    parts.set_defaults(handler=_partitions)

    prices = sub.add_parser("prices", help="model prices (USD per 1K tokens)")
    psub = prices.add_subparsers(dest="prices_command", metavar="ACTION", required=True)
    plist = psub.add_parser("list", help="list prices")
    add_json_flag(plist)
    plist.set_defaults(handler=_prices_list)
    pset = psub.add_parser("set", help="set a model's or pattern's price from a date on")
    pset.add_argument("pattern", help="model name or glob, e.g. 'gpt-4o' or 'claude-3-*'")
    pset.add_argument("price", help="USD per 1K tokens, e.g. 0.005")
    pset.add_argument("--from", dest="since", type=day, help="effective date (default 2024-01-01)")
    add_json_flag(pset)
    pset.set_defaults(handler=_prices_set)
    pdel = psub.add_parser("delete", help="delete a pattern's prices")
    pdel.add_argument("pattern")
    pdel.add_argument("--from", dest="since", type=day, help="only the price from this date")
    pdel.set_defaults(handler=_prices_delete)


def _import(args) -> int:  # noqa: ANN001
    from tqdm import tqdm

    size = args.file.stat().st_size if args.file.exists() else None
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=f"importing {args.file.name}",
        disable=args.no_progress or None,  # None: only on a terminal
        file=sys.stderr,
    )
    try:
        with bar, session_scope(write=True) as session:
            result = import_file(
                session,
                path=args.file,
                skip_invalid=args.skip_invalid,
                fmt=args.format,
                on_bytes=bar.update,
            )
    except ImportRejected as rejected:
        for error in rejected.errors[:SHOWN_ERRORS]:
            print(f"line {error.index}: {error.message}", file=sys.stderr)
        if rejected.invalid > SHOWN_ERRORS:
            print(f"… and {rejected.invalid - SHOWN_ERRORS} more", file=sys.stderr)
        raise
    if args.json:
        print_json(result.as_dict())
        return 0
    for error in result.errors[:SHOWN_ERRORS]:
        print(f"skipped line {error.index}: {error.message}", file=sys.stderr)
    skipped = f" ({result.invalid} invalid lines skipped)" if result.invalid else ""
    print(f"imported {result.imported} events{skipped}")
    return 0


def months(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 1200:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of months (0 … 1200)")
    return int(value)


def _partitions(args) -> int:  # noqa: ANN001
    if args.drop_older_than == 0:
        raise ValidationError("--drop-older-than must keep at least 1 month", field="months")
    report = maintain_partitions(
        drop_older_than=args.drop_older_than, months_ahead=args.months_ahead, dry_run=args.dry_run
    )
    if report is None:
        message = "usage_logs is not partitioned on this database (only on PostgreSQL)"
        if args.json:
            print_json({"partitioned": False, "message": message})
        else:
            print(message)
        return 0
    if args.json:
        print_json({"partitioned": True, "dry_run": args.dry_run, **report.as_dict()})
        return 0
    would = "would drop" if args.dry_run else "dropped"
    print(f"created: {', '.join(report.created) or 'none'}")
    print(f"{would}: {', '.join(report.dropped) or 'none'}")
    if report.moved_rows:
        print(f"moved {report.moved_rows} events out of the default partition")
    if report.retained_since:
        print(f"events kept from {report.retained_since} (rollups keep every day)")
    print(f"month partitions: {', '.join(report.partitions)}")
    return 0


def _aggregate(args) -> int:  # noqa: ANN001
    result = roll_up(day=args.date, all_days=args.all)
    if args.json:
        print_json(result.as_dict())
    else:
        print(
            f"rolled up {result.days} days: {result.written} rows written, {result.deleted} removed"
        )
    return 0


def _metrics(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        data = analytics.daily_metrics(session, day=args.date, agent_id=args.agent)
    if args.json:
        print_json(data)
        return 0
    for key, value in data.items():
        if key != "unpriced_models" or value:
            print(f"{key:18} {value}")
    return 0


def _summary(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        data = analytics.summary(
            session, start=args.start, end=args.end, agent_id=args.agent, model_name=args.model
        )
    if args.json:
        print_json(data)
        return 0
    rows = [
        {
            "figure": key,
            "now": data[key],
            "previous": data["previous"][key],
            "change %": None
            if data["change_pct"][key] is None
            else f"{data['change_pct'][key]:+.1f}",
        }
        for key in analytics.SUMMARY_KEYS
    ]
    print(
        f"{data['start']} .. {data['end']} (previous: {data['previous']['start']} .. "
        f"{data['previous']['end']})"
    )
    print_table(rows, ["figure", "now", "previous", "change %"])
    if data["unpriced_models"]:
        print("unpriced models: " + ", ".join(data["unpriced_models"]))
    return 0


def _prices_list(args) -> int:  # noqa: ANN001
    with session_scope() as session:
        rows = analytics.list_prices(session)
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["id", "model_pattern", "usd_per_1k_tokens", "effective_from"])
    return 0


def _prices_set(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        row = analytics.set_price(
            session,
            model_pattern=args.pattern,
            usd_per_1k_tokens=args.price,
            effective_from=args.since,
        )
    if args.json:
        print_json(row)
    else:
        print(
            f"{row['model_pattern']}: {row['usd_per_1k_tokens']} USD per 1K tokens "
            f"from {row['effective_from']}"
        )
    return 0


def _prices_delete(args) -> int:  # noqa: ANN001
    with session_scope(write=True) as session:
        count = analytics.delete_price(
            session, model_pattern=args.pattern, effective_from=args.since
        )
    print(f"deleted {count} price{'s' if count != 1 else ''} for {args.pattern}")
    return 0
