"""The registry and its status machine, on every backend."""

from __future__ import annotations

import threading

import pytest

from core import registry
from core.db import session_scope
from core.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from core.models import AgentStatus, Source, VersionStatus

CLI = Source.CLI


def _do(action, agent_id: int, actor: str, **kw):  # noqa: ANN001, ANN003
    with session_scope(write=True) as session:
        agent = action(session, agent_id=agent_id, actor_email=actor, source=CLI, **kw)
        return agent.status


def _status(agent_id: int) -> dict:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)


def test_full_lifecycle_records_history_and_snapshot(people, make_agent):
    agent = make_agent(people["developer"], tools="search, email")
    assert _do(registry.submit_agent, agent.id, people["developer"], notes="first cut") == "pending"
    assert _do(registry.approve_agent, agent.id, people["approver"], comment="ok") == "approved"
    assert _do(registry.deploy_agent, agent.id, people["admin"]) == "production"

    data = _status(agent.id)
    assert data["status"] == "production"
    assert data["approved_by"] == people["approver"]
    assert data["approved_at"] is not None
    moves = [(h["from"], h["to"], h["actor"]) for h in data["history"]]
    assert moves == [
        (None, "draft", people["developer"]),
        ("draft", "pending", people["developer"]),
        ("pending", "approved", people["approver"]),
        ("approved", "production", people["admin"]),
    ]
    assert all(h["source"] == "cli" for h in data["history"])
    with session_scope() as session:
        (version,) = registry.list_versions(session, agent_id=agent.id)
        assert version.version == 1
        assert version.status == VersionStatus.PRODUCTION
        assert version.tools == ["search", "email"]
        assert version.notes == "first cut"
        assert version.deployed_at is not None


def test_reject_then_edit_starts_new_draft_version(people, make_agent):
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["developer"])
    assert _do(registry.reject_agent, agent.id, people["approver"], comment="no") == "rejected"
    with session_scope(write=True) as session:
        edited = registry.update_agent(
            session,
            agent_id=agent.id,
            actor_email=people["developer"],
            description="Better",
            source=CLI,
        )
        assert (edited.status, edited.version) == (AgentStatus.DRAFT, 2)
    _do(registry.submit_agent, agent.id, people["developer"])
    with session_scope() as session:
        versions = {v.version: v for v in registry.list_versions(session, agent_id=agent.id)}
    assert versions[1].status == VersionStatus.REJECTED
    assert versions[1].description != "Better"  # the snapshot is frozen
    assert versions[2].description == "Better"
    assert versions[2].status == VersionStatus.PENDING


def test_production_keeps_serving_while_next_version_is_drafted(people, make_agent):
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["developer"])
    _do(registry.approve_agent, agent.id, people["approver"])
    _do(registry.deploy_agent, agent.id, people["admin"])
    with session_scope(write=True) as session:
        registry.update_agent(
            session, agent_id=agent.id, actor_email=people["developer"], model="gpt-4.1", source=CLI
        )
    _do(registry.submit_agent, agent.id, people["developer"])
    _do(registry.approve_agent, agent.id, people["approver"])
    data = _status(agent.id)
    assert (data["status"], data["version"], data["production_version"]) == ("approved", 2, 1)
    _do(registry.deploy_agent, agent.id, people["admin"])
    with session_scope() as session:
        versions = {v.version: v.status for v in registry.list_versions(session, agent_id=agent.id)}
    assert versions == {1: VersionStatus.RETIRED, 2: VersionStatus.PRODUCTION}
    assert _status(agent.id)["production_version"] == 2


def test_cancel_returns_to_draft_and_next_submission_is_a_new_version(people, make_agent):
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["developer"])
    assert _do(registry.cancel_agent, agent.id, people["developer"]) == "draft"
    _do(registry.submit_agent, agent.id, people["developer"])
    with session_scope() as session:
        versions = {v.version: v.status for v in registry.list_versions(session, agent_id=agent.id)}
    assert versions == {1: VersionStatus.CANCELLED, 2: VersionStatus.PENDING}


