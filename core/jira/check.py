"""`jira check`: credentials, project, issue type and the configured workflow statuses."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import Settings, get_settings
from core.jira.client import JiraClient, client_from_settings
from core.jira.errors import JiraError


@dataclass
class CheckReport:
    ok_lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checks": self.ok_lines,
            "warnings": self.warnings,
            "problems": self.problems,
        }


def check_jira(
    *, settings: Settings | None = None, client: JiraClient | None = None
) -> CheckReport:
    settings = settings or get_settings()
    report = CheckReport()
    if not settings.jira_enabled:
        report.problems.append("JIRA_BASE_URL is not set: approvals run locally (dashboard/CLI)")
        return report
    missing = [
        n
        for n, v in (
            ("JIRA_EMAIL", settings.jira_email),
            ("JIRA_API_TOKEN", settings.jira_api_token),
        )
        if not v
    ]
    if missing:
        report.problems.append(f"{' and '.join(missing)} not set: Jira needs email + API token")
        return report
    _check_webhook_secret(settings, report)
    client = client or client_from_settings(max_retries=1)
    try:
        me = client.myself()
    except JiraError as exc:
        report.problems.append(str(exc))
        return report
    report.ok_lines.append(
        f"credentials work: authenticated as {me.get('displayName') or me.get('emailAddress')}"
    )
    try:
        project = client.get_project(settings.jira_project_key)
        per_type = client.project_statuses(settings.jira_project_key)
    except JiraError as exc:
        report.problems.append(f"JIRA_PROJECT_KEY={settings.jira_project_key}: {exc}")
        return report
    report.ok_lines.append(f"project {project.get('key')} ({project.get('name')}) found")
    issue_type = next(
        (
            t
            for t in per_type
            if str(t.get("name", "")).casefold() == settings.jira_issue_type.casefold()
        ),
        None,
    )
    if issue_type is None:
        names = ", ".join(str(t.get("name")) for t in per_type) or "none"
        report.problems.append(
            f"JIRA_ISSUE_TYPE={settings.jira_issue_type} is not an issue type "
            f"of {settings.jira_project_key} (it has: {names})"
        )
        return report
    statuses = [str(s.get("name")) for s in issue_type.get("statuses") or []]
    known = {s.casefold() for s in statuses}
    for env, names, required in (
        ("JIRA_APPROVED_STATUSES", settings.jira_approved_statuses, True),
        ("JIRA_REJECTED_STATUSES", settings.jira_rejected_statuses, True),
        ("JIRA_CANCELLED_STATUSES", settings.jira_cancelled_statuses, False),
    ):
        found = [n for n in names if n.casefold() in known]
        if found:
            report.ok_lines.append(f"{env}: {', '.join(found)} exist in the workflow")
            continue
        message = (
            f"{env}={','.join(names) or '(empty)'}: no such status for "
            f"{settings.jira_issue_type} issues in {settings.jira_project_key}; "
            f"the workflow has: {', '.join(statuses)}"
        )
        (report.problems if required else report.warnings).append(message)
    return report


def _check_webhook_secret(settings: Settings, report: CheckReport) -> None:
    if settings.jira_webhook_secret:
        report.ok_lines.append("JIRA_WEBHOOK_SECRET is set")
    elif settings.webhook_allow_unsigned:
        report.warnings.append(
            "WEBHOOK_ALLOW_UNSIGNED=true: anyone can post webhooks; local experiments only"
        )
    else:
        report.problems.append(
            "JIRA_WEBHOOK_SECRET is not set: the webhook endpoint refuses "
            "every delivery; set it to the secret of the Jira admin webhook"
        )
