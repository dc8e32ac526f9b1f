"""Calls owed to Jira (and deploy notices), delivered in the background, in order per agent.

Rows are queued inside the registry's transaction (by the event subscribers), so the
user's action commits at once and never waits on Jira. After commit the process's
background thread delivers them; the webhook server's periodic job and
`python -m core jira sync` pick up whatever is left.

- Order: an agent's rows go out oldest first; a row that is waiting (throttled, Jira down,
  issue not created yet) holds back that agent's later rows only. Deploy notices have their
  own lane.
- Throttling: a 429 is rescheduled for the time Jira named (`Retry-After` in seconds or as an
  HTTP-date, `X-RateLimit-Reset`), never slept on and never retried earlier; other failures
  back off exponentially with jitter.
- Lost answers: before a call is retried the outbox checks what the earlier attempt did —
  our marker property on comments, the issue's status for transitions, the attachment list,
  and for an issue creation a search by the submission label with back-off over
  JIRA_RECONCILE_SECONDS (Jira's search lags behind writes) before it would create again.
"""

# The implementation lives in outbox_queue (queueing, after-commit hooks), outbox_delivery
# (the delivery loop), outbox_calls (the calls a row makes) and outbox_ops (CLI/Admin read
# side); this module is the public face callers import from.
from core.jira.outbox_calls import Send
from core.jira.outbox_delivery import LEASE, MAX_DELAY, SCAN_LIMIT, SyncReport, deliver, retry_delay
from core.jira.outbox_ops import list_rows, outbox_counts, retry_rows, row_state, row_view
from core.jira.outbox_queue import (
    AFTER_COMMIT_DELAY_SECONDS,
    add_row,
    deliver_after_commit,
    enqueue,
    queued_keys,
)

__all__ = [
    "AFTER_COMMIT_DELAY_SECONDS",
    "LEASE",
    "MAX_DELAY",
    "SCAN_LIMIT",
    "Send",
    "SyncReport",
    "add_row",
    "deliver",
    "deliver_after_commit",
    "enqueue",
    "list_rows",
    "outbox_counts",
    "queued_keys",
    "retry_delay",
    "retry_rows",
    "row_state",
    "row_view",
]
