"""Subscriber: a deployment announced by the registry owes DEPLOY_WEBHOOK_URL a notice.

The deploy commits at once; the signed notice is queued in the outbox (same transaction)
and delivered in the background, retried with the same message id until a 2xx answer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import deploy_webhook, events
from core.config import get_settings
from core.jira.outbox import enqueue
from core.models import AgentVersion, DomainEvent, OutboxKind


def on_event(session: Session, event: DomainEvent) -> None:
    if event.kind != events.DEPLOYED or not get_settings().deploy_webhook_url:
        return
    snapshot = session.scalar(
        select(AgentVersion).where(
            AgentVersion.agent_id == event.agent_id, AgentVersion.version == event.version
        )
    )
    if snapshot is None:
        return
    body = deploy_webhook.deploy_payload(
        agent_id=event.agent_id, version=snapshot, actor=event.actor
    )
    enqueue(
        session,
        agent_id=event.agent_id,
        version=event.version,
        kind=OutboxKind.DEPLOY_NOTICE,
        dedupe_key=f"deploy:{event.id}",
        payload={"body": body, "message_id": deploy_webhook.new_message_id()},
    )
