"""`init-db` and `seed-demo`."""

from __future__ import annotations

from core.cli._types import bounded_int
from core.config import get_settings
from core.migrate import upgrade_to_head


def register(subparsers) -> None:  # noqa: ANN001
    init = subparsers.add_parser("init-db", help="apply database migrations (idempotent)")
    init.set_defaults(handler=_init_db)
    seed = subparsers.add_parser(
        "seed-demo", help="load demo agents, accounts and 30 days of usage (first run only)"
    )
    seed.add_argument("--force", action="store_true", help="seed even if agents already exist")
    seed.add_argument(
        "--events", type=bounded_int(0, 10_000_000), default=50_000, help="usage events to generate"
    )
    seed.add_argument(
        "--first-run",
        action="store_true",
        help="only seed the embedded SQLite database, and only while it has no agents (make run)",
    )
    seed.set_defaults(handler=_seed_demo)


def _init_db(args) -> int:  # noqa: ANN001
    head = upgrade_to_head()
    print(f"database is at migration {head}")
    return 0


def _seed_demo(args) -> int:  # noqa: ANN001
    from core.seed import seed_demo

    upgrade_to_head()
    if args.first_run and not get_settings().sqlalchemy_url.startswith("sqlite"):
        print("not the embedded SQLite database: demo data is only seeded there automatically")
        return 0
    report = seed_demo(
        force=args.force, events=args.events, accounts_only_if_populated=args.first_run
    )
    print(report)
    return 0
