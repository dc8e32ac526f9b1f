"""Jira Cloud REST v3 client over requests: basic auth, timeouts, retries with backoff.

Throttling is honoured in full: a retry never comes before the time Jira names in
`Retry-After` (seconds or an HTTP-date) or `X-RateLimit-Reset`. When that is longer than
the client may sleep (`max_wait`), the call fails at once with the time attached
(`JiraUnavailableError.retry_after`) so the outbox reschedules it instead of sleeping.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from core.jira.errors import JiraError, JiraUnavailableError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_WAIT_SECONDS = 60.0
# Our marker on every issue and comment we create (an entity property sent with the create):
# how a retry after a lost answer finds what the first attempt already did.
MARKER_PROPERTY = "agent-registry"


def backoff_delay(
    retry: int, *, base: float = 1.0, rng: Callable[[], float] = random.random
) -> float:
    """1 s, 2 s, 4 s … for retry 0, 1, 2 …, each with up to 25% jitter either way."""
    return base * (2**retry) * (0.75 + 0.5 * rng())


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from `Retry-After` (delta-seconds or an HTTP-date, in full); None if absent/bad."""
    if not value or not value.strip():
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:  # urllib3 parses the HTTP-date form (RFC 9110 section 10.2.3)
        return float(Retry().parse_retry_after(value.strip()))
    except (InvalidHeader, ValueError, OverflowError, TypeError):
        return None


