"""POST a deployed agent version to DEPLOY_WEBHOOK_URL, signed the Standard Webhooks way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

SECRET_PREFIX = "whsec_"


def secret_bytes(secret: str) -> bytes:
    """A `whsec_<base64>` secret is the base64 key (Standard Webhooks); anything else is raw."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :])
    return secret.encode()


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, *, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> bool:
    """Check a Standard Webhooks delivery (for receivers and tests)."""
    lower = {key.lower(): value for key, value in headers.items()}
    try:
        message_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = sign(secret, message_id=message_id, timestamp=timestamp, body=body)
    offered = lower.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


@dataclass(frozen=True)
class DeployResult:
    ok: bool
    status: int | None
    message_id: str
    error: str = ""
    retry_after: float | None = None  # what the target asked (429/503 `Retry-After`)


def send(
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    timeout: float = 10.0,
    message_id: str | None = None,
) -> DeployResult:
    """POST `payload` once; only a 2xx answer counts as delivered.

    Retries of one notice pass the same `message_id` (receivers de-duplicate on it)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    message_id = message_id or new_message_id()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        headers["webhook-signature"] = sign(
            secret, message_id=message_id, timestamp=timestamp, body=body
        )
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return DeployResult(
            False, None, message_id, f"deploy webhook unreachable ({type(exc).__name__})"
        )
    if 200 <= response.status_code < 300:
        return DeployResult(True, response.status_code, message_id)
    from core.jira.client import parse_retry_after

    return DeployResult(
        False,
        response.status_code,
        message_id,
        f"deploy webhook answered {response.status_code}: {response.text.strip()[:200]}",
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def deploy_payload(*, agent_id: int, version, actor: str) -> dict[str, Any]:  # noqa: ANN001
    """The Standard Webhooks envelope for one deployed agent version (an AgentVersion)."""
    return {
        "type": "agent.deployed",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": {
            "agent_id": agent_id,
            "version": version.version,
            "name": version.name,
            "description": version.description,
            "model": version.model,
            "system_prompt": version.system_prompt,
            "tools": list(version.tools or []),
            "code": version.code,
            "code_filename": version.code_filename,
            "approved_by": version.approved_by,
            "approved_at": version.approved_at.isoformat() if version.approved_at else None,
            "jira_issue_key": version.jira_issue_key,
            "deployed_by": actor,
        },
    }