@pytest.mark.parametrize(
    ("setup", "action", "actor", "error", "message"),
    [
        (
            [],
            registry.approve_agent,
            "approver",
            InvalidTransitionError,
            "it is draft, not pending",
        ),
        ([], registry.deploy_agent, "admin", InvalidTransitionError, "it is draft, not approved"),
        ([], registry.cancel_agent, "developer", InvalidTransitionError, "it is draft"),
        (["submit"], registry.submit_agent, "developer", InvalidTransitionError, "it is pending"),
        (["submit"], registry.approve_agent, "developer", PermissionDeniedError, "only approvers"),
        (["submit"], registry.approve_agent, "analyst", PermissionDeniedError, "only approvers"),
        (["submit"], registry.reject_agent, "developer2", PermissionDeniedError, "only approvers"),
        (["submit"], registry.deploy_agent, "approver", PermissionDeniedError, "only admins"),
        (["submit"], registry.cancel_agent, "developer2", PermissionDeniedError, "only the owner"),
        ([], registry.submit_agent, "approver", PermissionDeniedError, "only the owner"),
        (
            ["submit", "approve"],
            registry.reject_agent,
            "approver2",
            InvalidTransitionError,
            "it is approved",
        ),
        (
            ["submit", "approve"],
            registry.cancel_agent,
            "developer",
            InvalidTransitionError,
            "it is approved",
        ),
        (
            ["submit", "reject"],
            registry.deploy_agent,
            "admin",
            InvalidTransitionError,
            "it is rejected",
        ),
    ],
)
def test_refused_moves(people, make_agent, setup, action, actor, error, message):  # noqa: ANN001
    agent = make_agent(people["developer"])
    steps = {
        "submit": (registry.submit_agent, "developer"),
        "approve": (registry.approve_agent, "approver"),
        "reject": (registry.reject_agent, "approver"),
    }
    for step in setup:
        fn, who = steps[step]
        _do(fn, agent.id, people[who])
    before = _status(agent.id)
    with pytest.raises(error, match=message):
        _do(action, agent.id, people[actor])
    after = _status(agent.id)
    assert after["status"] == before["status"]
    assert len(after["history"]) == len(before["history"])


def test_owner_cannot_approve_own_agent_even_as_approver(people, make_agent):
    agent = make_agent(people["approver"])
    _do(registry.submit_agent, agent.id, people["approver"])
    with pytest.raises(PermissionDeniedError, match="owns agent .* another approver"):
        _do(registry.approve_agent, agent.id, people["approver"])
    assert _do(registry.approve_agent, agent.id, people["approver2"]) == "approved"


def test_unknown_agent_and_unknown_actor(people, make_agent):
    with pytest.raises(NotFoundError, match="agent 999999 does not exist"):
        _do(registry.submit_agent, 999999, people["developer"])
    agent = make_agent(people["developer"])
    with pytest.raises(NotFoundError, match="no active user with email ghost@example.com"):
        _do(registry.submit_agent, agent.id, "ghost@example.com")


def test_edit_refused_while_pending_and_for_strangers(people, make_agent):
    agent = make_agent(people["developer"])
    with (
        pytest.raises(PermissionDeniedError, match="only the owner"),
        session_scope(write=True) as s,
    ):
        registry.update_agent(s, agent_id=agent.id, actor_email=people["developer2"], name="X")
    _do(registry.submit_agent, agent.id, people["developer"])
    with (
        pytest.raises(InvalidTransitionError, match="cancel the submission first"),
        session_scope(write=True) as s,
    ):
        registry.update_agent(s, agent_id=agent.id, actor_email=people["developer"], name="X")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "name is required"),
        ({"name": "x" * 121}, "name is 121 characters; use at most 120"),
        ({"description": ""}, "description is required"),
        ({"model": ""}, "model is required"),
        ({"code": "x" * 1_000_001}, "code is 1,000,001 bytes; the limit is 1 MB"),
        ({"code": b"\xff\xfe"}, "code must be UTF-8 text"),
    ],
)
def test_validation_messages(people, make_agent, fields, message):  # noqa: ANN001
    with pytest.raises(ValidationError, match=message):
        make_agent(people["developer"], **fields)


