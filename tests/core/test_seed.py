"""Demo data: accounts that can log in, agents in every status with history, usage events."""

from __future__ import annotations

from sqlalchemy import func, select

from core import auth, registry
from core.audit.production import production_at
from core.audit.verify import verify_database
from core.db import session_scope
from core.models import UsageLog, utcnow
from core.seed import seed_demo


def test_seed_demo_is_realistic_and_runs_once(sqlite_url):
    report = seed_demo(events=3000)
    assert "seeded 40 demo agents" in report
    with session_scope() as session:
        counts = registry.count_by_status(session)
        assert all(counts[s] > 0 for s in counts), counts
        assert sum(counts.values()) == 40
        for email in (
            "analyst@example.com",
            "developer@example.com",
            "approver@example.com",
            "admin@example.com",
        ):
            assert auth.authenticate(session, email=email, password="demo").email == email
        events = session.scalar(select(func.count()).select_from(UsageLog))
        assert 2500 <= events <= 3000
        production = registry.list_agents(session, statuses=["production"])[0]
        moves = [h["to"] for h in registry.agent_status(session, agent_id=production.id)["history"]]
        assert moves == ["draft", "pending", "approved", "production"]
        # The version's times follow its backdated history (point-in-time audit answers).
        (deployed,) = production_at(session, at=utcnow())[:1] or [None]
        assert deployed is not None and deployed["approved_at"] <= deployed["deployed_at"]
    assert "no demo agents were added" in seed_demo(events=3000)
    assert verify_database().ok  # the backdated history is chained
