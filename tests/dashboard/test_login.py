"""Login, logout and the navigation each role gets."""

from __future__ import annotations

import pytest

from dashboard.navigation import page_paths_for
from tests.dashboard.conftest import PEOPLE, button, fill_login, go, log_in, messages, new_app


def test_logged_out_shows_only_the_login_form(dash_db):
    at = new_app().run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Email", "Password"]
    assert "Log in" in [b.label for b in at.button]
    assert "current_user" not in at.session_state
    with pytest.raises(ValueError):
        at.switch_page("app_pages/overview.py")


def test_wrong_password_is_refused_with_one_message(dash_db):
    at = fill_login(new_app().run(), PEOPLE["developer"], "wrong")
    assert messages(at.error) == ["wrong email or password"]
    assert "current_user" not in at.session_state
    # The typed email is kept so the user only retypes the password.
    assert at.text_input[0].value == PEOPLE["developer"]


def test_unknown_email_gets_the_same_message(dash_db):
    at = fill_login(new_app().run(), "nobody@example.com", "whatever")
    assert messages(at.error) == ["wrong email or password"]


def test_login_then_logout(dash_db):
    at = log_in(PEOPLE["developer"])
    assert not at.exception
    assert at.session_state["current_user"].email == PEOPLE["developer"]
    assert at.title[0].value == "Overview"
    button(at, "Log out").click().run()
    assert "current_user" not in at.session_state
    assert [w.label for w in at.text_input] == ["Email", "Password"]


@pytest.mark.parametrize(
    ("role", "reachable", "unreachable"),
    [
        (
            "analyst",
            ["overview", "analytics", "search", "agents"],
            ["agent_form", "approvals", "admin"],
        ),
        ("developer", ["agent_form"], ["approvals", "admin"]),
        ("approver", ["agent_form", "approvals"], ["admin"]),
        ("admin", ["agent_form", "approvals", "admin"], []),
    ],
)
def test_navigation_is_built_from_the_role(dash_db, role, reachable, unreachable):
    at = log_in(PEOPLE[role])
    for page in reachable:
        go(at, page)
        assert not at.exception, (role, page, at.exception)
        assert not at.error, (role, page, messages(at.error))
    for page in unreachable:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}.py")
    assert set(page_paths_for(at.session_state["current_user"].role)) >= {
        f"app_pages/{p}.py" for p in reachable
    }


SSO_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "client_id": "dashboard",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    }
}


def test_single_sign_on_is_offered_only_when_configured(dash_db):
    at = new_app().run()
    assert "Log in with single sign-on" not in [b.label for b in at.button]
    at = new_app()
    at.secrets.update(SSO_SECRETS)
    at.user = {"is_logged_in": False}
    at.run()
    assert "Log in with single sign-on" in [b.label for b in at.button]
    assert [w.label for w in at.text_input] == ["Email", "Password"]  # passwords still work


def test_single_sign_on_matches_the_account_by_email(dash_db):
    at = new_app()
    at.secrets.update(SSO_SECRETS)
    at.user = {"is_logged_in": True, "email": "Approver@Example.com"}
    at.run()
    assert not at.exception
    assert at.session_state["current_user"].email == PEOPLE["approver"]
    assert at.title[0].value == "Overview"
    go(at, "approvals")  # the approver's pages
    assert at.title[0].value == "Approvals"


def test_single_sign_on_refuses_an_unknown_email(dash_db):
    at = new_app()
    at.secrets.update(SSO_SECRETS)
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    at.run()
    assert messages(at.error) == [
        "no active account for stranger@example.com; ask an admin to add you with `users add`"
    ]
    assert "current_user" not in at.session_state
