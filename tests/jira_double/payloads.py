"""Webhook bodies shaped like Jira Cloud's (v2: descriptions and comment bodies are strings)."""

from __future__ import annotations

import hashlib
import time
from typing import Any


def account_id_for(email: str) -> str:
    """A stable Cloud-style accountId per person (24 hex digits), as Jira gives each user."""
    return hashlib.sha256(email.encode()).hexdigest()[:24]


def jira_user(
    name: str = "Ada Approver",
    email: str | None = "ada@example.com",
    *,
    account_id: str | None = None,
) -> dict[str, Any]:
    """A Cloud user; `email=None` is one whose privacy settings hide the address."""
    user = {
        "accountId": account_id or account_id_for(email or name),
        "displayName": name,
        "emailAddress": email,
        "active": True,
        "timeZone": "UTC",
        "accountType": "atlassian",
    }
    if email is None:
        del user["emailAddress"]
    return user


def _issue(key: str, status: str, summary: str = "Approve agent") -> dict[str, Any]:
    number = key.rsplit("-", 1)[-1]
    return {
        "id": f"1{number.zfill(4)}",
        "key": key,
        "self": f"https://example.atlassian.net/rest/api/2/issue/1{number.zfill(4)}",
        "fields": {
            "summary": summary,
            "status": {"name": status, "statusCategory": {"key": "indeterminate"}},
            "issuetype": {"name": "Task"},
            "labels": ["agent-registry"],
            "description": "Plain text in webhook bodies (v2 shape).",
        },
    }


def now_ms() -> int:
    return int(time.time() * 1000)


def status_changed(
    key: str,
    *,
    from_status: str,
    to_status: str,
    user: dict[str, Any] | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    return {
        "timestamp": timestamp if timestamp is not None else now_ms(),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": user or jira_user(),
        "issue": _issue(key, to_status),
        "changelog": {
            "id": "10100",
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": "10000",
                    "fromString": from_status,
                    "to": "10001",
                    "toString": to_status,
                }
            ],
        },
    }


def comment_event(
    key: str,
    *,
    comment_id: str,
    body: str,
    author: dict[str, Any] | None = None,
    event: str = "comment_created",
    timestamp: int | None = None,
    status: str = "To Do",
) -> dict[str, Any]:
    """`comment_created`/`comment_updated`: a comment and an issue, no top-level user."""
    who = author or jira_user()
    return {
        "timestamp": timestamp if timestamp is not None else now_ms(),
        "webhookEvent": event,
        "comment": {
            "id": comment_id,
            "self": f"https://example.atlassian.net/rest/api/2/issue/{key}/comment/{comment_id}",
            "body": body,
            "author": who,
            "updateAuthor": who,
            "created": "2026-11-26T01:00:00.000+0000",
            "updated": "2026-11-26T01:00:00.000+0000",
            "jsdPublic": True,
        },
        "issue": _issue(key, status),
    }


def issue_commented(
    key: str, *, comment_id: str, body: str, status: str = "To Do"
) -> dict[str, Any]:
    """The `jira:issue_updated` that also fires for a comment: no status changelog item."""
    event = comment_event(key, comment_id=comment_id, body=body, status=status)
    return {
        "timestamp": event["timestamp"],
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_commented",
        "user": event["comment"]["author"],
        "issue": event["issue"],
        "comment": event["comment"],
    }


def issue_created(key: str) -> dict[str, Any]:
    return {
        "timestamp": now_ms(),
        "webhookEvent": "jira:issue_created",
        "issue_event_type_name": "issue_created",
        "user": jira_user(),
        "issue": _issue(key, "To Do"),
    }
