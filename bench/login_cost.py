"""What a failed log-in costs for a real account and for an unknown email, before and after.

    .venv/bin/python bench/login_cost.py [--rounds 15]

A fresh SQLite file with one account. "before" is the previous `authenticate` (Argon2 only when
the account exists), measured in the same run as today's `core.auth.authenticate` (one Argon2
check either way, plus the throttle's row). The throttle is cleared before each attempt
(untimed) so every attempt checks the password. A gap between the known and unknown columns is
what an attacker measures to find accounts. Results: a table and bench/results/login_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete  # noqa: E402

from core import auth  # noqa: E402
from core.config import reset_settings  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.errors import AuthenticationError  # noqa: E402
from core.migrate import upgrade_to_head  # noqa: E402
from core.models import LoginThrottle  # noqa: E402

KNOWN = "known@example.com"
UNKNOWN = "nobody@example.com"


def before(session, *, email: str, password: str):  # noqa: ANN001, ANN201
    """The `authenticate` this change replaced."""
    user = auth.find_user(session, email=email)
    if user is None or not user.is_active or not auth.verify_password(user.password_hash, password):
        raise AuthenticationError("wrong email or password")
    return user


def failed_attempt_ms(check, email: str) -> float:  # noqa: ANN001
    with session_scope(write=True) as session:
        session.execute(delete(LoginThrottle))
    started = time.perf_counter()
    try:
        with session_scope(write=True) as session:
            check(session, email=email, password="wrong-password")
    except AuthenticationError:
        pass
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    folder = tempfile.mkdtemp(prefix="login-bench-")
    url = f"sqlite:///{folder}/login.db"
    os.environ["DATABASE_URL"] = url
    reset_settings()
    upgrade_to_head(url)
    with session_scope(write=True) as session:
        auth.create_user(
            session, email=KNOWN, name="Known", role="analyst", password="tangerine-otter-42"
        )
    auth._dummy_hash()
    samples = {name: {"known": [], "unknown": []} for name in ("before", "after")}
    for _ in range(rounds):  # interleaved, so machine load hits both alike
        for name, check in (("before", before), ("after", auth.authenticate)):
            for who, email in (("known", KNOWN), ("unknown", UNKNOWN)):
                samples[name][who].append(failed_attempt_ms(check, email))
    rows = {
        name: {who: round(statistics.median(v), 2) for who, v in by_who.items()}
        for name, by_who in samples.items()
    }
    print(f"failed log-in, median of {rounds} (ms)   known account   unknown email   ratio")
    for name, row in rows.items():
        ratio = row["known"] / row["unknown"]
        print(f"{name:38} {row['known']:>14.2f} {row['unknown']:>15.2f} {ratio:>7.2f}")
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    out = ROOT / "bench" / "results" / "login_cost.json"
    out.write_text(
        json.dumps({"rounds": rounds, "median_ms": rows, "load_average": load}, indent=2) + "\n"
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
