"""Overview, Search and Admin pages: content on empty and populated data, admin forms."""

from __future__ import annotations

from core import auth, registry
from core.db import session_scope
from core.models import Source
from dashboard import search_data
from tests.dashboard.conftest import PEOPLE, button, go, log_in, messages


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


def test_overview_on_an_empty_database(dash_db):
    at = log_in(PEOPLE["analyst"])
    assert not at.exception
    assert _metrics(at)["All agents"] == "0"
    assert "Nothing has happened yet: create an agent to get started." in messages(at.caption)


def test_overview_counts_statuses_and_lists_activity(dash_db, add_agent):
    add_agent(name="Drafty")
    add_agent(name="Waiting", submit=True)
    at = log_in(PEOPLE["analyst"])
    metrics = _metrics(at)
    assert (metrics["All agents"], metrics["Draft"], metrics["Pending"]) == ("2", "1", "1")
    assert "1 approval(s) waiting for a decision." in messages(at.info)
    activity = at.dataframe[0].value
    assert set(activity["Agent"] if "Agent" in activity else activity["agent_name"]) == {
        "Drafty",
        "Waiting",
    }


def test_search_page_finds_by_meaning_and_shows_similar_agents(dash_db, add_agent):
    tickets = add_agent(name="Ticket summariser")
    triage = add_agent(
        name="Support triage",
        description="Triages customer support tickets and summarises them for agents",
        submit=True,
    )
    with session_scope(dash_db, write=True) as session:
        registry.approve_agent(
            session, agent_id=triage, actor_email=PEOPLE["approver"], source=Source.CLI
        )
    add_agent(name="Invoice checker", description="Checks supplier invoices against orders")
    at = go(log_in(PEOPLE["analyst"]), "search")
    assert not at.exception
    if not search_data.available():
        assert "Semantic search is not configured yet." in messages(at.info)
        return
    button(at, "Search").click().run()
    assert "Type what you are looking for first." in messages(at.warning)

    # By default: approved and production agents only, above the calibrated threshold.
    assert at.multiselect[0].value == ["approved", "production"]
    assert at.slider[0].value == search_data.no_match_threshold() > 0
    at.text_input[0].input("summarise customer support tickets")
    button(at, "Search").click().run()
    assert not at.exception
    found = [m.value for m in at.markdown if m.value.startswith("**#")]
    assert found == [f"**#{triage} Support triage** · approved"]
    assert f"owner {PEOPLE['developer']}" in messages(at.caption)
    assert any("match]" in m.value and "-badge[" in m.value for m in at.markdown)

    at.multiselect[0].select("draft")
    button(at, "Search").click().run()
    found = [m.value for m in at.markdown if m.value.startswith("**#")]
    assert {f[:4] for f in found[:2]} == {f"**#{tickets}", f"**#{triage}"}
    assert not any("Invoice checker" in f for f in found[:2])

    at.text_input[0].input("qwzx blorp")
    button(at, "Search").click().run()
    assert not [m.value for m in at.markdown if m.value.startswith("**#")]
    assert any(m.startswith("No good match for “qwzx blorp”") for m in messages(at.info))

    at.text_input[0].input("summarise customer support tickets")
    at.multiselect[0].set_value([])
    at.slider[0].set_value(0.0)
    button(at, "Search").click().run()
    next(b for b in at.button if b.key == f"similar_{tickets}").click().run()
    assert f"Agents similar to #{tickets}" in [h.value for h in at.subheader]
    similar = at.dataframe[0].value
    assert tickets not in list(similar["id"])
    assert list(similar["name"])[0] == "Support triage"


def test_admin_adds_a_user_with_inline_errors(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    fields = {w.key: w for w in at.text_input}
    fields["add_user_email"].input("not-an-email")
    fields["add_user_name"].input("New Person")
    button(at, "Add user").click().run()
    assert "'not-an-email' is not a valid email address" in messages(at.error)
    assert at.text_input(key="add_user_name").value == "New Person"  # input kept
    at.text_input(key="add_user_email").input("new.person@example.com")
    at.selectbox(key="add_user_role").select("approver")
    button(at, "Add user").click().run()
    assert "User new.person@example.com added." in messages(at.success)
    with session_scope(dash_db) as session:
        user = auth.find_user(session, email="new.person@example.com")
        assert (user.role.value, user.password_hash) == ("approver", None)


def test_admin_changes_a_role_but_not_their_own(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    # The role and access fields follow the picked user (keyed by email).
    at.selectbox(key="role_user").select(PEOPLE["admin"]).run()
    at.selectbox(key=f"role_value_{PEOPLE['admin']}").select("analyst")
    button(at, "Save").click().run()
    assert "you cannot demote or deactivate yourself" in messages(at.error)
    at.selectbox(key="role_user").select(PEOPLE["analyst"]).run()
    at.selectbox(key=f"role_value_{PEOPLE['analyst']}").select("developer")
    button(at, "Save").click().run()
    with session_scope(dash_db) as session:
        assert auth.find_user(session, email=PEOPLE["analyst"]).role.value == "developer"
        assert auth.find_user(session, email=PEOPLE["admin"]).role.value == "admin"


def test_api_token_is_shown_once_and_can_be_revoked(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    button(at, "Create token").click().run()
    assert "token name must be 1 to 120 characters" in messages(at.error)
    at.text_input(key="token_name").input("gateway ingest")
    button(at, "Create token").click().run()
    shown = [c.value for c in at.code if c.value.startswith("ar_")]
    assert len(shown) == 1
    with session_scope(dash_db) as session:
        assert auth.verify_api_token(session, token=shown[0]) is not None
    at.run()
    assert not [c.value for c in at.code if c.value.startswith("ar_")]  # never shown again
    button(at, "Revoke").click().run()
    with session_scope(dash_db) as session:
        assert auth.verify_api_token(session, token=shown[0]) is None


def test_a_page_refuses_a_role_even_when_run_directly(dash_db):
    """Defence in depth: each page checks the role itself, not only the navigation."""
    from streamlit.testing.v1 import AppTest

    from dashboard.identity import USER_KEY, CurrentUser
    from tests.dashboard.conftest import APP

    at = AppTest.from_file(str(APP.parent / "app_pages" / "admin.py"), default_timeout=30)
    at.session_state[USER_KEY] = CurrentUser(
        email=PEOPLE["analyst"], name="Analyst", role=auth.parse_role("analyst")
    )
    at.run()
    assert messages(at.error) == ["This page is not available to the analyst role."]
    assert not at.tabs


def test_every_page_works_on_an_empty_database(dash_db):
    at = log_in(PEOPLE["admin"])
    for page in ("overview", "analytics", "search", "agents", "agent_form", "approvals", "admin"):
        go(at, page)
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, messages(at.error))
    go(at, "agents")
    assert "No agents yet." in messages(at.info)