def parse_rate_limit_reset(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds until `X-RateLimit-Reset` (Jira: an ISO 8601 timestamp; epoch seconds too)."""
    if not value or not value.strip():
        return None
    now = time.time() if now is None else now
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(moment.timestamp() - now, 0.0)
    return max(number - now, 0.0) if number > 1e9 else max(number, 0.0)


def throttle_delay(headers: Any) -> float | None:
    """How long Jira asked us to wait: `Retry-After`, else `X-RateLimit-Reset`; None if silent."""
    delay = parse_retry_after(headers.get("Retry-After"))
    if delay is None:
        delay = parse_rate_limit_reset(headers.get("X-RateLimit-Reset"))
    return delay


class JiraClient:
    """One Jira site; every call retries 429/5xx/connection errors up to `max_retries` times."""

    def __init__(
        self,
        base_url: str,
        *,
        email: str,
        api_token: str,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        max_wait: float = DEFAULT_MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_wait = max_wait
        self._sleep = sleep
        self._rng = rng
        self._http = http or requests.Session()
        self._http.auth = (email, api_token)
        self._http.headers.update({"Accept": "application/json"})

    def __repr__(self) -> str:  # never show the token
        return f"JiraClient({self.base_url!r})"

    # -- transport -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        before_retry: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; return the 2xx response or raise JiraError.

        `before_retry` runs before each retry; if it returns something other than None the
        call stops and that value is returned wrapped in a fake 200 (used so a create whose
        answer was lost is found instead of created twice).
        """
        url = f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)
        last_problem, asked, maybe_done = "", None, False
        for attempt in range(self.max_retries + 1):
            if attempt and before_retry is not None:
                found = before_retry()
                if found is not None:
                    return _FoundResponse(found)
            try:
                response = self._http.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"could not reach Jira ({type(exc).__name__})"
                asked, maybe_done = None, True  # the request may have been done, answer lost
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise _error_from(method, path, response)
                last_problem = f"Jira answered {response.status_code}"
                asked = throttle_delay(response.headers)
                # 429 and 503 refuse before any work; a 500/502/504 may come after it
                maybe_done = response.status_code not in (429, 503)
            if asked is not None and asked > self.max_wait:
                break  # longer than we may sleep: the caller reschedules, never retries early
            if attempt == self.max_retries:
                break
            delay = (
                asked
                if asked is not None
                else backoff_delay(attempt, base=self.backoff_base, rng=self._rng)
            )
            log.warning("%s %s: %s; retrying in %.1f s", method, path, last_problem, delay)
            self._sleep(delay)
        wait = f"; Jira asked to wait {asked:.0f} s" if asked is not None else ""
        raise JiraUnavailableError(
            f"{method} {path} failed ({last_problem}{wait}); "
            "check JIRA_BASE_URL and Jira's status, then retry",
            retry_after=asked,
            maybe_done=maybe_done,
        )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- API -----------------------------------------------------------------------------

    def myself(self) -> dict[str, Any]:
        return self._json("GET", "/rest/api/3/myself")

    def get_project(self, project_key: str) -> dict[str, Any]:
        return self._json("GET", f"/rest/api/3/project/{quote(project_key)}")

    def project_statuses(self, project_key: str) -> list[dict[str, Any]]:
        """Per issue type: `[{"name": "Task", "statuses": [{"name": ...}]}]`."""
        return self._json("GET", f"/rest/api/3/project/{quote(project_key)}/statuses")

    def find_issue_by_label(
        self, label: str, *, reconcile_ids: list[str] | tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        """The first issue carrying `label`, or None.

        /search/jql is eventually consistent: a just-created issue may be missing. Issue ids
        in `reconcile_ids` are read-after-write consistent (`reconcileIssues`)."""
        params: dict[str, Any] = {"jql": f'labels = "{label}"', "fields": "summary"}
        params["maxResults"] = 1
        if reconcile_ids:
            params["reconcileIssues"] = ",".join(str(i) for i in reconcile_ids)
        data = self._json("GET", "/rest/api/3/search/jql", params=params)
        issues = (data or {}).get("issues") or []
        return issues[0] if issues else None

    def create_issue(
        self,
        fields: dict[str, Any],
        *,
        dedupe_label: str | None = None,
        marker: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST an issue; with `dedupe_label` a retry first looks for an issue already made.

        `marker` is stored on the issue as our entity property (an idempotency record)."""
        if dedupe_label:
            labels = list(fields.get("labels") or [])
            if dedupe_label not in labels:
                fields = {**fields, "labels": [*labels, dedupe_label]}
        body: dict[str, Any] = {"fields": fields}
        if marker is not None:
            body["properties"] = [{"key": MARKER_PROPERTY, "value": marker}]
        before_retry = (lambda: self.find_issue_by_label(dedupe_label)) if dedupe_label else None
        return self._json("POST", "/rest/api/3/issue", json=body, before_retry=before_retry)

    def get_issue(self, key: str, *, fields: str = "summary,status,labels") -> dict[str, Any]:
        return self._json("GET", f"/rest/api/3/issue/{quote(key)}", params={"fields": fields})

    def add_attachment(
        self, key: str, *, filename: str, content: bytes, content_type: str = "text/plain"
    ) -> list[dict[str, Any]]:
        return self._json(
            "POST",
            f"/rest/api/3/issue/{quote(key)}/attachments",
            headers={"X-Atlassian-Token": "no-check"},
            files={"file": (filename, content, content_type)},
        )

    def add_comment(
        self, key: str, body_adf: dict[str, Any], *, marker: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST a comment; `marker` is stored on it as our entity property."""
        body: dict[str, Any] = {"body": body_adf}
        if marker is not None:
            body["properties"] = [{"key": MARKER_PROPERTY, "value": marker}]
        return self._json("POST", f"/rest/api/3/issue/{quote(key)}/comment", json=body)

    def comments(self, key: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every comment on the issue, oldest first, with its entity properties."""
        start = 0
        while True:
            params = {"startAt": start, "maxResults": page_size, "expand": "properties"}
            data = self._json("GET", f"/rest/api/3/issue/{quote(key)}/comment", params=params)
            page = list((data or {}).get("comments") or [])
            yield from page
            start += len(page)
            if not page or start >= int((data or {}).get("total", 0)):
                return

    def find_marked_comments(self, key: str, marker_field: str, value: Any) -> list[dict]:
        """Our comments on `key` whose marker property has `marker_field == value`."""
        found = []
        for comment in self.comments(key):
            for prop in comment.get("properties") or []:
                marker = prop.get("value") if prop.get("key") == MARKER_PROPERTY else None
                if isinstance(marker, dict) and marker.get(marker_field) == value:
                    found.append({**comment, "marker": marker})
        return found

    def current_status(self, key: str) -> str:
        fields = self.get_issue(key, fields="status").get("fields") or {}
        return str((fields.get("status") or {}).get("name", ""))

    def get_transitions(self, key: str) -> list[dict[str, Any]]:
        data = self._json("GET", f"/rest/api/3/issue/{quote(key)}/transitions")
        return list((data or {}).get("transitions") or [])

    def transition(self, key: str, transition_id: str) -> None:
        self._json(
            "POST",
            f"/rest/api/3/issue/{quote(key)}/transitions",
            json={"transition": {"id": str(transition_id)}},
        )

    def transition_to(self, key: str, status_names: list[str]) -> str | None:
        """Move the issue to the first status in `status_names` it can reach (chosen by
        `to.name`, case-insensitively, posted by id). Returns the status name or None."""
        wanted = [name.casefold() for name in status_names]
        transitions = self.get_transitions(key)
        for name in wanted:
            for item in transitions:
                target = str((item.get("to") or {}).get("name", ""))
                if target.casefold() == name:
                    self.transition(key, str(item["id"]))
                    return target
        return None


class _FoundResponse(requests.Response):
    """A stand-in 200 response around a value found by `before_retry`."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.status_code = 200
        self._value = value
        self._content = b"{}"

    def json(self, **_: Any) -> Any:
        return self._value


def _error_from(method: str, path: str, response: requests.Response) -> JiraError:
    error_messages: list[str] = []
    errors: dict[str, Any] = {}
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        error_messages = [str(m) for m in data.get("errorMessages") or []]
        errors = dict(data.get("errors") or {})
    elif response.text:
        error_messages = [response.text.strip()[:200]]
    hint = {
        401: "Jira refused the credentials; check JIRA_EMAIL and JIRA_API_TOKEN",
        403: "Jira refused the request; check the account's project permissions",
        404: "Jira could not find it; check JIRA_BASE_URL and JIRA_PROJECT_KEY",
    }.get(response.status_code, f"Jira answered {response.status_code}")
    return JiraError(
        f"{method} {path}: {hint}",
        status=response.status_code,
        error_messages=error_messages,
        errors=errors,
    )


def client_from_settings(**overrides: Any) -> JiraClient:
    """A client for the configured Jira site (JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN)."""
    from core.config import get_settings

    settings = get_settings()
    options: dict[str, Any] = {
        "email": settings.jira_email,
        "api_token": settings.jira_api_token,
        "timeout": settings.jira_timeout_seconds,
        "backoff_base": settings.jira_retry_base_seconds,
        "max_retries": settings.jira_max_retries,
    }
    options.update(overrides)
    return JiraClient(settings.jira_base_url, **options)
