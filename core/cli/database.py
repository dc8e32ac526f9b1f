"""`init-db` and `seed-demo`."""

from __future__ import annotations

from core.migrate import upgrade_to_head


def register(subparsers) -> None:  # noqa: ANN001
    init = subparsers.add_parser("init-db", help="apply database migrations (idempotent)")
    init.set_defaults(handler=_init_db)
    seed = subparsers.add_parser(
        "seed-demo", help="load demo agents, accounts and 30 days of usage (first run only)"
    )
    seed.add_argument("--force", action="store_true", help="seed even if agents already exist")
    seed.add_argument("--events", type=int, default=50_000, help="usage events to generate")
    seed.set_defaults(handler=_seed_demo)


def _init_db(args) -> int:  # noqa: ANN001
    head = upgrade_to_head()
    print(f"database is at migration {head}")
    return 0


def _seed_demo(args) -> int:  # noqa: ANN001
    from core.seed import seed_demo

    upgrade_to_head()
    report = seed_demo(force=args.force, events=args.events)
    print(report)
    return 0
