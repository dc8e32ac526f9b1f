"""Cross-process writer turns for SQLite."""

from __future__ import annotations

import fcntl

import pytest

from core.sqlite_turns import sqlite_write_turn


def test_turn_excludes_other_holders_and_is_reentrant(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with sqlite_write_turn(url):
        with sqlite_write_turn(url):  # nested in the same thread: no self-deadlock
            pass
        # Another open file description behaves like another process.
        with open(tmp_path / "x.db.writers", "a") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(tmp_path / "x.db.writers", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again after the turn


def test_other_databases_need_no_turn(tmp_path):
    with sqlite_write_turn("postgresql+psycopg://u@127.0.0.1/db"):
        pass
    with sqlite_write_turn("sqlite:///:memory:"):
        pass
    assert list(tmp_path.iterdir()) == []
