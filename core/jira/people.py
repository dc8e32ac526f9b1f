"""Jira users as registry accounts: linked by Jira accountId (Cloud hides most emails).

An admin links an account with `users link-jira`; a Jira user whose event shows an
`emailAddress` matching an active account without a link is linked automatically.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import require_admin
from core.auth import find_user
from core.errors import NotFoundError, ValidationError
from core.models import User

log = logging.getLogger(__name__)

ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9:_\-.]{1,128}$")


@dataclass(frozen=True)
class JiraActor:
    """Who acted in Jira, and the registry account they are (None with the reason why not)."""

    account_id: str | None
    email: str | None
    display_name: str | None
    user: User | None
    problem: str | None = None

    @property
    def label(self) -> str:
        """For the audit trail: the registry email when linked, else what Jira told us."""
        if self.user is not None:
            return self.user.email
        who = self.display_name or self.email or "unknown Jira user"
        return f"{who} (Jira {self.account_id})" if self.account_id else who


def clean_account_id(value: str | None) -> str:
    value = (value or "").strip()
    if not ACCOUNT_ID_RE.match(value):
        raise ValidationError(
            "Jira account id must be 1 to 128 letters, digits or :_-. "
            "(find it in the user's Jira profile URL)",
            field="account_id",
        )
    return value


def find_by_account_id(session: Session, *, account_id: str) -> User | None:
    return session.scalar(select(User).where(User.jira_account_id == account_id))


def link_jira_account(
    session: Session, *, email: str, account_id: str, actor_email: str | None = None
) -> User:
    """Set or replace the Jira account of `email`; a Jira id belongs to one account only."""
    require_admin(session, actor_email=actor_email, action="link Jira accounts")
    account_id = clean_account_id(account_id)
    user = find_user(session, email=email)
    if user is None:
        raise NotFoundError(f"no user with email {email}; add one with `users add`")
    holder = find_by_account_id(session, account_id=account_id)
    if holder is not None and holder.id != user.id:
        raise ValidationError(
            f"Jira account {account_id} is already linked to {holder.email}; "
            "link that account to another Jira id first",
            field="account_id",
        )
    user.jira_account_id = account_id
    session.flush()
    return user


def resolve_jira_actor(session: Session, *, jira_user: Any) -> JiraActor:
    """The registry account behind a webhook's `user` (linking it by email when possible)."""
    if not isinstance(jira_user, dict):
        return JiraActor(None, None, None, None, "the event does not say which Jira user acted")
    account_id = str(jira_user.get("accountId") or "").strip()[:128] or None
    email = str(jira_user.get("emailAddress") or "").strip() or None
    name = str(jira_user.get("displayName") or jira_user.get("name") or "").strip() or None
    linked = find_by_account_id(session, account_id=account_id) if account_id else None
    if linked is not None:
        return JiraActor(account_id, email, name, linked)
    match = find_user(session, email=email) if email else None
    if match is not None and match.is_active:
        if account_id is None:  # Server/Data Center: no accountId; the email identifies them
            return JiraActor(account_id, email, name, match)
        if match.jira_account_id is None:
            match.jira_account_id = account_id
            session.flush()
            log.info("linked Jira account %s to %s (same email)", account_id, match.email)
            return JiraActor(account_id, email, name, match)
        problem = (
            f"Jira account {account_id} is not linked, and {match.email} is linked to another "
            "Jira account"
        )
        return JiraActor(account_id, email, name, None, problem)
    who = name or email or "the Jira user"
    ident = f" (accountId {account_id})" if account_id else ""
    hint = (
        f"; an admin links it with `python -m core users link-jira --email … --account-id {account_id}`"
        if account_id
        else ""
    )
    problem = f"{who}{ident} is not linked to a registry account{hint}"
    return JiraActor(account_id, email, name, None, problem)
