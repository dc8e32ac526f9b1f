"""The Jira double: a WSGI app on a threaded werkzeug server bound to 127.0.0.1."""

from __future__ import annotations

import base64
import itertools
import json
import queue
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from core.jira.signature import sign
from tests.jira_double import payloads
from tests.jira_double.adf_rules import TOO_LONG, adf_problem, too_long

STATUSES = ["To Do", "In Progress", "Approved", "Rejected", "Cancelled"]
# Transition names differ from status names on purpose (like real workflows).
TRANSITIONS = [
    ("11", "Start review", "In Progress"),
    ("21", "Approve request", "Approved"),
    ("31", "Decline", "Rejected"),
    ("41", "Withdraw", "Cancelled"),
    ("51", "Reopen", "To Do"),
]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form_files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived
    status: int | None = None  # what the double answered (None: connection dropped)


@dataclass
class Fault:
    status: int = 503
    times: int = 1
    retry_after: str | None = None
    path: str | None = None  # substring of the path; None = any
    method: str | None = None
    drop: bool = False  # handle the request, then cut the connection before answering
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Issue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.monotonic)


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date `seconds_from_now` in the future (a `Retry-After` form Jira may send)."""
    return formatdate(time.time() + seconds_from_now, usegmt=True)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def _error(status: int, messages: list[str] | None = None, errors: dict | None = None) -> Response:
    body = {"errorMessages": messages or [], "errors": errors or {}}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


class JiraDouble:
    """Start with `with JiraDouble() as jira:`; `jira.url` is the base URL."""

    def __init__(
        self,
        *,
        email: str = "bot@example.com",
        api_token: str = "test-token-not-secret",
        project_key: str = "AGENT",
        statuses: list[str] | None = None,
    ) -> None:
        self.email = email
        self.api_token = api_token
        self.project_key = project_key
        self.statuses = statuses or list(STATUSES)
        self.transitions = [t for t in TRANSITIONS if t[2] in self.statuses]
        self.issues: dict[str, Issue] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str = ""
        self.webhook_results: list[int] = []
        # Like Jira Cloud's /search/jql: a new issue is found only this long after its
        # creation, unless its id is named in `reconcileIssues`.
        self.search_lag_seconds = 0.0
        self._ids = itertools.count(1)
        self._comment_ids = itertools.count(10001)
        self._lock = threading.RLock()
        self._outbox: queue.Queue = queue.Queue()
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> JiraDouble:
        serve = lambda: self._server.serve_forever(poll_interval=0.02)  # noqa: E731
        for target in (serve, self._send_webhooks):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._outbox.put(None)
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> JiraDouble:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------------------

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        retry_after: str | None = None,
        path: str | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self.faults.append(
                Fault(status, times, retry_after, path, method, headers=dict(headers or {}))
            )

    def throttle(self, retry_after: str, *, times: int = 1, path: str | None = None) -> None:
        """Answer 429 with `Retry-After` (seconds or an HTTP-date), like Jira Cloud."""
        self.fail_next(429, times=times, retry_after=retry_after, path=path)

    def drop_next(self, *, path: str | None = None, method: str | None = None) -> None:
        """Process the next matching request, then close the socket without an answer."""
        with self._lock:
            self.faults.append(Fault(0, 1, None, path, method, drop=True))

    def calls_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests to exactly `path`."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def calls(self, method: str | None = None, path_contains: str = "") -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and path_contains in r.path
        ]

    def send_webhooks_to(self, url: str, secret: str) -> None:
        """Like a Jira admin webhook: changes made here are delivered to `url`, signed."""
        self.webhook_url, self.webhook_secret = url, secret

    def wait_for_webhooks(self, timeout: float = 30.0) -> None:
        """Block until every queued delivery has been answered."""
        done = threading.Event()
        self._outbox.put(done)
        if not done.wait(timeout):
            raise TimeoutError("webhook deliveries did not finish")

    def move_issue(self, key: str, to_status: str, *, user: dict | None = None) -> None:
        """An approver moves the issue in Jira's UI."""
        with self._lock:
            issue = self.issues[key]
            before, issue.status = issue.status, to_status
        self._queue(
            payloads.status_changed(key, from_status=before, to_status=to_status, user=user)
        )

    def comment_as(self, key: str, body: str, *, author: dict | None = None) -> str:
        """Someone comments in Jira's UI; returns the comment id."""
        comment_id = str(next(self._comment_ids))
        with self._lock:
            self.issues[key].comments.append({"id": comment_id, "body": body, "properties": {}})
            status = self.issues[key].status  # like Jira: the issue as it is now
        self._queue(
            payloads.comment_event(
                key, comment_id=comment_id, body=body, author=author, status=status
            )
        )
        return comment_id

    def send_webhook(
        self,
        url: str,
        payload: dict,
        *,
        secret: str,
        delivery_id: str | None = None,
        timeout: float = 30.0,
    ) -> requests.Response:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": delivery_id or str(uuid.uuid4()),
            "X-Hub-Signature": sign(secret, body),
        }
        return requests.post(url, data=body, headers=headers, timeout=timeout)

    # -- webhook sender ------------------------------------------------------------------

    def _queue(self, payload: dict) -> None:
        if self.webhook_url:
            self._outbox.put(payload)

    def _send_webhooks(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                response = self.send_webhook(self.webhook_url, item, secret=self.webhook_secret)
                self.webhook_results.append(response.status_code)
            except requests.RequestException:
                self.webhook_results.append(0)

    # -- HTTP ----------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        record = RecordedRequest(request.method, request.path, dict(request.headers), body)
        if request.mimetype == "application/json":
            try:
                record.json = json.loads(body or b"null")
            except ValueError:
                record.json = None
        if request.mimetype == "multipart/form-data":
            record.form_files = {
                name: (f.filename or "", f.read()) for name, f in request.files.items()
            }
            for f in request.files.values():
                f.seek(0)
        with self._lock:
            self.requests.append(record)
            fault = self._take_fault(request)
        if fault is not None and not fault.drop:
            record.status = fault.status
            response = _error(fault.status, [f"Injected failure {fault.status}"])
            if fault.retry_after is not None:
                response.headers["Retry-After"] = fault.retry_after
            response.headers.update(fault.headers)
            return response(environ, start_response)
        if not self._authorised(request):
            response = Response(
                "Client must be authenticated to access this resource.",
                status=401,
                mimetype="text/plain",
            )
        else:
            response = self._route(request, record)
        record.status = None if fault is not None and fault.drop else response.status_code
        if fault is not None and fault.drop:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            return []
        return response(environ, start_response)

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.path and fault.path not in request.path:
                continue
            if fault.method and fault.method != request.method:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            email, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return email == self.email and token == self.api_token

    def _route(self, request: Request, record: RecordedRequest) -> Response:
        path, method = request.path, request.method
        routes = [
            ("GET", r"/rest/api/3/myself", self._myself),
            ("GET", r"/rest/api/3/project/(?P<key>[^/]+)", self._project),
            ("GET", r"/rest/api/3/project/(?P<key>[^/]+)/statuses", self._project_statuses),
            ("GET", r"/rest/api/3/search/jql", self._search),
            ("POST", r"/rest/api/3/issue", self._create_issue),
            ("GET", r"/rest/api/3/issue/(?P<key>[^/]+)", self._get_issue),
            ("POST", r"/rest/api/3/issue/(?P<key>[^/]+)/attachments", self._attach),
            ("POST", r"/rest/api/3/issue/(?P<key>[^/]+)/comment", self._comment),
            ("GET", r"/rest/api/3/issue/(?P<key>[^/]+)/comment", self._list_comments),
            ("GET", r"/rest/api/3/issue/(?P<key>[^/]+)/transitions", self._list_transitions),
            ("POST", r"/rest/api/3/issue/(?P<key>[^/]+)/transitions", self._transition),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                with self._lock:
                    return handler(request, record, **match.groupdict())
        return _error(404, ["Not found (Jira double)"])

    def _issue_or_404(self, key: str) -> Issue | Response:
        issue = self.issues.get(key)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def _myself(self, request: Request, record: RecordedRequest) -> Response:
        return _json(
            {
                "accountId": "bot-account",
                "emailAddress": self.email,
                "displayName": "Registry Bot",
                "active": True,
            }
        )

    def _project(self, request: Request, record: RecordedRequest, key: str) -> Response:
        if key != self.project_key:
            return _error(404, [f"No project could be found with key '{key}'."])
        return _json({"id": "10000", "key": key, "name": "Agent approvals"})

    def _project_statuses(self, request: Request, record: RecordedRequest, key: str) -> Response:
        if key != self.project_key:
            return _error(404, [f"No project could be found with key '{key}'."])
        statuses = [{"id": str(10000 + i), "name": name} for i, name in enumerate(self.statuses)]
        return _json([{"id": "10001", "name": "Task", "subtask": False, "statuses": statuses}])

    def _search(self, request: Request, record: RecordedRequest) -> Response:
        jql = request.args.get("jql", "")
        match = re.fullmatch(r'\s*labels\s*=\s*"([^"]+)"\s*', jql)
        if not match:
            return _error(400, [f"Unsupported JQL in the double: {jql}"])
        reconcile = set(filter(None, request.args.get("reconcileIssues", "").split(",")))
        visible_before = time.monotonic() - self.search_lag_seconds
        found = [
            {"id": i.id, "key": i.key}
            for i in self.issues.values()
            if match.group(1) in i.fields.get("labels", [])
            and (i.created_at <= visible_before or i.id in reconcile)
        ]
        return _json({"issues": found[: int(request.args.get("maxResults", 50))]})

    def _create_issue(self, request: Request, record: RecordedRequest) -> Response:
        fields = (record.json or {}).get("fields") if isinstance(record.json, dict) else None
        if not isinstance(fields, dict):
            return _error(400, ["Can not deserialize instance of fields"])
        errors: dict[str, str] = {}
        if (fields.get("project") or {}).get("key") != self.project_key:
            errors["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") != "Task":
            errors["issuetype"] = "Specify an issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255 or "\n" in summary:
            errors["summary"] = "Summary must be less than 255 characters and one line."
        if "description" in fields:
            problem = adf_problem(fields["description"])
            if problem:
                errors["description"] = problem
            elif too_long(fields["description"]):
                errors["description"] = TOO_LONG
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or any(
            not isinstance(label, str) or not label or " " in label for label in labels
        ):
            errors["labels"] = "The label must not contain spaces."
        if errors:
            return _error(400, [], errors)
        number = next(self._ids)
        key = f"{self.project_key}-{number}"
        properties = _properties(record.json.get("properties"))
        self.issues[key] = Issue(
            id=str(10000 + number), key=key, fields=fields, properties=properties
        )
        return _json(
            {
                "id": str(10000 + number),
                "key": key,
                "self": f"{self.url}/rest/api/3/issue/{10000 + number}",
            },
            201,
        )

    def _get_issue(self, request: Request, record: RecordedRequest, key: str) -> Response:
        issue = self._issue_or_404(key)
        if isinstance(issue, Response):
            return issue
        return _json(
            {
                "id": issue.id,
                "key": issue.key,
                "fields": {
                    **issue.fields,
                    "status": {"name": issue.status},
                    "attachment": [
                        {k: v for k, v in item.items() if k != "content"}
                        for item in issue.attachments
                    ],
                },
            }
        )

    def _attach(self, request: Request, record: RecordedRequest, key: str) -> Response:
        if request.headers.get("X-Atlassian-Token") != "no-check":
            return Response("XSRF check failed", status=403, mimetype="text/plain")
        issue = self._issue_or_404(key)
        if isinstance(issue, Response):
            return issue
        if "file" not in record.form_files:
            return _error(400, ["No file attached: use the multipart field 'file'."])
        filename, content = record.form_files["file"]
        attachment = {
            "id": str(20000 + len(issue.attachments)),
            "filename": filename,
            "size": len(content),
            "content": content,
        }
        issue.attachments.append(attachment)
        return _json([{k: v for k, v in attachment.items() if k != "content"}])

    def _comment(self, request: Request, record: RecordedRequest, key: str) -> Response:
        issue = self._issue_or_404(key)
        if isinstance(issue, Response):
            return issue
        body = (record.json or {}).get("body") if isinstance(record.json, dict) else None
        problem = adf_problem(body)
        if problem:
            return _error(400, ["Comment body is not valid!"], {"comment": problem})
        if too_long(body):
            return _error(400, [], {"comment": TOO_LONG})
        comment_id = str(next(self._comment_ids))
        properties = _properties(record.json.get("properties"))
        issue.comments.append({"id": comment_id, "body": body, "properties": properties})
        self._queue(
            payloads.comment_event(
                key,
                comment_id=comment_id,
                body=_plain(body),
                author=payloads.jira_user("Registry Bot", self.email),
                status=issue.status,
            )
        )
        return _json(
            {"id": comment_id, "body": body, "self": f"{self.url}/comment/{comment_id}"}, 201
        )

    def _list_comments(self, request: Request, record: RecordedRequest, key: str) -> Response:
        issue = self._issue_or_404(key)
        if isinstance(issue, Response):
            return issue
        start = int(request.args.get("startAt", 0))
        size = min(int(request.args.get("maxResults", 50)), 100)
        expand = "properties" in request.args.get("expand", "").split(",")
        page = [
            {
                "id": c["id"],
                "body": c["body"],
                **(
                    {"properties": [{"key": k, "value": v} for k, v in c["properties"].items()]}
                    if expand
                    else {}
                ),
            }
            for c in issue.comments[start : start + size]
        ]
        return _json(
            {"startAt": start, "maxResults": size, "total": len(issue.comments), "comments": page}
        )

    def _list_transitions(self, request: Request, record: RecordedRequest, key: str) -> Response:
        issue = self._issue_or_404(key)
        if isinstance(issue, Response):
            return issue
        available = [
            {"id": tid, "name": name, "to": {"name": to, "id": str(10000 + STATUSES.index(to))}}
            for tid, name, to in self.transitions
            if to != issue.status
        ]
        return _json({"expand": "transitions", "transitions": available})

    def _transition(self, request: Request, record: RecordedRequest, key: str) -> Response:
        issue = self._issue_or_404(key)
        if isinstance(issue, Response):
            return issue
        wanted = (
            ((record.json or {}).get("transition") or {}).get("id")
            if isinstance(record.json, dict)
            else None
        )
        for tid, _name, to in self.transitions:
            if tid == wanted and to != issue.status:
                before, issue.status = issue.status, to
                self._queue(
                    payloads.status_changed(
                        key,
                        from_status=before,
                        to_status=to,
                        user=payloads.jira_user("Registry Bot", self.email),
                    )
                )
                return Response(status=204)
        return _error(400, [f"Transition id '{wanted}' is not valid for this issue."])


def _properties(value: Any) -> dict[str, Any]:
    """Entity properties sent with a create (`[{"key": ..., "value": ...}]`)."""
    if not isinstance(value, list):
        return {}
    return {str(p.get("key")): p.get("value") for p in value if isinstance(p, dict)}


def _plain(adf: dict) -> str:
    from core.jira.adf import to_plain_text

    return to_plain_text(adf)
