"""The time zone a person reads analytics in: stored per account, validated, default UTC."""

from __future__ import annotations

from datetime import date

import pytest

from core import auth
from core.db import session_scope
from core.errors import PermissionDeniedError, ValidationError
from core.user_timezone import (
    check_timezone,
    set_user_timezone,
    timezone_names,
    user_timezone,
    utc_midnights_local,
)


def test_a_person_sets_their_time_zone_and_others_keep_utc(db_url, people):
    with session_scope(write=True) as session:
        assert user_timezone(session, email=people["analyst"]) == "UTC"
        assert set_user_timezone(session, email=people["analyst"], timezone=" Europe/Berlin ")
    with session_scope() as session:
        assert user_timezone(session, email=people["analyst"]) == "Europe/Berlin"
        assert user_timezone(session, email=people["developer"]) == "UTC"
        assert user_timezone(session, email="nobody@example.com") == "UTC"
    with session_scope(write=True) as session:
        set_user_timezone(session, email=people["analyst"], timezone="UTC")
    with session_scope() as session:
        assert user_timezone(session, email=people["analyst"]) == "UTC"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "europe/berlin", "../etc/passwd"])
def test_an_unknown_zone_is_refused_in_one_line(name):
    with pytest.raises(ValidationError) as refused:
        check_timezone(name)
    message = str(refused.value)
    assert message.startswith(f"unknown time zone {name!r}; give an IANA name such as UTC")
    assert "\n" not in message


def test_a_deactivated_account_cannot_set_one(db_url, people):
    with session_scope(write=True) as session:
        auth.set_active(session, email=people["analyst"], active=False)
    with session_scope(write=True) as session, pytest.raises(PermissionDeniedError):
        set_user_timezone(session, email=people["analyst"], timezone="Europe/Berlin")


def test_zone_names_start_with_utc():
    names = timezone_names()
    assert names[0] == "UTC"
    assert "Europe/Berlin" in names
    assert names.count("UTC") == 1


def test_where_utc_days_begin_in_local_time_across_daylight_saving():
    assert utc_midnights_local("UTC", date(2026, 3, 1), date(2026, 3, 31)) == ["00:00"]
    assert utc_midnights_local("Asia/Kolkata", date(2026, 1, 1), date(2026, 1, 2)) == ["05:30"]
    # Berlin moves to summer time on 29 March 2026.
    assert utc_midnights_local("Europe/Berlin", date(2026, 3, 28), date(2026, 3, 30)) == [
        "01:00",
        "02:00",
    ]
    assert utc_midnights_local("America/New_York", date(2026, 1, 5), date(2026, 1, 5)) == ["19:00"]
