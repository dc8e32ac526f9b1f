"""The login form tells a throttled email how long to wait (core.login_throttle)."""

from __future__ import annotations

from core.db import session_scope
from core.login_throttle import FREE_FAILURES, record_failure
from core.models import utcnow
from tests.dashboard.conftest import PASSWORD, PEOPLE, fill_login, messages, new_app


def test_a_throttled_email_is_told_to_wait_even_with_the_right_password(dash_db):  # noqa: ANN001
    with session_scope(dash_db, write=True) as session:
        for _ in range(FREE_FAILURES):
            record_failure(session, email=PEOPLE["developer"], now=utcnow())
    at = fill_login(new_app().run(), PEOPLE["developer"], PASSWORD)
    assert not at.exception
    assert "current_user" not in at.session_state
    assert messages(at.error) == []
    [warning] = messages(at.warning)
    assert warning.startswith("too many failed log-ins for this email: try again in ")
