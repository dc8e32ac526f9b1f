"""Upgrading a database made by the previous head back-fills who authored each version."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from core import registry
from core.db import dispose_engines, session_scope
from core.migrate import alembic_config, current_revision, upgrade_to_head
from core.models import Source, User, VersionAuthor

CLI = Source.CLI


def test_upgrade_back_fills_authors_from_versions_and_history(db_url, people, make_agent):
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.submit_agent(session, agent_id=agent.id, actor_email=people["admin"], source=CLI)
        registry.reject_agent(
            session, agent_id=agent.id, actor_email=people["approver"], source=CLI
        )
        registry.update_agent(  # starts version 2
            session, agent_id=agent.id, actor_email=people["admin"], name="Fixed", source=CLI
        )
    command.downgrade(alembic_config(db_url), "0004_search")
    dispose_engines()  # pooled connections cached the old table shapes
    assert current_revision(db_url) == "0004_search"
    upgrade_to_head(db_url)
    dispose_engines()
    with session_scope() as session:
        emails = {u.id: u.email for u in session.scalars(select(User))}
        parts = {
            (a.version, emails[a.user_id], a.action) for a in session.scalars(select(VersionAuthor))
        }
    assert parts == {
        (1, people["developer"], "created"),
        (1, people["admin"], "submitted"),
        (2, people["admin"], "edited"),
    }
    with session_scope(write=True) as session:  # and the rules use them at once
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=CLI
        )
    with session_scope(write=True) as session:
        refusal = registry.allowed_actions(
            registry.get_agent(session, agent_id=agent.id),
            session.scalar(select(User).where(User.email == people["admin"])),
        )["approve"]
    assert "authored version 2" in refusal
