"""What the approval issue, its attachment and our comments say in Jira."""

from __future__ import annotations

import re
from typing import Any

from core.audit.content import content_hash_of
from core.config import Settings
from core.jira import adf
from core.models import Agent, AgentVersion, Comment

SUMMARY_LIMIT = 255
REGISTRY_LABEL = "agent-registry"


def submission_label(agent_id: int, version: int) -> str:
    """A label unique to one submission: finds an issue whose create answer was lost."""
    return f"agent-registry-{agent_id}-v{version}"


def browse_url(settings: Settings, key: str | None) -> str | None:
    if not key or not settings.jira_base_url:
        return None
    return f"{settings.jira_base_url.rstrip('/')}/browse/{key}"


def dashboard_link(settings: Settings, agent_id: int) -> str | None:
    if not settings.dashboard_url:
        return None
    return f"{settings.dashboard_url.rstrip('/')}/?agent_id={agent_id}"


def attachment_name(version: AgentVersion) -> str:
    name = version.code_filename or f"{_slug(version.name)}_v{version.version}.py"
    return re.sub(r"[\\/\x00-\x1f]", "_", name)[:200]


def issue_fields(settings: Settings, *, agent: Agent, version: AgentVersion) -> dict[str, Any]:
    summary = f"Approve agent: {version.name} v{version.version}".replace("\n", " ")
    owner = agent.owner.email if agent.owner is not None else str(agent.owner_id)
    blocks = [
        adf.heading(f"{version.name} (version {version.version})", level=2),
        adf.paragraph(owner, strong_prefix="Owner: "),
        adf.paragraph(version.submitted_by, strong_prefix="Submitted by: "),
        adf.paragraph(version.model, strong_prefix="Model: "),
        adf.paragraph(
            version.content_hash or content_hash_of(version), strong_prefix="Content SHA-256: "
        ),
        adf.heading("Description", level=3),
        adf.paragraph(version.description or "(none)"),
    ]
    if version.notes:
        blocks += [adf.heading("Notes", level=3), adf.paragraph(version.notes)]
    if version.tools:
        tools = ", ".join(
            str(t.get("name", t)) if isinstance(t, dict) else str(t) for t in version.tools
        )
        blocks.append(adf.paragraph(tools, strong_prefix="Tools: "))
    if version.system_prompt:
        blocks += [adf.heading("System prompt", level=3), adf.code_block(version.system_prompt)]
    if version.code:
        blocks.append(adf.paragraph(f"Generated code attached as {attachment_name(version)}."))
    link = dashboard_link(settings, agent.id)
    if link:
        blocks.append(adf.link_paragraph("Review in the dashboard: ", link))
    return {
        "project": {"key": settings.jira_project_key},
        "issuetype": {"name": settings.jira_issue_type},
        "summary": summary[:SUMMARY_LIMIT],
        "description": adf.document(*blocks),
        "labels": [REGISTRY_LABEL, submission_label(agent.id, version.version)],
    }


def comment_body(comment: Comment) -> dict[str, Any]:
    """Our comment as ADF; the author is named because Jira shows the integration account."""
    paragraphs = [p for p in comment.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    first, rest = (paragraphs[0], paragraphs[1:]) if paragraphs else ("", [])
    return adf.document(
        adf.paragraph(first, strong_prefix=f"{comment.author} (Agent Registry): "),
        *(adf.paragraph(p) for p in rest),
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "agent"
