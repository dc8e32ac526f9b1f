"""The audit trail: content hashes, the history hash chain, verification, point-in-time queries.

Kept light on purpose: `core.models` imports `core.audit.chain` so every session chains the
history rows it writes. Import `core.audit.verify` and `core.audit.production` directly.
"""

from core.audit.content import content_hash, content_hash_of

__all__ = ["content_hash", "content_hash_of"]
