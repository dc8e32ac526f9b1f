"""`search QUERY`, `search --similar ID` and `search reindex`."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from core.cli._output import add_json_flag, print_json, print_table
from core.cli._types import record_id
from core.db import session_scope
from core.models import AgentStatus

REINDEX = "reindex"


def register(subparsers) -> None:  # noqa: ANN001
    search = subparsers.add_parser(
        "search",
        help="find agents by meaning; `search reindex` rebuilds the index",
        description=(
            "Find agents by what they do. `search --similar ID` lists agents like one agent; "
            "`search reindex` re-embeds every agent (after changing EMBEDDING_BACKEND or "
            "EMBEDDING_MODEL)."
        ),
    )
    search.add_argument("query", nargs="*", help="what the agent should do (or: reindex)")
    search.add_argument(
        "--similar", type=record_id, metavar="ID", help="agents similar to agent ID"
    )
    search.add_argument(
        "--limit", type=int, help="how many results (1-100; default 10, 5 with --similar)"
    )
    search.add_argument(
        "--min-similarity",
        type=float,
        default=0.0,
        help="drop results below this (0-1); results below the calibrated no-good-match "
        "threshold are labelled relevance 'none' (docs/search.md)",
    )
    search.add_argument(
        "--status",
        choices=[s.value for s in AgentStatus],
        action="append",
        help="only agents in this status (repeatable; default: every status, approved and "
        "production first at equal relevance)",
    )
    search.add_argument(
        "--reembed",
        action="store_true",
        help="with reindex: re-embed semantic vectors even for unchanged agents",
    )
    add_json_flag(search)
    search.set_defaults(handler=_handle, parser=search)


def _handle(args: argparse.Namespace) -> int:
    from core import search  # imported late: it loads scikit-learn

    words = " ".join(args.query).strip()
    if args.similar is not None and words:
        args.parser.error("give either a query or --similar ID, not both")
    if words == REINDEX and args.similar is None:
        return _reindex(args, search)
    if args.similar is None and not words:
        args.parser.error("give a query, --similar ID, or reindex")
    with session_scope() as session:
        if args.similar is not None:
            hits = search.similar_agents(
                session, agent_id=args.similar, limit=5 if args.limit is None else args.limit
            )
        else:
            hits = search.search_agents(
                session,
                query=words,
                limit=10 if args.limit is None else args.limit,
                min_similarity=args.min_similarity,
                statuses=args.status,
            )
    rows = [hit.to_dict() for hit in hits]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["id", "name", "similarity", "relevance", "status"])
    return 0


def _reindex(args: argparse.Namespace, search) -> int:  # noqa: ANN001
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="agent", desc="embedding", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        with session_scope(write=True) as session:
            count = search.rebuild_index(session, reembed_semantic=args.reembed, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print_json({"indexed": count})
    else:
        print(f"indexed {count} agents")
    return 0
