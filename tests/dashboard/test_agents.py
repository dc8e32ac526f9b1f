"""Agent form validation, the agent detail with its actions, and submit → approve."""

from __future__ import annotations

from core import registry
from core.db import session_scope
from core.models import Agent, Comment, Source, utcnow
from tests.dashboard.conftest import PEOPLE, button, go, log_in, messages


def _form_input(at, label):  # noqa: ANN001, ANN202
    widgets = [*at.text_input, *at.text_area]
    return next(w for w in widgets if w.label == label)


def _status(url: str, agent_id: int) -> str:
    with session_scope(url) as session:
        return registry.agent_status(session, agent_id=agent_id)["status"]


def test_agent_form_shows_each_validation_message_and_keeps_input(dash_db):
    at = go(log_in(PEOPLE["developer"]), "agent_form")
    assert at.title[0].value == "New agent"
    _form_input(at, "Name").input("x" * 130)
    _form_input(at, "Tools (comma-separated)").input("search, email")
    button(at, "Create agent").click().run()
    errors = messages(at.error)
    assert "name is 130 characters; use at most 120" in errors
    assert "description is required: say what the agent does" in errors
    assert "model is required (for example gpt-4o or claude-sonnet-4)" in errors
    assert "Fix the fields marked above; nothing was saved." in errors
    assert _form_input(at, "Name").value == "x" * 130
    assert _form_input(at, "Tools (comma-separated)").value == "search, email"
    with session_scope(dash_db) as session:
        assert registry.list_agents(session) == []


def test_create_submit_and_approve_through_the_pages(dash_db):
    dev = go(log_in(PEOPLE["developer"]), "agent_form")
    _form_input(dev, "Name").input("Invoice checker")
    _form_input(dev, "Description").input("Checks supplier invoices against purchase orders")
    _form_input(dev, "Model").input("gpt-4o")
    _form_input(dev, "Code (paste)").input("def run(invoice):\n    return invoice.total\n")
    button(dev, "Create agent").click().run()
    assert not dev.exception
    assert dev.title[0].value == "Invoice checker"  # switched to the agent's page
    assert "Agent 1 created." in messages(dev.success)
    agent_id = int(dev.query_params["agent"])  # the open agent is in the address
    assert _status(dash_db, agent_id) == "draft"

    button(dev, "Submit").click().run()
    assert f"Agent {agent_id} submitted for approval." in messages(dev.success)
    assert _status(dash_db, agent_id) == "pending"
    assert button(dev, "Submit").disabled
    assert not button(dev, "Cancel").disabled

    approver = go(log_in(PEOPLE["approver"]), "approvals")
    assert any("Invoice checker" in s.value for s in approver.subheader)
    next(w for w in approver.text_input if w.label == "Comment").input("Looks safe")
    button(approver, "Approve").click().run()
    assert f"Agent {agent_id} approved." in messages(approver.success)
    assert _status(dash_db, agent_id) == "approved"
    assert messages(approver.success)[-1].startswith("Nothing waiting")

    # The developer sees the new status; only an admin may deploy it.
    dev.run()
    assert any("approved" in m.value for m in dev.markdown)
    assert button(dev, "Deploy").disabled
    admin = go(log_in(PEOPLE["admin"]), "agents")
    admin.selectbox(key="agents_open_choice").select(agent_id).run()
    button(admin, "Deploy").click().run()
    assert _status(dash_db, agent_id) == "production"
    with session_scope(dash_db) as session:
        digest = registry.agent_status(session, agent_id=agent_id)["content_hash"]
    assert f"Content SHA-256 `{digest}`" in [c.value for c in admin.caption]
    assert any(f"on content `{digest[:12]}…`" in m.value for m in admin.markdown)


def test_approvers_cannot_decide_their_own_agent(dash_db, add_agent):
    add_agent(PEOPLE["approver"], submit=True, name="Approver's own")
    at = go(log_in(PEOPLE["approver"]), "approvals")
    assert "Your own agent: not yours to decide. Another approver must." in messages(at.info)
    assert not [b for b in at.button if b.label in ("Approve", "Reject")]


