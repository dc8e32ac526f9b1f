"""A user demoted or deactivated while logged in loses power on their next click."""

from __future__ import annotations

from core import auth, registry
from core.db import session_scope
from tests.dashboard.conftest import PEOPLE, button, go, log_in, messages


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
    assert any("only admin accounts may create API tokens" in m for m in messages(at.error))

    at.text_input(key="add_user_email").input("accomplice@example.com")
    at.text_input(key="add_user_name").input("Accomplice")
    at.selectbox(key="add_user_role").select("admin")
    button(at, "Add user").click().run()
    assert any("only admin accounts may add users" in m for m in messages(at.error))

    with session_scope(dash_db) as session:
        assert auth.list_api_tokens(session) == []
        assert auth.find_user(session, email="accomplice@example.com") is None


def test_a_deactivated_admin_cannot_reactivate_themself_or_promote_others(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    _change(dash_db, PEOPLE["admin"], active=False)
    at.selectbox(key="role_user").select(PEOPLE["analyst"])
    at.selectbox(key="role_value").select("admin")
    button(at, "Save").click().run()
    assert any("admin@example.com is deactivated" in m for m in messages(at.error))
    with session_scope(dash_db) as session:
        assert auth.find_user(session, email=PEOPLE["analyst"]).role.value == "analyst"


def test_a_demoted_approvers_next_decision_is_refused(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    at = go(log_in(PEOPLE["approver"]), "approvals")
    _change(dash_db, PEOPLE["approver"], role="developer")
    button(at, "Approve").click().run()
    # The page re-reads the role too: the decision form gives way to the reason.
    shown = messages(at.error) + messages(at.warning)
    assert any("only approvers may approve" in m for m in shown)
    with session_scope(dash_db) as session:
        assert registry.agent_status(session, agent_id=agent_id)["status"] == "pending"
