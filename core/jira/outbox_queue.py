"""Queueing outbox rows inside the caller's transaction, and delivering them after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core import background
from core.db import get_engine
from core.jira.outbox_delivery import deliver
from core.models import JiraOutbox, OutboxKind, utcnow

# After a commit, the caller still renders its answer (a dashboard rerun takes ~100 ms):
# the background delivery starts this much later so it does not slow that answer down.
AFTER_COMMIT_DELAY_SECONDS = 0.05
_PENDING_AGENTS = "jira_outbox_agents"
_settings_state = {"deliver_after_commit": True}


def enqueue(
    session: Session,
    *,
    agent_id: int,
    kind: OutboxKind,
    dedupe_key: str,
    version: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue one call (idempotent by `dedupe_key`); it is attempted once the caller commits."""
    exists = session.scalars(
        select(JiraOutbox.id).where(JiraOutbox.dedupe_key == dedupe_key)
    ).first()
    if exists is None:
        add_row(
            session,
            agent_id=agent_id,
            kind=kind,
            dedupe_key=dedupe_key,
            version=version,
            payload=payload,
        )
    else:
        _deliver_after_commit(session, agent_id)


def add_row(
    session: Session,
    *,
    agent_id: int,
    kind: OutboxKind,
    dedupe_key: str,
    version: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """`enqueue` for a caller that already knows `dedupe_key` is not queued yet."""
    session.add(
        JiraOutbox(
            agent_id=agent_id,
            version=version,
            kind=kind,
            dedupe_key=dedupe_key,
            payload=payload or {},
            next_attempt_at=utcnow(),
        )
    )
    _deliver_after_commit(session, agent_id)


def queued_keys(session: Session, *, agent_id: int, version: int | None) -> set[str]:
    """The dedupe keys already queued (in any state) for one submitted version."""
    return set(
        session.scalars(
            select(JiraOutbox.dedupe_key).where(
                JiraOutbox.agent_id == agent_id, JiraOutbox.version == version
            )
        )
    )


def deliver_after_commit(enabled: bool) -> None:
    """Whether this process delivers queued rows in its background thread right after commit.

    Off in short-lived processes (`python -m core …`): their rows are delivered by the
    webhook server's periodic job or `jira sync`, so a command never waits on Jira."""
    _settings_state["deliver_after_commit"] = enabled


def _deliver_after_commit(session: Session, agent_id: int) -> None:
    session.info.setdefault(_PENDING_AGENTS, set()).add(agent_id)


# Listeners on the Session class, registered once: a per-session `event.listen` costs more
# than the rest of an approval's outbox work.
@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.info.get(_PENDING_AGENTS):
        session.info[_PENDING_AGENTS] = set()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: not committed yet
        return
    agent_ids = session.info.get(_PENDING_AGENTS)
    if not agent_ids:
        return
    session.info[_PENDING_AGENTS] = set()
    if not _settings_state["deliver_after_commit"]:
        return
    # The plain engine for the session's database (not the caller's write-options engine).
    url = session.get_bind().url.render_as_string(hide_password=False)
    background.mark_activity(AFTER_COMMIT_DELAY_SECONDS)  # the user's answer first, then Jira
    for agent_id in sorted(agent_ids):
        background.run_soon(_deliver_in_background, url=url, agent_id=agent_id)


def _deliver_in_background(*, url: str, agent_id: int) -> None:
    deliver(engine=get_engine(url), agent_id=agent_id)
