"""The review screen, rejection reasons, the developer's inbox, sessions and address state."""

from __future__ import annotations

from core import auth, registry
from core.db import session_scope
from core.models import Source
from tests.dashboard.conftest import PEOPLE, button, go, log_in, messages


def _v2(url: str, agent_id: int) -> None:
    """v1 approved and deployed, then a changed prompt submitted as v2."""
    with session_scope(url, write=True) as session:
        registry.approve_agent(
            session, agent_id=agent_id, actor_email=PEOPLE["approver"], source=Source.CLI
        )
        registry.deploy_agent(
            session, agent_id=agent_id, actor_email=PEOPLE["admin"], source=Source.CLI
        )
        registry.update_agent(
            session,
            agent_id=agent_id,
            actor_email=PEOPLE["developer"],
            system_prompt="Be brief.\nQuote the ticket id.",
            source=Source.CLI,
        )
        registry.submit_agent(
            session, agent_id=agent_id, actor_email=PEOPLE["developer"], source=Source.CLI
        )


def _review(agent_id: int):  # noqa: ANN202
    at = log_in(PEOPLE["approver"])
    at.query_params["agent"] = str(agent_id)
    return go(at, "approvals")


def test_review_screen_shows_what_is_submitted_and_the_diff(dash_db, add_agent):
    agent_id = add_agent(submit=True, system_prompt="Be brief.", code="print('hi')\n")
    _v2(dash_db, agent_id)
    at = _review(agent_id)
    assert not at.exception
    assert at.title[0].value == "Review: Ticket summariser v2"
    codes = [c.value for c in at.code]
    assert "Be brief.\nQuote the ticket id." in codes and "print('hi')" in codes
    assert [t.label for t in at.tabs] == ["What is submitted", "Changes since v1 (1 field(s))"]
    assert any("last approved version" in c.value for c in at.caption)
    assert "Unchanged: Name, Description, Model, Tools, Code, Submission notes" in [
        c.value for c in at.caption
    ]


def test_reject_needs_a_reason_on_the_review_screen_then_the_queue_returns(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    at = _review(agent_id)
    button(at, "Reject").click().run()
    assert messages(at.error) == ["write the reason for the rejection: the developer sees it"]
    assert at.title[0].value.startswith("Review:")
    next(w for w in at.text_input if w.label == "Comment").input("Add a rate limit")
    button(at, "Reject").click().run()
    assert f"Agent {agent_id} rejected." in messages(at.success)
    assert at.title[0].value == "Approvals"  # back to the queue
    assert "agent" not in at.query_params

    dev = log_in(PEOPLE["developer"])  # the developer's inbox on Overview
    assert any("pending → rejected" in m.value and "new" in m.value for m in dev.markdown), (
        messages(dev.markdown)
    )
    assert "Reason: Add a rate limit" in [c.value for c in dev.caption]
    assert any(p.label == "Inbox: 1 new" for p in dev.get("page_link"))
    button(dev, "Mark all as read").click().run()
    assert "Inbox: nothing new" in " ".join(c.value for c in dev.caption)


def test_an_approver_on_an_agent_page_can_go_to_its_review(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    at = log_in(PEOPLE["approver"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    button(at, "Review and decide").click().run()
    assert at.title[0].value == "Review: Ticket summariser v1"
    analyst = log_in(PEOPLE["analyst"])
    analyst.query_params["agent"] = str(agent_id)
    go(analyst, "agents")
    assert "Review and decide" not in [b.label for b in analyst.button]


def test_a_link_to_an_unknown_agent_says_so(dash_db):
    at = log_in(PEOPLE["approver"])
    at.query_params["agent"] = "999"
    go(at, "agents")
    assert not at.exception
    assert any("999" in m for m in messages(at.error))  # core's "not found" line
    go(at, "approvals")
    assert not at.exception and any("999" in m for m in messages(at.error))


def test_versions_tab_has_human_columns_and_the_decider(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    with session_scope(dash_db, write=True) as session:
        registry.reject_agent(
            session,
            agent_id=agent_id,
            actor_email=PEOPLE["approver"],
            source=Source.CLI,
            comment="no",
        )
    at = log_in(PEOPLE["developer"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    table = next(f.value for f in at.dataframe if "decided_by" in f.value)
    assert list(table.columns) == [
        "version",
        "status",
        "submitted_by",
        "submitted_at",
        "decided_by",
        "decided_at",
        "deployed_at",
        "notes",
    ]
    assert table["decided_by"].tolist() == [PEOPLE["approver"]]
    assert table["notes"].tolist() == [""]  # not None


def test_the_action_comment_is_cleared_after_the_action(dash_db, add_agent):
    agent_id = add_agent()
    at = log_in(PEOPLE["developer"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    box = next(w for w in at.text_input if w.label == "Comment for the action (optional)")
    box.input("first submission")
    button(at, "Submit").click().run()
    assert f"Agent {agent_id} submitted for approval." in messages(at.success)
    box = next(w for w in at.text_input if w.label == "Comment for the action (optional)")
    assert box.value == ""


def test_logging_out_ends_the_server_session(dash_db):
    from dashboard.identity import TOKEN_KEY

    at = log_in(PEOPLE["developer"])
    cookie = at.session_state[TOKEN_KEY]
    from core import sessions

    with session_scope(dash_db) as session:
        assert sessions.resolve_session(session, cookie=cookie).email == PEOPLE["developer"]
    button(at, "Log out").click().run()
    with session_scope(dash_db) as session:
        assert sessions.resolve_session(session, cookie=cookie) is None


def test_deactivation_logs_an_open_tab_out_at_its_next_run(dash_db):
    at = log_in(PEOPLE["developer"])
    assert at.title[0].value == "Overview"
    with session_scope(dash_db, write=True) as session:
        auth.set_active(session, email=PEOPLE["developer"], active=False)
    at.run()
    assert [w.label for w in at.text_input] == ["Email", "Password"]
    assert "current_user" not in at.session_state


def test_admin_role_form_follows_the_picked_user(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    at.selectbox(key="role_user").select(PEOPLE["approver"]).run()
    assert at.selectbox(key=f"role_value_{PEOPLE['approver']}").value == "approver"
    at.selectbox(key="role_user").select(PEOPLE["developer"]).run()
    assert at.selectbox(key=f"role_value_{PEOPLE['developer']}").value == "developer"


def test_analytics_filters_come_from_the_address(dash_db, add_agent):
    agent_id = add_agent()
    at = log_in(PEOPLE["analyst"])
    at.query_params.update({"period": "7d", "agent": str(agent_id), "model": "unknown"})
    go(at, "analytics")
    assert not at.exception
    assert at.segmented_control(key="analytics_period").value == "7 days"
    assert at.selectbox(key="analytics_agent").value == agent_id
    assert at.selectbox(key="analytics_model").value is None  # not a known model: ignored
    assert any("compared with the previous 7 days" in c.value for c in at.caption)
    at.segmented_control(key="analytics_period").set_value("90 days").run()
    assert at.query_params["period"] in ("90d", ["90d"])
