"""The registry announces what happened; subscribers react inside the same transaction.

`announce` writes a `DomainEvent` row and hands it to every subscriber, which may only add
rows (e.g. outbox entries) to the same session: the change, the event and the work owed to
other systems commit or roll back together. Subscribers never call out over the network
here; the outbox delivers after commit, in the background.

The registry imports this module only; integrations register below (like `core.jobs.JOBS`),
so `core.registry` does not depend on Jira or the deploy webhook.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from core.models import DomainEvent

SUBMITTED = "agent.submitted"
APPROVED = "agent.approved"
REJECTED = "agent.rejected"
CANCELLED = "agent.cancelled"
DEPLOYED = "agent.deployed"
COMMENT_ADDED = "comment.added"

# "module:function" taking (session, event); called in order for every event.
SUBSCRIBERS: list[str] = [
    "core.jira.subscriber:on_event",
    "core.deploy_notice:on_event",
]


@cache
def _load(target: str) -> Callable[[Session, DomainEvent], None]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def announce(
    session: Session,
    *,
    kind: str,
    agent_id: int,
    version: int | None,
    actor: str,
    source: str,
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    """Record that `kind` happened to the agent and let the subscribers queue their work."""
    event = DomainEvent(
        kind=kind,
        agent_id=agent_id,
        version=version,
        actor=actor,
        source=str(source),
        data=dict(data or {}),
    )
    session.add(event)
    session.flush()
    for target in SUBSCRIBERS:
        _load(target)(session, event)
    return event
