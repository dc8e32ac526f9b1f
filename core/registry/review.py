"""The review screen's content: a submitted version, what it is compared with, and the diff.

The baseline is the last approved version before it (approved, in production or retired), or
else the previous submission; the diff is per field, side by side (difflib).
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFoundError, ValidationError
from core.models import AgentVersion, JiraIssueState, Source, VersionStatus
from core.registry.agents import get_agent
from core.registry.views import agent_summary, iso, jira_issue_url
from core.registry.workflow import reject_agent

APPROVED_ONCE = (VersionStatus.APPROVED, VersionStatus.PRODUCTION, VersionStatus.RETIRED)
# What an approver reviews, in screen order: (field, label).
FIELDS = (
    ("name", "Name"),
    ("description", "Description"),
    ("model", "Model"),
    ("system_prompt", "System prompt"),
    ("tools", "Tools"),
    ("code", "Code"),
    ("notes", "Submission notes"),
)


@dataclass(frozen=True)
class DiffRow:
    """One line pair: `kind` is same, changed, added (right only) or removed (left only)."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(old: str, new: str) -> list[dict[str, Any]]:
    """Line-by-line side-by-side diff of two texts (difflib.SequenceMatcher opcodes)."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                DiffRow("same", i + 1, a[i], j + 1, b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            i = left[k] if k < len(left) else None
            j = right[k] if k < len(right) else None
            kind = (
                "changed"
                if i is not None and j is not None
                else ("removed" if j is None else "added")
            )
            rows.append(
                DiffRow(
                    kind,
                    None if i is None else i + 1,
                    "" if i is None else a[i],
                    None if j is None else j + 1,
                    "" if j is None else b[j],
                )
            )
    return [asdict(row) for row in rows]


def field_text(version: AgentVersion, field: str) -> str:
    value = getattr(version, field)
    if field == "tools":
        return "\n".join(value or [])
    return value or ""


def baseline_for(session: Session, *, version: AgentVersion) -> tuple[AgentVersion | None, str]:
    """The version to compare `version` with, and why it was chosen."""
    earlier = (
        select(AgentVersion)
        .where(AgentVersion.agent_id == version.agent_id, AgentVersion.version < version.version)
        .order_by(AgentVersion.version.desc())
        .limit(1)
    )
    approved = session.scalar(earlier.where(AgentVersion.status.in_(APPROVED_ONCE)))
    if approved is not None:
        return approved, "last approved version"
    previous = session.scalar(earlier)
    return (previous, "previous submission") if previous is not None else (None, "")


def review(session: Session, *, agent_id: int, version: int | None = None) -> dict[str, Any]:
    """Everything under review for one submitted version (default: the agent's current one)."""
    agent = get_agent(session, agent_id=agent_id)
    number = version or agent.version
    snapshot = session.scalar(
        select(AgentVersion).where(
            AgentVersion.agent_id == agent.id, AgentVersion.version == number
        )
    )
    if snapshot is None:
        raise NotFoundError(f"agent {agent_id} has no submitted version {number}")
    baseline, reason = baseline_for(session, version=snapshot)
    changes = []
    for field, label in FIELDS:
        new = field_text(snapshot, field)
        old = field_text(baseline, field) if baseline is not None else ""
        changes.append(
            {
                "field": field,
                "label": label,
                "changed": baseline is not None and old != new,
                "rows": side_by_side(old, new) if baseline is not None and old != new else [],
            }
        )
    issue_key = snapshot.jira_issue_key or agent.jira_issue_key
    state = session.get(JiraIssueState, issue_key) if issue_key else None
    return {
        "agent": agent_summary(agent),
        "version": _version_view(snapshot),
        "baseline": _version_view(baseline) if baseline is not None else None,
        "baseline_reason": reason,
        "changes": changes,
        "jira": {
            "key": issue_key,
            "url": jira_issue_url(issue_key),
            "state": state.last_status if state is not None else None,
        },
    }


def _version_view(version: AgentVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "status": version.status.value,
        "name": version.name,
        "description": version.description,
        "model": version.model,
        "system_prompt": version.system_prompt,
        "tools": list(version.tools or []),
        "code": version.code,
        "code_filename": version.code_filename,
        "notes": version.notes,
        "submitted_by": version.submitted_by,
        "submitted_at": iso(version.submitted_at),
        "decided_by": version.approved_by,
        "decided_at": iso(version.approved_at),
        # Added by the content-hash work; shown when the model carries it.
        "content_hash": getattr(version, "content_hash", None),
    }


def reject_with_reason(
    session: Session, *, agent_id: int, actor_email: str, source: Source, reason: str
):  # noqa: ANN201 - the Agent
    """Reject a submission; the developer must be told why, so a reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "write the reason for the rejection: the developer sees it", field="comment"
        )
    return reject_agent(
        session, agent_id=agent_id, actor_email=actor_email, source=source, comment=reason
    )
