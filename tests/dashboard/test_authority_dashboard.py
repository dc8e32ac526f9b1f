"""A user demoted or deactivated while logged in loses power on their next click."""

from __future__ import annotations

from core import auth, registry
from core.db import session_scope
from tests.dashboard.conftest import PEOPLE, button, go, log_in


def _change(dash_db: str, email: str, *, role: str | None = None, active: bool = True) -> None:
    """Another admin, elsewhere, changes this account while its session stays open."""
    with session_scope(dash_db, write=True) as session:
        auth.set_active(session, email=email, active=active)
        if role:
            auth.set_role(session, email=email, role=role)


def test_a_demoted_admins_next_admin_action_is_refused(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    _change(dash_db, PEOPLE["admin"], role="analyst")

    at.text_input(key="token_name").input("my way back in")
    button(at, "Create token").click().run()
    # The session re-reads the account on every run: the Admin page is gone, the click
    # lands on Overview and its handler never runs. (Core refuses it too: test_authority.)
    assert [t.value for t in at.title] == ["Overview"]
    assert "Create token" not in [b.label for b in at.button]

    with session_scope(dash_db) as session:
        assert auth.list_api_tokens(session) == []
        assert auth.find_user(session, email="accomplice@example.com") is None


def test_a_deactivated_admin_cannot_reactivate_themself_or_promote_others(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    _change(dash_db, PEOPLE["admin"], active=False)
    at.selectbox(key="role_user").select(PEOPLE["analyst"])
    button(at, "Save").click().run()
    # Deactivation ends the session at once: the next click meets the login form.
    assert "Log in" in [b.label for b in at.button]
    assert not at.title or "Admin" not in [t.value for t in at.title]
    with session_scope(dash_db) as session:
        assert auth.find_user(session, email=PEOPLE["analyst"]).role.value == "analyst"


def test_a_demoted_approvers_next_decision_is_refused(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    at = go(log_in(PEOPLE["approver"]), "approvals")
    _change(dash_db, PEOPLE["approver"], role="developer")
    button(at, "Approve").click().run()
    # The role is re-read on the next run: Approvals is no longer this user's page.
    assert [t.value for t in at.title] == ["Overview"]
    assert "Approve" not in [b.label for b in at.button]
    with session_scope(dash_db) as session:
        assert registry.agent_status(session, agent_id=agent_id)["status"] == "pending"