def test_code_up_to_one_megabyte_is_kept_exactly(people, make_agent):
    code = ("# é\n" * 200_000)[: 1_000_000 // 2]
    agent = make_agent(people["developer"], code=code)
    with session_scope() as session:
        assert registry.get_agent(session, agent_id=agent.id).code == code


def test_analyst_cannot_create_agents(people, make_agent):
    with pytest.raises(PermissionDeniedError, match="only developers, approvers and admins"):
        make_agent(people["analyst"])


def test_comments_in_order(people, make_agent):
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.add_comment(
            session, agent_id=agent.id, actor_email=people["analyst"], body="Nice", source=CLI
        )
        registry.add_comment(
            session, agent_id=agent.id, actor_email=people["approver"], body="Why?", source=CLI
        )
    comments = _status(agent.id)["comments"]
    assert [(c["author"], c["body"]) for c in comments] == [
        (people["analyst"], "Nice"),
        (people["approver"], "Why?"),
    ]
    with pytest.raises(ValidationError, match="comment is empty"), session_scope(write=True) as s:
        registry.add_comment(
            s, agent_id=agent.id, actor_email=people["analyst"], body=" ", source=CLI
        )


def test_allowed_actions_explain_refusals(people, make_agent):
    agent = make_agent(people["developer"])
    with session_scope() as session:
        from core.auth import get_user

        a = registry.get_agent(session, agent_id=agent.id)
        dev = registry.allowed_actions(a, get_user(session, email=people["developer"]))
        appr = registry.allowed_actions(a, get_user(session, email=people["approver"]))
    assert dev["submit"] is None and dev["edit"] is None
    assert "only approvers" in dev["approve"]
    assert "only the owner" in appr["submit"]
    assert "draft, not pending" in appr["approve"]


@pytest.mark.parametrize("rivals", [("approve", "approve"), ("approve", "cancel")])
def test_concurrent_decisions_exactly_one_wins(people, make_agent, rivals):  # noqa: ANN001
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["developer"])
    actions = {
        "approve": [
            (registry.approve_agent, people["approver"]),
            (registry.approve_agent, people["approver2"]),
        ],
        "cancel": [(registry.cancel_agent, people["developer"])],
    }
    contenders = [actions[rivals[0]][0], actions[rivals[1]][-1]]
    barrier = threading.Barrier(len(contenders))
    outcomes: list[object] = []

    def run(fn, actor):  # noqa: ANN001
        barrier.wait()
        try:
            outcomes.append(_do(fn, agent.id, actor))
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=run, args=c) for c in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    losses = [o for o in outcomes if isinstance(o, Exception)]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    assert isinstance(losses[0], ConflictError | InvalidTransitionError)
    assert "pending" in str(losses[0])
    history = _status(agent.id)["history"]
    assert sum(1 for h in history if h["from"] == "pending") == 1


def test_counts_by_status(people, make_agent):
    a, b = make_agent(people["developer"]), make_agent(people["developer"])
    make_agent(people["developer"])
    _do(registry.submit_agent, a.id, people["developer"])
    _do(registry.submit_agent, b.id, people["developer"])
    _do(registry.approve_agent, b.id, people["approver"])
    with session_scope() as session:
        counts = registry.count_by_status(session)
    assert counts == {"draft": 1, "pending": 1, "approved": 1, "rejected": 0, "production": 0}


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("über", {"Übersetzer"}),
        ("ÜBER", {"Übersetzer"}),
        ("U\u0308bersetzer", {"Übersetzer"}),  # decomposed Ü
        ("straße", {"Straße prüfen"}),
        ("STRASSE", {"Straße prüfen"}),
        ("PRÜF", {"Straße prüfen"}),
        ("uber", set()),  # accents matter, on every database (MariaDB's collation ignores them)
        ("%", {"100% sure"}),  # a wildcard in SQL, a character here
        ("_", set()),
    ],
)
def test_name_filter_is_unicode_case_insensitive(people, make_agent, db_url, search, found):
    for name in ("Übersetzer", "Straße prüfen", "100% sure", "Plain agent"):
        make_agent(people["developer"], name=name)
    with session_scope() as session:
        names = {a.name for a in registry.list_agents(session, text=search)}
    assert names == found
