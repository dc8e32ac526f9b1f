"""Verify Jira's `X-Hub-Signature: <method>=<hex>` over the raw request body."""

from __future__ import annotations

import hashlib
import hmac

SUPPORTED_METHODS = {"sha256": hashlib.sha256}


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The header value Jira sends for `body` (used by the tests and the benchmark)."""
    digest = hmac.new(secret.encode(), body, SUPPORTED_METHODS[method]).hexdigest()
    return f"{method}={digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True only for a well-formed header with a known method and a matching digest."""
    if not secret or not header or "=" not in header:
        return False
    method, _, received = header.strip().partition("=")
    algorithm = SUPPORTED_METHODS.get(method.strip().lower())
    if algorithm is None:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected.encode(), received.strip().lower().encode())