def test_reject_needs_a_reason(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    at = go(log_in(PEOPLE["approver"]), "approvals")
    button(at, "Reject").click().run()
    assert messages(at.error) == ["write the reason for the rejection: the developer sees it"]
    assert _status(dash_db, agent_id) == "pending"


def test_reject_with_a_comment(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    at = go(log_in(PEOPLE["approver"]), "approvals")
    next(w for w in at.text_input if w.label == "Comment").input("Needs a rate limit")
    button(at, "Reject").click().run()
    assert _status(dash_db, agent_id) == "rejected"
    with session_scope(dash_db) as session:
        history = registry.agent_status(session, agent_id=agent_id)["history"]
    assert history[-1]["comment"] == "Needs a rate limit"
    assert history[-1]["source"] == "dashboard"


def test_analyst_sees_actions_disabled_with_reasons(dash_db, add_agent):
    agent_id = add_agent()
    at = go(log_in(PEOPLE["analyst"]), "agents")
    at.selectbox(key="agents_open_choice").select(agent_id).run()
    for label in ("Edit", "Submit", "Cancel", "Deploy"):
        assert button(at, label).disabled, label
    reasons = " ".join(c.value for c in at.caption)
    assert f"only the owner ({PEOPLE['developer']}) or an admin may edit agent" in reasons
    assert f"only the owner ({PEOPLE['developer']}) or an admin may submit agent" in reasons


def test_comment_thread(dash_db, add_agent):
    agent_id = add_agent()
    at = log_in(PEOPLE["developer2"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    button(at, "Post comment").click().run()
    assert "comment is empty; write something" in messages(at.error)
    next(w for w in at.text_area if w.label == "Add a comment").input("Which queue does it read?")
    button(at, "Post comment").click().run()
    assert "Comment posted." in messages(at.success)
    assert any(m.value == "Which queue does it read\\?" for m in at.markdown)  # escaped text


def test_edit_a_rejected_agent_starts_a_new_draft_version(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    with session_scope(dash_db, write=True) as session:
        registry.reject_agent(
            session, agent_id=agent_id, actor_email=PEOPLE["approver"], source="cli"
        )
    at = log_in(PEOPLE["developer"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    button(at, "Edit").click().run()
    assert at.title[0].value == f"Edit agent #{agent_id}"
    _form_input(at, "Description").input("")
    button(at, "Save agent").click().run()
    assert "description is required: say what the agent does" in messages(at.error)
    _form_input(at, "Description").input("Summarises tickets, now with a rate limit")
    button(at, "Save agent").click().run()
    assert not at.exception
    with session_scope(dash_db) as session:
        info = registry.agent_status(session, agent_id=agent_id)
    assert (info["status"], info["version"]) == ("draft", 2)
    assert info["description"] == "Summarises tickets, now with a rate limit"


def test_code_can_be_uploaded_instead_of_pasted(dash_db):
    at = go(log_in(PEOPLE["developer"]), "agent_form")
    _form_input(at, "Name").input("Uploaded")
    _form_input(at, "Description").input("Code comes from a file")
    _form_input(at, "Model").input("gpt-4o")
    at.file_uploader[0].set_value(("agent.py", b"def run():\n    return 42\n", "text/x-python"))
    button(at, "Create agent").click().run()
    assert not at.exception
    agent_id = int(at.query_params["agent"])
    with session_scope(dash_db) as session:
        agent = registry.get_agent(session, agent_id=agent_id)
        assert (agent.code, agent.code_filename) == ("def run():\n    return 42\n", "agent.py")


def test_an_uploaded_binary_file_is_refused_under_the_field(dash_db):
    at = go(log_in(PEOPLE["developer"]), "agent_form")
    _form_input(at, "Name").input("Binary")
    _form_input(at, "Description").input("Not text")
    _form_input(at, "Model").input("gpt-4o")
    at.file_uploader[0].set_value(("agent.py", b"\xff\xfe\x00binary", "text/x-python"))
    button(at, "Create agent").click().run()
    assert "code must be UTF-8 text" in messages(at.error)
    with session_scope(dash_db) as session:
        assert registry.list_agents(session) == []


def test_a_comment_deleted_in_jira_is_struck_out_and_a_deleted_issue_is_named(dash_db, add_agent):
    agent_id = add_agent(submit=True)
    with session_scope(dash_db, write=True) as session:
        session.add(
            Comment(
                agent_id=agent_id,
                author="ada@example.com",
                body="Needs a rate limit",
                source=Source.JIRA,
                jira_comment_id="900",
                deleted_at=utcnow(),
            )
        )
        session.get(Agent, agent_id).jira_issue_deleted_key = "AGENT-12"
    at = log_in(PEOPLE["developer2"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    assert any(m.value == "~~Needs a rate limit~~" for m in at.markdown)
    assert "Deleted in Jira" in messages(at.caption)
    assert "Jira issue AGENT-12 was deleted in Jira" in messages(at.warning)


def test_name_contains_finds_accented_capitals(dash_db, add_agent):
    add_agent(name="Übersetzer")
    add_agent(name="Ticket summariser")
    at = go(log_in(PEOPLE["analyst"]), "agents")
    for search in ("über", "ÜBER"):
        at.text_input(key="agents_text").input(search).run()
        (table,) = at.dataframe
        assert list(table.value["name"]) == ["Übersetzer"], search
