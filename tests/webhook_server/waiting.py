"""Webhook processing happens after the answer: tests wait for it, with a deadline."""

from __future__ import annotations

import time

from core import background
from core.db import session_scope
from core.jira.inbox import list_events
from core.models import WebhookStatus


def wait_until_processed(timeout: float = 30.0) -> None:
    """Until no stored delivery is `received` (this process's queue, then any server's)."""
    deadline = time.monotonic() + timeout
    if not background.wait_idle(timeout):
        raise TimeoutError("background processing did not finish")
    while True:
        with session_scope() as session:
            if not list_events(session, status=WebhookStatus.RECEIVED, limit=1):
                return
        if time.monotonic() > deadline:
            raise TimeoutError("deliveries are still `received`")
        time.sleep(0.05)  # another process (gunicorn worker) is processing
