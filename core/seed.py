"""`python -m core seed-demo`: demo accounts, ~40 agents across all statuses, 30 days of usage."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import analytics, auth, registry
from core.analytics import windows
from core.audit.chain import rechain
from core.config import get_settings
from core.db import session_scope
from core.demo.catalog import AGENTS, STATUS_PLAN
from core.demo.usage import generate_events
from core.models import Agent, AgentVersion, Role, Source, StatusChange, utcnow

DEMO_ACCOUNTS = [
    ("analyst@example.com", "Alex Analyst", Role.ANALYST),
    ("developer@example.com", "Dana Developer", Role.DEVELOPER),
    ("approver@example.com", "Avery Approver", Role.APPROVER),
    ("admin@example.com", "Ada Admin", Role.ADMIN),
]
# Colleagues without a password (they would sign in with SSO): owners and approvers in demo data.
COLLEAGUES = [
    ("maria.lopez@example.com", "Maria Lopez", Role.DEVELOPER),
    ("sam.okafor@example.com", "Sam Okafor", Role.DEVELOPER),
    ("li.wei@example.com", "Li Wei", Role.APPROVER),
]
REVIEW_NOTES = {
    "approved": ["Looks good; data access is read-only.", "Approved after security review.", ""],
    "rejected": [
        "Needs a human in the loop before emails are sent.",
        "Uses customer PII without a DPA; please scope it down.",
    ],
}


def seed_demo(
    *, force: bool = False, events: int = 50_000, accounts_only_if_populated: bool = False
) -> str:
    """Load the demo data unless agents exist already (then only missing accounts are added).

    With `accounts_only_if_populated` (make run), a database that has agents is left alone.
    """
    with session_scope(write=True) as session:
        existing = session.scalar(select(func.count()).select_from(Agent)) or 0
        if existing and accounts_only_if_populated and not force:
            return f"{existing} agents exist; demo data not needed"
        _ensure_accounts(session)
    if existing and not force:
        return f"demo accounts ready; {existing} agents exist already, so no demo agents were added"
    with session_scope(write=True) as session:
        agents = _create_agents(session)
    with session_scope(write=True) as session:
        used = [(a.id, a.model) for a in agents if a.status.value in ("production", "approved")]
        count = _insert_usage(session, used, events)
    return f"seeded {len(agents)} demo agents and {count:,} usage events; log in as {DEMO_ACCOUNTS[1][0]}"


def _ensure_accounts(session: Session) -> None:
    password = get_settings().demo_password
    for email, name, role in DEMO_ACCOUNTS:
        if auth.find_user(session, email=email) is None:
            auth.create_user(  # the documented exception to the password policy
                session, email=email, name=name, role=role, password=password, password_policy=False
            )
    for email, name, role in COLLEAGUES:
        if auth.find_user(session, email=email) is None:
            auth.create_user(session, email=email, name=name, role=role)


def _create_agents(session: Session) -> list[Agent]:
    rng = np.random.default_rng(11)
    owners = ["developer@example.com", "maria.lopez@example.com", "sam.okafor@example.com"]
    approvers = ["approver@example.com", "li.wei@example.com"]
    created: list[Agent] = []
    first_history_id = (session.scalar(select(func.max(StatusChange.id))) or 0) + 1
    for index, ((name, description, model, tools), target) in enumerate(
        zip(AGENTS, STATUS_PLAN, strict=True)
    ):
        owner = owners[index % len(owners)]
        agent = registry.create_agent(
            session,
            owner_email=owner,
            name=name,
            description=description,
            model=model,
            system_prompt=f"You are the {name} agent. {description}",
            tools=tools,
            code=_code_for(name, tools),
            code_filename=f"{name.lower().replace(' ', '_')}.py",
            source=Source.DASHBOARD,
        )
        _walk_to(session, agent.id, target, owner, approvers[index % 2], rng)
        _backdate_history(session, agent.id, days_ago=int(rng.integers(3, 60)), rng=rng)
        created.append(agent)
    session.flush()
    rechain(session.connection(), from_id=first_history_id)  # the backdating changed the rows
    for agent in created:
        session.refresh(agent)
    return created


def _walk_to(session: Session, agent_id: int, target: str, owner: str, approver: str, rng) -> None:  # noqa: ANN001
    if target == "draft":
        return
    registry.submit_agent(
        session,
        agent_id=agent_id,
        actor_email=owner,
        source=Source.DASHBOARD,
        notes="Ready for review",
    )
    if target == "pending":
        return
    if target == "rejected":
        registry.reject_agent(
            session,
            agent_id=agent_id,
            actor_email=approver,
            source=Source.DASHBOARD,
            comment=str(rng.choice(REVIEW_NOTES["rejected"])),
        )
        return
    registry.approve_agent(
        session,
        agent_id=agent_id,
        actor_email=approver,
        source=Source.DASHBOARD,
        comment=str(rng.choice(REVIEW_NOTES["approved"])),
    )
    if target == "production":
        registry.deploy_agent(
            session, agent_id=agent_id, actor_email="admin@example.com", source=Source.DASHBOARD
        )


def _backdate_history(session: Session, agent_id: int, *, days_ago: int, rng) -> None:  # noqa: ANN001
    """Spread an agent's moves over past days so timelines look lived-in."""
    rows = session.scalars(
        select(StatusChange).where(StatusChange.agent_id == agent_id).order_by(StatusChange.id)
    ).all()
    at = utcnow() - timedelta(days=days_ago)
    # The version rows keep the same times as their history, so point-in-time audit answers
    # (approved at, deployed at) agree with the timeline.
    version_times: dict[int, dict[str, object]] = {}
    for row in rows:
        row.created_at = at
        column = _VERSION_TIME_OF.get(row.to_status)
        if column:
            version_times.setdefault(row.version, {})[column] = at
        at += timedelta(hours=float(rng.uniform(2, 48)))
    for version, times in version_times.items():
        session.execute(
            update(AgentVersion)
            .where(AgentVersion.agent_id == agent_id, AgentVersion.version == version)
            .values(**times)
        )
    session.execute(
        update(Agent)
        .where(Agent.id == agent_id)
        .values(created_at=rows[0].created_at, updated_at=rows[-1].created_at)
    )
    decided = [times["approved_at"] for times in version_times.values() if "approved_at" in times]
    if decided:  # the agent's own decision time, where it has one
        session.execute(
            update(Agent)
            .where(Agent.id == agent_id, Agent.approved_at.is_not(None))
            .values(approved_at=max(decided))
        )


_VERSION_TIME_OF = {
    "pending": "submitted_at",
    "approved": "approved_at",
    "rejected": "approved_at",
    "production": "deployed_at",
}


def _code_for(name: str, tools: list[str]) -> str:
    func_name = name.lower().replace(" ", "_").replace("-", "_").replace("&", "and")
    calls = "\n".join(f"    context['{t}'] = tools.{t}(request)" for t in tools)
    return (
        f'"""Generated agent: {name}."""\n\n'
        f"def {func_name}(request, tools, llm):\n"
        f"    context = {{}}\n{calls}\n"
        f"    return llm.complete(request, context=context)\n"
    )


def _insert_usage(session: Session, agents: list[tuple[int, str]], total: int) -> int:
    """Log the demo events in batches (validated, days queued) and roll them up."""
    if not agents or total <= 0:
        return 0
    batch: list[dict] = []
    count = 0
    for event in generate_events(agents=agents, total=total):
        batch.append(event)
        if len(batch) >= 5000:
            count += analytics.log_events(session, events=batch)
            batch = []
    if batch:
        count += analytics.log_events(session, events=batch)
    analytics.rollup_all(session)
    windows.refresh(session, utcnow().date())  # what the rollup job stores for the page
    return count
