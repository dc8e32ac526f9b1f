"""The CLI answers every bad input with one line and exit 1 (refused) or 2 (bad usage).

Issue 11 found 14 of 64 garbage invocations ending in a traceback; each of those is pinned here,
and a hypothesis property walks every command with garbage arguments.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import auth, registry
from core.cli import build_parser, main
from core.config import reset_settings
from core.db import session_scope
from core.migrate import upgrade_to_head
from core.models import Source
from tests.core.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]
HUGE = "99999999999999999999"


def assert_one_line(err: str) -> None:
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err


@pytest.fixture
def no_terminal(monkeypatch):  # noqa: ANN001, ANN201
    """stdin is a pipe with nothing in it (a script, a cron job)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.mark.parametrize(
    "args",
    [
        ["agents", "status", HUGE],
        ["agents", "approve", HUGE, "--actor", "a@example.com"],
        ["agents", "status", "-1"],
        ["agents", "status", "٣"],  # a digit, but not an ASCII one
        ["tokens", "revoke", HUGE],
        ["search", "--similar", HUGE],
        ["webhooks", "list", "--limit", HUGE],
        ["webhooks", "list", "--limit", "0"],
        ["analytics", "aggregate", "--date", "9999-12-31"],
        ["analytics", "metrics", "--date", "0001-01-01"],
        ["analytics", "summary", "--from", "0001-01-01", "--to", "0001-01-02"],
        ["analytics", "metrics", "--date", "2024-01-01", "--agent", "9" * 5000],
        ["seed-demo", "--events", HUGE],
    ],
    ids=lambda args: " ".join(a[:12] for a in args),
)
def test_values_out_of_range_are_bad_usage(sqlite_url, capsys, args):  # noqa: ANN001
    code, out, err = cli(capsys, *args)
    assert (code, out) == (2, "")
    assert_one_line(err)
    assert "error: argument" in err and "(see --help)" in err


@pytest.mark.parametrize(
    "args",
    [
        ["search", "--limit", HUGE, "tickets"],
        ["search", "--limit", "0", "tickets"],
        ["search", "--min-similarity", "nan", "tickets"],
        ["search", "--min-similarity", "inf", "tickets"],
    ],
)
def test_search_bounds_are_refused_by_the_service(sqlite_url, capsys, args):  # noqa: ANN001
    code, _, err = cli(capsys, *args)
    assert code == 1
    assert_one_line(err)
    assert "must be" in err


def test_replaying_a_delivery_id_beyond_any_row_is_not_found(sqlite_url, capsys):  # noqa: ANN001
    for ref in (HUGE, "²"):
        code, _, err = cli(capsys, "webhooks", "replay", ref)
        assert code == 1
        assert_one_line(err)
        assert "no webhook delivery" in err


def test_users_add_without_password_or_terminal_is_a_hint(sqlite_url, capsys, no_terminal):  # noqa: ANN001
    code, _, err = cli(
        capsys, "users", "add", "--email", "x@example.com", "--name", "X", "--role", "analyst"
    )
    assert code == 1
    assert_one_line(err)
    assert err == (
        "error: no terminal to ask for a password: give --password P, "
        "or --no-password for a single-sign-on account\n"
    )


def test_set_password_without_password_or_terminal_is_a_hint(sqlite_url, capsys, no_terminal):  # noqa: ANN001
    code, _, err = cli(capsys, "users", "set-password", "--email", "x@example.com")
    assert code == 1
    assert err == "error: no terminal to ask for a password: give --password P\n"


def _events_file(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("binary.jsonl", b"\x00\xff\xfe\x01\x02 binary", "line 1 is not UTF-8 text"),
        ("binary.csv", b"agent_id,event_type\n\xff\xfe,viewed\n", "line 2 is not UTF-8 text"),
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "JSON nested too deeply"),
        ("huge.jsonl", b'{"agent_id": ' + b"9" * 5000 + b', "event_type": "viewed"}\n', "line 1"),
        (
            "hugestr.jsonl",
            b'{"agent_id": 1, "event_type": "executed", "tokens_used": "' + b"9" * 5000 + b'"}\n',
            "line 1",
        ),
        (
            "year1.jsonl",
            b'{"agent_id": 1, "event_type": "viewed", "created_at": "0001-01-01T00:00:00+01:00"}\n',
            "line 1",
        ),
        (
            "year9999.csv",
            b"agent_id,event_type,created_at\n1,viewed,9999-12-31T23:59:59-01:00\n",
            "line 2",
        ),
        ("bigfield.csv", b'agent_id,event_type\n1,"' + b"x" * 200_000 + b'"\n', "not readable CSV"),
    ],
)
def test_unreadable_import_files_are_refused_in_one_line(  # noqa: ANN001
    sqlite_url, capsys, tmp_path, name, content, expected, make_agent, make_user
):
    make_agent(make_user("dev@example.com").email)
    code, out, err = cli(capsys, "analytics", "import", _events_file(tmp_path, name, content))
    assert (code, out) == (1, "")
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in err, err


def test_import_of_a_directory_device_or_missing_file_is_one_line(sqlite_url, capsys, tmp_path):  # noqa: ANN001
    for path in (tmp_path, Path("/dev/zero"), tmp_path / "missing.jsonl"):
        code, _, err = cli(capsys, "analytics", "import", str(path))
        assert code == 1
        assert_one_line(err)
        assert err.startswith("error: cannot read")


