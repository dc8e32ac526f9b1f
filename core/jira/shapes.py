"""Read a Jira webhook body of any shape into the few facts the registry acts on.

Jira Cloud and Jira Server/Data Center send different shapes for the same thing: Server's
`comment_*` events carry no `issue` (only `comment.self`, which names the issue id), a
comment also fires `jira:issue_updated` with an `issue_event_type_name`, and a status may
be visible only in `issue.fields.status`. A signed body can also be valid JSON of any
shape at all. `parse_event` never raises: what it cannot use becomes `problem` (the
delivery is then stored as `ignored` with that reason).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from core.jira.adf import to_plain_text
from core.jira.wiki import wiki_to_markdown

CommentAction = Literal["created", "updated", "deleted"]

COMMENT_EVENTS: dict[str, CommentAction] = {
    "comment_created": "created",
    "comment_updated": "updated",
    "comment_deleted": "deleted",
}
# `jira:issue_updated` fired for a comment says which in issue_event_type_name.
COMMENT_ISSUE_EVENTS: dict[str, CommentAction] = {
    "issue_commented": "created",
    "issue_comment_edited": "updated",
    "issue_comment_deleted": "deleted",
}
ISSUE_DELETED = "jira:issue_deleted"
ISSUE_UPDATED = "jira:issue_updated"
# Events whose `issue.fields.status` is the issue's status at that moment (compared with the
# last status we know, so a change without a changelog item is not lost).
STATUS_SNAPSHOT_EVENTS = {ISSUE_UPDATED, *COMMENT_EVENTS}
ACTED_ON = {ISSUE_UPDATED, ISSUE_DELETED, *COMMENT_EVENTS}

# Column sizes (a longer value would make MariaDB refuse the row).
KEY_LENGTH = 32
ID_LENGTH = 32
COMMENT_ID_LENGTH = 64
STATUS_LENGTH = 120
PERSON_LENGTH = 255
# Jira's own limit for a comment body is 32,767 characters; the column holds far more.
BODY_LENGTH = 100_000
# Milliseconds since 1970 up to the year 2200: anything else is not a real event time.
_TIMESTAMP_RANGE = (0, 7_258_118_400_000)
_ISSUE_IN_SELF = re.compile(r"/issue/(?P<ref>[^/?#]+)/comment(?:/|$)")


@dataclass(frozen=True)
class JiraComment:
    id: str
    action: CommentAction
    body: str  # readable Markdown, converted from wiki markup (or ADF)
    author: Any  # the Jira user object as sent


@dataclass(frozen=True)
class JiraEvent:
    event_type: str | None
    issue_key: str | None
    issue_id: str | None
    timestamp_ms: int | None
    status_item: dict[str, str] | None  # a changelog `status` item (sanitised)
    fields_status: str | None  # issue.fields.status.name
    comment: JiraComment | None
    # A comment deletion that names no comment (Jira's `issue_comment_deleted` without a
    # `comment`): the ids of the issue's comments left after it, when the list is complete.
    remaining_comment_ids: frozenset[str] | None = None
    problem: str | None = None  # set: nothing here can be acted on, for this reason

    @property
    def issue_deleted(self) -> bool:
        return self.event_type == ISSUE_DELETED


def text(value: Any, limit: int) -> str | None:
    """A scalar as a storable string (no NUL, at most `limit` characters); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float):
        cleaned = str(value).replace("\x00", "").strip()
        return cleaned[:limit] or None
    return None


