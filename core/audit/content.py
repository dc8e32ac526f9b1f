"""The content hash of an agent version: SHA-256 over a canonical JSON of what was reviewed.

Canonical JSON: the six fields below as an object with sorted keys, UTF-8, no insignificant
whitespace, non-ASCII kept as is (`ensure_ascii=False`). Anyone can recompute it:

    sha256(json.dumps({...}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
           .encode("utf-8")).hexdigest()
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

CONTENT_FIELDS = ("name", "description", "model", "system_prompt", "tools", "code")


def canonical_content(
    *, name: str, description: str, model: str, system_prompt: str, tools: Any, code: str
) -> bytes:
    document = {
        "name": name or "",
        "description": description or "",
        "model": model or "",
        "system_prompt": system_prompt or "",
        "tools": list(tools or []),
        "code": code or "",
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def content_hash(
    *, name: str, description: str, model: str, system_prompt: str, tools: Any, code: str
) -> str:
    """64 lowercase hex characters."""
    return hashlib.sha256(
        canonical_content(
            name=name,
            description=description,
            model=model,
            system_prompt=system_prompt,
            tools=tools,
            code=code,
        )
    ).hexdigest()


def content_hash_of(item: Any) -> str:
    """The hash of anything with the six content attributes (an Agent or an AgentVersion)."""
    return content_hash(**{field: getattr(item, field) for field in CONTENT_FIELDS})
