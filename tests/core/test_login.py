"""Log-in throttling (growing delays, kept in the database), equal cost for unknown accounts,
and the password policy (NIST SP 800-63B) for accounts people make."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from core import auth, login_throttle
from core.db import dispose_engines, session_scope
from core.errors import AuthenticationError, ValidationError
from core.login_throttle import FREE_FAILURES, LoginThrottled, delay_after
from core.models import LoginThrottle, utcnow
from core.password_policy import check_password, common_passwords

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "tangerine-otter-42"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # noqa: ANN204
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):  # noqa: ANN001, ANN201
    """Argon2 at its cheapest: these tests count checks, they do not need slow ones."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    auth._dummy_hash.cache_clear()
    yield
    auth._dummy_hash.cache_clear()


@pytest.fixture
def clock(monkeypatch) -> Clock:  # noqa: ANN001
    clock = Clock()
    monkeypatch.setattr(auth, "utcnow", clock)
    return clock


@pytest.fixture
def ann(db_url) -> str:  # noqa: ANN001
    with session_scope(write=True) as session:
        auth.create_user(
            session, email="ann@example.com", name="Ann", role="analyst", password=PASSWORD
        )
    return "ann@example.com"


def attempt(email: str, password: str) -> str:
    """'ok', 'wrong' or 'throttled', through a fresh write session like the dashboard's."""
    try:
        with session_scope(write=True) as session:
            auth.authenticate(session, email=email, password=password)
    except LoginThrottled:
        return "throttled"
    except AuthenticationError as error:
        assert str(error) == "wrong email or password"
        return "wrong"
    return "ok"


def test_delays_grow_after_the_free_failures_up_to_a_cap():
    delays = [delay_after(n).total_seconds() for n in range(1, 13)]
    assert delays == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]


def test_thirty_wrong_passwords_do_not_let_the_next_right_one_in(ann, clock):  # noqa: ANN001
    answers = [attempt(ann, f"guess-{n}") for n in range(30)]
    assert answers[:FREE_FAILURES] == ["wrong"] * FREE_FAILURES
    assert set(answers[FREE_FAILURES:]) == {"throttled"}  # no password was even checked
    assert attempt(ann, PASSWORD) == "throttled"
    with session_scope() as session:
        row = session.get(LoginThrottle, ann)
        assert row.failures == FREE_FAILURES  # refused attempts do not extend the lock


def test_the_lock_ends_then_grows_and_a_success_clears_it(ann, clock):  # noqa: ANN001
    for _ in range(FREE_FAILURES):
        assert attempt(ann, "nope-nope") == "wrong"
    with pytest.raises(LoginThrottled) as locked, session_scope(write=True) as session:
        auth.authenticate(session, email=ann, password=PASSWORD)
    assert locked.value.retry_after == 30
    assert str(locked.value) == "too many failed log-ins for this email: try again in 30 seconds"
    clock.advance(timedelta(seconds=31))
    assert attempt(ann, "nope-nope") == "wrong"  # the sixth failure: a minute now
    clock.advance(timedelta(seconds=31))
    assert attempt(ann, PASSWORD) == "throttled"
    clock.advance(timedelta(seconds=30))
    assert attempt(ann, PASSWORD) == "ok"
    with session_scope() as session:
        assert session.get(LoginThrottle, ann) is None
    assert attempt(ann, "nope-nope") == "wrong"  # counting starts again


def test_a_day_without_failures_forgets_the_count(ann, clock):  # noqa: ANN001
    for _ in range(FREE_FAILURES - 1):
        attempt(ann, "nope-nope")
    clock.advance(login_throttle.FORGET_AFTER + timedelta(seconds=1))
    assert attempt(ann, "nope-nope") == "wrong"
    with session_scope() as session:
        assert session.get(LoginThrottle, ann).failures == 1


def test_unknown_emails_are_throttled_exactly_like_accounts(ann, clock):  # noqa: ANN001
    known = [attempt(ann, "nope-nope") for _ in range(FREE_FAILURES + 1)]
    unknown = [attempt("ghost@example.com", "nope-nope") for _ in range(FREE_FAILURES + 1)]
    assert known == unknown == ["wrong"] * FREE_FAILURES + ["throttled"]


