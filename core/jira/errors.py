"""Errors raised by the Jira client; messages never contain credentials."""

from __future__ import annotations

from typing import Any


class JiraError(Exception):
    """Jira answered with an error (4xx other than 429), or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_messages: list[str] | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.error_messages = list(error_messages or [])
        self.errors = dict(errors or {})
        details = "; ".join(self.error_messages + [f"{k}: {v}" for k, v in self.errors.items()])
        super().__init__(f"{message}: {details}" if details else message)


class JiraUnavailableError(JiraError):
    """Jira kept failing (429/5xx/connection errors) after every retry.

    `retry_after`: seconds Jira asked us to wait (None if it did not say); `maybe_done`: the
    request may have been carried out with its answer lost (anything but a 429)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, maybe_done: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_done = maybe_done
