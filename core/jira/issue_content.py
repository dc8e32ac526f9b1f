"""What the approval issue, its attachments and our comments say in Jira.

Jira Cloud refuses a rich-text field over 32,767 characters. Any agent the registry accepts
can still be submitted: a description that would be too long is built again with each long
text shortened and a note saying so, and the full specification goes to the issue as a
Markdown attachment. Comments over the limit are posted in numbered parts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.audit.content import content_hash_of
from core.config import Settings
from core.jira import adf
from core.models import Agent, AgentVersion, Comment

SUMMARY_LIMIT = 255
JIRA_TEXT_LIMIT = 32_767
# What we allow ourselves per rich-text field: the limit less a margin for Jira's own markup.
TEXT_BUDGET = 30_000
# Caps per long text when the description must be shortened (tried in order).
SHORTENED_CAPS = (8_000, 2_000, 300)
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


def spec_attachment_name(version: AgentVersion) -> str:
    return f"{_slug(version.name)}_v{version.version}_spec.md"


def issue_fields(settings: Settings, *, agent: Agent, version: AgentVersion) -> dict[str, Any]:
    summary = f"Approve agent: {version.name} v{version.version}".replace("\n", " ")
    return {
        "project": {"key": settings.jira_project_key},
        "issuetype": {"name": settings.jira_issue_type},
        "summary": summary[:SUMMARY_LIMIT],
        "description": description(settings, agent=agent, version=version),
        "labels": [REGISTRY_LABEL, submission_label(agent.id, version.version)],
    }


def needs_spec_attachment(settings: Settings, *, agent: Agent, version: AgentVersion) -> bool:
    """True if the full description is over Jira's limit (it is shortened in the issue)."""
    full = adf.document(*_description_blocks(settings, agent=agent, version=version, cap=None))
    return adf.stored_length(full) > TEXT_BUDGET


def description(settings: Settings, *, agent: Agent, version: AgentVersion) -> dict[str, Any]:
    """The issue description, shortened (with a note) if the full text is over the limit."""
    for cap in (None, *SHORTENED_CAPS):
        doc = adf.document(*_description_blocks(settings, agent=agent, version=version, cap=cap))
        if adf.stored_length(doc) <= TEXT_BUDGET:
            return doc
    return doc  # the smallest cap always fits: every text is then at most 300 characters


def _description_blocks(
    settings: Settings, *, agent: Agent, version: AgentVersion, cap: int | None
) -> list[dict[str, Any]]:
    def cut(value: str) -> str:
        if cap is None or len(value) <= cap:
            return value
        return value[:cap].rstrip() + f" … [shortened: {len(value):,} characters in full]"

    owner = agent.owner.email if agent.owner is not None else str(agent.owner_id)
    blocks = [adf.heading(f"{version.name} (version {version.version})", level=2)]
    if cap is not None:
        blocks.append(
            adf.paragraph(
                f"This specification is over Jira's {JIRA_TEXT_LIMIT:,}-character limit, so "
                f"long texts are shortened here. The full specification (description, system "
                f"prompt, tools, notes) is attached as {spec_attachment_name(version)}.",
                strong_prefix="Shortened: ",
            )
        )
    blocks += [
        adf.paragraph(owner, strong_prefix="Owner: "),
        adf.paragraph(version.submitted_by, strong_prefix="Submitted by: "),
        adf.paragraph(version.model, strong_prefix="Model: "),
        adf.paragraph(
            version.content_hash or content_hash_of(version), strong_prefix="Content SHA-256: "
        ),
        adf.heading("Description", level=3),
        adf.paragraph(cut(version.description or "(none)")),
    ]
    if version.notes:
        blocks += [adf.heading("Notes", level=3), adf.paragraph(cut(version.notes))]
    if version.tools:
        blocks.append(adf.paragraph(cut(tool_names(version.tools)), strong_prefix="Tools: "))
    if version.system_prompt:
        blocks += [
            adf.heading("System prompt", level=3),
            adf.code_block(cut(version.system_prompt)),
        ]
    if version.code:
        blocks.append(adf.paragraph(f"Generated code attached as {attachment_name(version)}."))
    link = dashboard_link(settings, agent.id)
    if link:
        blocks.append(adf.link_paragraph("Review in the dashboard: ", link))
    return blocks


def tool_names(tools: list[Any]) -> str:
    return ", ".join(str(t.get("name", t)) if isinstance(t, dict) else str(t) for t in tools)


def spec_markdown(*, agent: Agent, version: AgentVersion) -> str:
    """The full specification of a submitted version, as attached beside the code."""
    owner = agent.owner.email if agent.owner is not None else str(agent.owner_id)
    fence = "~~~~~~~~"  # longer than any run of tildes a prompt is likely to hold
    tools = json.dumps(list(version.tools or []), indent=2, ensure_ascii=False)
    return "\n".join(
        [
            f"# {version.name} (version {version.version})",
            "",
            f"- Owner: {owner}",
            f"- Submitted by: {version.submitted_by}",
            f"- Model: {version.model}",
            "",
            "## Description",
            "",
            version.description or "(none)",
            "",
            "## Notes",
            "",
            version.notes or "(none)",
            "",
            "## Tools",
            "",
            f"{fence}json",
            tools,
            fence,
            "",
            "## System prompt",
            "",
            fence,
            version.system_prompt or "",
            fence,
            "",
        ]
    )


def comment_bodies(author: str, body: str) -> list[dict[str, Any]]:
    """Our comment as ADF documents, each within Jira's limit (numbered parts if split).

    The author is named because Jira shows the integration account."""
    text = body.replace("\r\n", "\n")
    chunk = TEXT_BUDGET - 2_000  # room for the prefix, part numbers and paragraph markup
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
    documents = []
    for number, piece in enumerate(pieces, start=1):
        part = f" (part {number} of {len(pieces)})" if len(pieces) > 1 else ""
        paragraphs = [p for p in piece.split("\n\n") if p.strip()]
        first, rest = (paragraphs[0], paragraphs[1:]) if paragraphs else ("", [])
        documents.append(
            adf.document(
                adf.paragraph(first, strong_prefix=f"{author} (Agent Registry){part}: "),
                *(adf.paragraph(p) for p in rest),
            )
        )
    return documents


def comment_body(comment: Comment) -> dict[str, Any]:
    """A registry comment as one ADF document (the first part if it must be split)."""
    return comment_bodies(comment.author, comment.body)[0]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "agent"
