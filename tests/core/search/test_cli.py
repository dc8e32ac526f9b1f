"""`python -m core search …` in-process: output shapes and exit codes."""

from __future__ import annotations

import json

import pytest

from core.cli import main


@pytest.fixture
def two_agents(sqlite_url, monkeypatch):  # noqa: ANN001, ANN201
    from core import auth, registry
    from core.db import session_scope
    from core.models import Role, Source

    with session_scope(write=True) as session:
        auth.create_user(session, email="dev@example.com", name="Dev", role=Role.DEVELOPER)
        ids = [
            registry.create_agent(
                session,
                owner_email="dev@example.com",
                name=name,
                description=description,
                model="gpt-4o",
                source=Source.CLI,
            ).id
            for name, description in [
                ("Weather Oracle", "Forecasts rain and sunshine for any city"),
                ("Invoice Clerk", "Books supplier invoices into the ledger"),
            ]
        ]
    return ids


def test_search_json(two_agents, capsys) -> None:  # noqa: ANN001
    assert main(["search", "rain", "forecast", "--json", "--limit", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    assert rows[0]["id"] == two_agents[0] and rows[0]["name"] == "Weather Oracle"
    assert rows[0]["status"] == "draft" and 0 < rows[0]["similarity"] <= 1


def test_search_status_and_threshold(two_agents, capsys) -> None:  # noqa: ANN001
    assert main(["search", "ledger", "--status", "pending", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["search", "ledger", "--min-similarity", "0.99", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_similar_and_table_output(two_agents, capsys) -> None:  # noqa: ANN001
    assert main(["search", "--similar", str(two_agents[0]), "--json"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [two_agents[1]]
    assert main(["search", "invoices"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["ID", "NAME", "SIMILARITY", "RELEVANCE", "STATUS"]
    assert "Invoice Clerk" in out.splitlines()[1]


def test_reindex(two_agents, capsys) -> None:  # noqa: ANN001
    assert main(["search", "reindex", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"indexed": 2}
    assert "2/2" in captured.err  # the progress bar
    assert main(["search", "rain", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == two_agents[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "x", "--limit", "0"], "limit"),
        (["search", "x", "--min-similarity", "2"], "between 0 and 1"),
        (["search", "--similar", "999"], "agent 999 does not exist"),
        (["search", " "], None),
    ],
)
def test_refusals_exit_1_or_2(two_agents, capsys, argv, message) -> None:  # noqa: ANN001
    if message is None:  # a blank query is bad usage
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        return
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_query_and_similar_together_is_usage_error(two_agents) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "rain", "--similar", str(two_agents[0])])
    assert exit_info.value.code == 2
