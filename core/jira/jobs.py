"""Background work for the webhook server's worker and `jira sync`."""

from __future__ import annotations

from core.jira.inbox import process_left_received, retry_due_events
from core.jira.outbox import deliver


def retry_webhook_events() -> int:
    """Process deliveries left `received` by a stopped process, then the retries now due."""
    return process_left_received() + retry_due_events()


def deliver_jira_outbox() -> int:
    """Deliver issue creations, attachments, comments and transitions owed to Jira."""
    report = deliver()
    return len(report.done)