def timestamp_ms(value: Any) -> int | None:
    """Jira's `timestamp` (ms since 1970), or None when absent, not a number or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    low, high = _TIMESTAMP_RANGE
    return int(value) if low <= value <= high else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_event(payload: Any) -> JiraEvent:
    """The facts of one delivery; never raises, whatever JSON it is given."""
    body = _dict(payload)
    event_type = text(body.get("webhookEvent"), 64)
    issue = _dict(body.get("issue"))
    comment_value = body.get("comment")
    comment, comment_problem = _comment(event_type, body, comment_value)
    issue_key = text(issue.get("key"), KEY_LENGTH)
    issue_id = text(issue.get("id"), ID_LENGTH)
    if comment is not None and issue_key is None and issue_id is None:
        # Jira Server/DC: `comment_*` without `issue`; comment.self names the issue.
        ref = _issue_ref(_dict(comment_value).get("self"))
        if ref is not None and ref.isascii() and ref.isdigit():
            issue_id = ref[:ID_LENGTH]
        elif ref is not None:
            issue_key = ref[:KEY_LENGTH]
    event = JiraEvent(
        event_type=event_type,
        issue_key=issue_key,
        issue_id=issue_id,
        timestamp_ms=timestamp_ms(body.get("timestamp")),
        status_item=_status_item(body.get("changelog")) if event_type == ISSUE_UPDATED else None,
        fields_status=text(
            _dict(_dict(issue.get("fields")).get("status")).get("name"), STATUS_LENGTH
        ),
        comment=comment,
        remaining_comment_ids=_remaining_comment_ids(event_type, body, issue),
    )
    return _with_problem(event, body, comment_problem)


def _with_problem(event: JiraEvent, body: dict[str, Any], comment_problem: str | None) -> JiraEvent:
    problem = None
    if not body:
        problem = "body is an empty or non-object JSON value"
    elif event.event_type is None:
        problem = "no webhookEvent in the body"
    elif event.event_type not in ACTED_ON:
        problem = f"event {event.event_type!r} is not acted on"
    elif comment_problem and event.status_item is None:
        problem = comment_problem
    elif event.issue_key is None and event.issue_id is None:
        problem = "no issue in the event (no issue key or id, no comment.self naming one)"
    if problem is None:
        return event
    return replace(event, problem=problem)


def _comment(
    event_type: str | None, body: dict[str, Any], value: Any
) -> tuple[JiraComment | None, str | None]:
    action = COMMENT_EVENTS.get(event_type or "")
    if action is None and event_type == ISSUE_UPDATED and value is not None:
        action = COMMENT_ISSUE_EVENTS.get(str(body.get("issue_event_type_name")), "created")
    if action is None:
        return None, None
    if not isinstance(value, dict):
        return None, f"comment is {type(value).__name__}, not an object"
    comment_id = text(value.get("id"), COMMENT_ID_LENGTH)
    if comment_id is None:
        return None, "comment without an id"
    raw = value.get("body")
    readable = wiki_to_markdown(raw) if isinstance(raw, str) else to_plain_text(raw)
    return JiraComment(
        id=comment_id,
        action=action,
        body=readable.replace("\x00", "").strip()[:BODY_LENGTH],
        author=value.get("author"),
    ), None


def _remaining_comment_ids(
    event_type: str | None, body: dict[str, Any], issue: dict[str, Any]
) -> frozenset[str] | None:
    if event_type != ISSUE_UPDATED or body.get("comment") is not None:
        return None
    if body.get("issue_event_type_name") != "issue_comment_deleted":
        return None
    listing = _dict(_dict(issue.get("fields")).get("comment"))
    comments, total = listing.get("comments"), listing.get("total")
    if not isinstance(comments, list) or isinstance(total, bool) or total != len(comments):
        return None  # not the whole list: what is missing is unknown
    if listing.get("startAt", 0) not in (0, None):
        return None
    ids = {text(_dict(c).get("id"), COMMENT_ID_LENGTH) for c in comments}
    return None if None in ids else frozenset(i for i in ids if i is not None)


def _issue_ref(self_url: Any) -> str | None:
    match = _ISSUE_IN_SELF.search(self_url) if isinstance(self_url, str) else None
    return match.group("ref") if match else None


def _status_item(changelog: Any) -> dict[str, str] | None:
    items = _dict(changelog).get("items")
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("field") == "status":
            to_name = text(item.get("toString"), STATUS_LENGTH)
            if to_name is None:
                return None
            return {
                "field": "status",
                "fromString": text(item.get("fromString"), STATUS_LENGTH) or "",
                "toString": to_name,
                "from": text(item.get("from"), ID_LENGTH) or "",
                "to": text(item.get("to"), ID_LENGTH) or "",
            }
    return None