def test_a_code_file_that_never_ends_is_refused(sqlite_url, capsys, make_user):  # noqa: ANN001
    owner = make_user("dev@example.com").email
    for device in ("/dev/zero", "/dev/urandom"):
        code, _, err = cli(
            capsys, "agents", "create", "--owner", owner, "--name", "n", "--description", "d",
            "--model", "m", "--code-file", device,
        )  # fmt: skip
        assert code == 1
        assert err == f"error: cannot read code file {device}: not a regular file\n"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nonsense", "DATABASE_URL is not a usable database URL"),
        ("foo://user:hunter2secret@host/db", "DATABASE_URL is not a usable database URL"),
        ("mysql+mysqldb://user:hunter2secret@host/db", "DATABASE_URL is not a usable database URL"),
        ("postgresql://user:hunter2secret@[bad/db", "DATABASE_URL"),
        ("mysql+pymysql://user:hunter2secret@127.0.0.1:1/db", "database is unreachable"),
    ],
)
def test_a_malformed_database_url_is_one_line_without_the_secret(
    monkeypatch, capsys, url, expected
):  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    code, out, err = cli(capsys, "agents", "list")
    assert (code, out) == (1, "")
    assert_one_line(err)
    assert expected in err
    assert "hunter2secret" not in err


def test_an_unexpected_error_is_one_line_naming_its_kind(sqlite_url, capsys, monkeypatch):  # noqa: ANN001
    from core.cli import agents

    def boom(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("disk on fire at postgresql://u:hunter2secret@h/d\nsecond line")

    monkeypatch.setattr(agents.registry, "list_agents", boom)
    code, _, err = cli(capsys, "agents", "list")
    assert code == 1
    assert_one_line(err)
    assert err == "error: unexpected RuntimeError: disk on fire at postgresql://u:***@h/d\n"


def test_the_real_entry_point_never_prints_a_traceback(sqlite_url, tmp_path):  # noqa: ANN001
    """`python -m core` in a subprocess: stdin not a terminal, then a malformed URL."""
    env = os.environ.copy()

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "core", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=env | extra,
            timeout=120,
        )

    added = run("users", "add", "--email", "a@example.com", "--name", "A", "--role", "analyst")
    assert added.returncode == 1 and "Traceback" not in added.stderr
    assert added.stderr.startswith("error: no terminal to ask for a password")
    bad_url = run("agents", "status", "1", DATABASE_URL="postgresql://u:hunter2secret@[x")
    assert bad_url.returncode == 1 and "Traceback" not in bad_url.stderr
    assert bad_url.stderr.count("\n") == 1 and "hunter2secret" not in bad_url.stderr
    bad_id = run("agents", "status", HUGE, "--json")
    assert bad_id.returncode == 2 and bad_id.stderr.count("\n") == 1


# --- property: any garbage for any command -------------------------------------------------


def _leaf_parsers() -> dict[tuple[str, ...], object]:
    """Every runnable command path (e.g. ("agents", "status")) with its parser."""
    leaves: dict[tuple[str, ...], object] = {}

    def walk(parser, path: tuple[str, ...]) -> None:  # noqa: ANN001
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            leaves[path] = parser
            return
        for name, child in subs[0].choices.items():
            walk(child, (*path, name))

    walk(build_parser(), ())
    return leaves


LEAVES = {path: parser for path, parser in _leaf_parsers().items() if path[0] != "seed-demo"}
EDGES = [HUGE, "-" + HUGE, "0", "-1", "1", "nan", "1e309", "9999-12-31", "0001-01-01", "٣", ""]
GARBAGE = [
    "2",
    "inf",
    "0.5",
    "2024-02-30",
    "2024-06-01",
    " ",
    "-",
    "--",
    "²",
    "dev@example.com",
    "a" * 300,
    "=1+1",
    "%s%n",
    "{}",
    "[[[",
    "'; DROP TABLE users; --",
    "/",
    "/nonexistent/file",
    "/dev/zero",
]
VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.sampled_from(GARBAGE),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
)


def invocation(data, path: tuple[str, ...]) -> list[str]:  # noqa: ANN001
    """`path`, a garbage value for each positional and for some options, and sometimes noise."""
    argv = list(path)
    for action in LEAVES[path]._actions:
        if action.option_strings:
            if "--help" in action.option_strings or not data.draw(st.booleans()):
                continue
            argv.append(action.option_strings[-1])
            if action.nargs != 0:
                argv.append(data.draw(VALUES))
        elif data.draw(st.integers(0, 9)):  # usually give the positional
            argv.append(data.draw(VALUES))
    if data.draw(st.integers(0, 4)) == 0:
        argv.insert(data.draw(st.integers(len(path), len(argv))), data.draw(VALUES))
    return argv


@pytest.fixture(scope="module")
def _garbage_url(tmp_path_factory) -> str:  # noqa: ANN001
    """One database for every garbage invocation, holding agent 1 and a developer."""
    url = f"sqlite:///{tmp_path_factory.mktemp('garbage') / 'registry.db'}"
    upgrade_to_head(url)
    with session_scope(url, write=True) as session:
        auth.create_user(session, email="dev@example.com", name="Dev", role="developer")
        registry.create_agent(
            session,
            owner_email="dev@example.com",
            name="Ticket summariser",
            description="Summarises tickets",
            model="gpt-4o",
            source=Source.CLI,
        )
    return url


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_garbage_invocations_never_end_in_a_traceback(
    _garbage_url, capsys, monkeypatch, path, data
):  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", _garbage_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    reset_settings()
    argv = invocation(data, path)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse: --help (0) or bad usage (2)
        code = exit_.code
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err
    if code:
        assert "error" in err.strip().splitlines()[-1], (argv, err)
        assert "error: unexpected" not in err, (argv, err)  # every failure has a designed answer
    plain = not {"--help", "-h", "--"} & set(argv)
    if code == 0 and "--json" in argv and plain and out:
        json.loads(out)
