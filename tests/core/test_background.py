"""core.background: tasks run in order, after requests, and can be waited for."""

from __future__ import annotations

from core import background


def test_tasks_run_in_order_once_no_request_is_in_flight():
    seen: list[tuple[int, int]] = []

    def task(n: int) -> None:
        seen.append((n, background._in_flight))

    with background.serving_request():
        background.run_soon(task, n=1)
        background.run_soon(task, n=2)
        assert not background.wait_idle(0.2)  # held back while the request is served
        assert seen == []
    assert background.wait_idle(10)
    assert seen == [(1, 0), (2, 0)]


def test_a_failing_task_does_not_stop_the_next(caplog):
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    background.run_soon(broken)
    background.run_soon(lambda: done.append("next"))
    assert background.wait_idle(10)
    assert done == ["next"]
    assert "background broken failed" in caplog.text