@pytest.mark.parametrize("who", ["known", "unknown", "sso-only", "deactivated"])
def test_every_failed_login_costs_one_argon2_check(db_url, monkeypatch, who):  # noqa: ANN001
    with session_scope(write=True) as session:
        auth.create_user(
            session, email="known@example.com", name="K", role="analyst", password=PASSWORD
        )
        auth.create_user(session, email="sso-only@example.com", name="S", role="analyst")
        auth.create_user(
            session, email="deactivated@example.com", name="D", role="analyst", password=PASSWORD
        )
        auth.set_active(session, email="deactivated@example.com", active=False)
    auth._dummy_hash()  # made once per process, before the first log-in is timed
    checks: list[str | None] = []
    real_verify = auth.verify_password

    def counting_verify(password_hash: str | None, password: str) -> bool:
        checks.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting_verify)
    password = PASSWORD if who == "deactivated" else "wrong-password"
    assert attempt(f"{who}@example.com", password) == "wrong"
    assert len(checks) == 1 and checks[0].startswith("$argon2id$")  # a real Argon2 check


def test_the_count_is_shared_by_processes(sqlite_url):  # noqa: ANN001
    ann = "ann@example.com"
    with session_scope(write=True) as session:
        auth.create_user(session, email=ann, name="Ann", role="analyst", password=PASSWORD)
    for _ in range(FREE_FAILURES):
        attempt(ann, "nope-nope")
    dispose_engines()
    script = (
        "from core import auth; from core.db import session_scope\n"
        "from core.login_throttle import LoginThrottled\n"
        "try:\n"
        "    with session_scope(write=True) as s:\n"
        f"        auth.authenticate(s, email='{ann}', password='{PASSWORD}')\n"
        "except LoginThrottled as e:\n"
        "    print('throttled', e.retry_after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert done.stdout.startswith("throttled"), done.stderr


# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8 characters"),
        ("", "at least 8 characters"),
        ("x" * 257, "at most 256 characters"),
        ("password1", "commonly used"),
        ("Password1", "commonly used"),  # the comparison ignores case
        ("iloveyou", "commonly used"),
        ("qwertyuiop", "commonly used"),
        ("zzzzzzzzzzzz", "repeated character or a plain sequence"),
        ("lmnopqrstu", "repeated character or a plain sequence"),
        ("ponmlkji", "repeated character or a plain sequence"),
        ("annabel.lee@example.com", "email or name"),
        ("Annabel.Lee", "email or name"),
        ("annabel lee", "email or name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason):  # noqa: ANN001
    with pytest.raises(ValidationError, match=reason) as refused:
        check_password(password, email="annabel.lee@example.com", name="Annabel Lee")
    assert refused.value.field == "password"


@pytest.mark.parametrize(
    "password", [PASSWORD, "eight ch", "pässwörter über alles", "Tr0ub4dor&3x", "🐙🐙🐙🐙🐙🐙🐙🐚"]
)
def test_long_enough_uncommon_passwords_pass_without_composition_rules(password):  # noqa: ANN001
    check_password(password, email="annabel.lee@example.com", name="Annabel Lee")


def test_the_shipped_list_is_loaded():
    words = common_passwords()
    assert len(words) > 8000 and "password" in words
    assert all(len(w) >= 8 for w in words)


def test_set_password_applies_the_policy(ann):  # noqa: ANN001
    with pytest.raises(ValidationError, match="commonly used"), session_scope(write=True) as s:
        auth.set_password(s, email=ann, password="12345678")
    with session_scope(write=True) as session:
        auth.set_password(session, email=ann, password="a new long passphrase")
    assert attempt(ann, "a new long passphrase") == "ok"


def test_the_cli_refuses_a_common_password_in_one_line(db_url, capsys):  # noqa: ANN001
    from tests.core.test_cli import cli

    code, _, err = cli(
        capsys, "users", "add", "--email", "b@example.com", "--name", "B", "--role", "analyst",
        "--password", "iloveyou",
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error: password is on the list of commonly used passwords")
    assert err.count("\n") == 1
