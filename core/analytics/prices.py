"""Model prices (USD per 1K tokens), matched by exact name or glob pattern, from a date on.

Which price applies to model M on day D: among the rows whose pattern matches M
(case-insensitive `fnmatch` glob: `*`, `?`, `[…]`) and whose `effective_from` ≤ D, the most
specific pattern wins (an exact name before any glob, then the glob with the most literal
characters), and for that pattern the latest `effective_from`. No match: the model is unpriced
and costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.actors import require_admin
from core.errors import NotFoundError, ValidationError
from core.models import ModelPrice

MICRO = Decimal("0.000001")
MAX_PRICE = Decimal("999999")
DEFAULT_EFFECTIVE_FROM = date(2024, 1, 1)
_WILDCARDS = set("*?[")

# Blended list prices; the 0003_analytics migration seeds the same rows. Edit with `analytics prices`.
DEFAULT_PRICES: list[tuple[str, str]] = [
    ("gpt-4o", "0.005000"),
    ("gpt-4o-mini*", "0.000300"),
    ("gpt-4.1*", "0.004000"),
    ("gpt-3.5-turbo*", "0.001000"),
    ("claude-3-5-sonnet*", "0.006000"),
    ("claude-sonnet-4*", "0.006000"),
    ("claude-3-haiku*", "0.000750"),
    ("gemini-1.5-pro*", "0.003500"),
    ("llama-3*", "0.000600"),
]


def cost_of(tokens: int, usd_per_1k: Decimal | None) -> Decimal:
    """Cost of `tokens` at a per-1K price, rounded half-up to a millionth of a dollar."""
    if usd_per_1k is None or not tokens:
        return Decimal("0.000000")
    return (Decimal(tokens) * usd_per_1k / 1000).quantize(MICRO, rounding=ROUND_HALF_UP)


def price_micro(usd_per_1k: Decimal | None) -> int | None:
    """A price in millionths of a dollar per 1K tokens (prices have at most 6 decimals)."""
    return None if usd_per_1k is None else int(usd_per_1k.scaleb(6))


def cost_micro(tokens: int, usd_micro_per_1k: int | None) -> int:
    """`cost_of` in millionths of a dollar, in integers: the same half-up rounding, no Decimal."""
    if usd_micro_per_1k is None:
        return 0
    return (tokens * usd_micro_per_1k + 500) // 1000


def micro_to_usd(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6) if micro else Decimal("0.000000")


def _specificity(pattern: str) -> tuple[int, int]:
    literal = sum(1 for ch in pattern if ch not in _WILDCARDS)
    return (0 if _WILDCARDS & set(pattern) else 1, literal)


@dataclass(frozen=True)
class PriceRow:
    pattern: str
    usd_per_1k: Decimal
    effective_from: date


class PriceBook:
    """All price rows in memory, answering `price(model, day)` with a cache."""

    def __init__(self, rows: list[PriceRow]) -> None:
        self._rows = sorted(
            rows, key=lambda r: (_specificity(r.pattern), r.effective_from), reverse=True
        )
        self._cache: dict[tuple[str, date], Decimal | None] = {}
        self._micro: dict[tuple[str, date], int | None] = {}

    @classmethod
    def load(cls, session: Session) -> PriceBook:
        return cls(
            [
                PriceRow(p.model_pattern, Decimal(p.usd_per_1k_tokens), p.effective_from)
                for p in session.scalars(select(ModelPrice))
            ]
        )

    def price(self, model: str | None, day: date) -> Decimal | None:
        if not model:
            return None
        key = (model, day)
        if key not in self._cache:
            name = model.lower()
            self._cache[key] = next(
                (
                    r.usd_per_1k
                    for r in self._rows
                    if r.effective_from <= day and fnmatchcase(name, r.pattern.lower())
                ),
                None,
            )
        return self._cache[key]

    def micro(self, model: str | None, day: date) -> int | None:
        """`price` in millionths of a dollar per 1K tokens (None: unpriced)."""
        key = (model or "", day)
        if key not in self._micro:
            self._micro[key] = price_micro(self.price(model, day))
        return self._micro[key]


def parse_price(value: Any) -> Decimal:
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            f"price {value!r} is not a number; give USD per 1K tokens, e.g. 0.005",
            field="usd_per_1k_tokens",
        ) from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise ValidationError(
            f"price must be between 0 and {MAX_PRICE} USD per 1K tokens", field="usd_per_1k_tokens"
        )
    if price != price.quantize(MICRO):
        raise ValidationError("price may have at most 6 decimal places", field="usd_per_1k_tokens")
    return price.quantize(MICRO)


def _check_pattern(pattern: str) -> str:
    pattern = (pattern or "").strip()
    if not pattern or len(pattern) > 120:
        raise ValidationError("model pattern must be 1 to 120 characters", field="model_pattern")
    return pattern


def price_dict(row: ModelPrice) -> dict[str, Any]:
    return {
        "id": row.id,
        "model_pattern": row.model_pattern,
        "usd_per_1k_tokens": str(Decimal(row.usd_per_1k_tokens).quantize(MICRO)),
        "effective_from": row.effective_from.isoformat(),
    }


def list_prices(session: Session) -> list[dict[str, Any]]:
    """Every price row: `[{"id", "model_pattern", "usd_per_1k_tokens" (str), "effective_from"}]`."""
    rows = session.scalars(
        select(ModelPrice).order_by(ModelPrice.model_pattern, ModelPrice.effective_from)
    )
    return [price_dict(r) for r in rows]


def set_price(
    session: Session,
    *,
    model_pattern: str,
    usd_per_1k_tokens: Decimal | str | float,
    effective_from: date | None = None,
    actor_email: str | None = None,
) -> dict[str, Any]:
    """Add or change the price of a model or pattern from a date on; re-costs stored rollups."""
    require_admin(session, actor_email=actor_email, action="set model prices")
    pattern = _check_pattern(model_pattern)
    price = parse_price(usd_per_1k_tokens)
    since = effective_from or DEFAULT_EFFECTIVE_FROM
    row = session.scalar(
        select(ModelPrice).where(
            ModelPrice.model_pattern == pattern, ModelPrice.effective_from == since
        )
    )
    if row is None:
        row = ModelPrice(model_pattern=pattern, usd_per_1k_tokens=price, effective_from=since)
        session.add(row)
    else:
        row.usd_per_1k_tokens = price
    session.flush()
    from core.analytics.rollup import reprice

    reprice(session, since=since)
    return price_dict(row)


def delete_price(
    session: Session,
    *,
    model_pattern: str,
    effective_from: date | None = None,
    actor_email: str | None = None,
) -> int:
    """Delete a pattern's prices (one date's, or all); re-costs stored rollups. Returns count."""
    require_admin(session, actor_email=actor_email, action="delete model prices")
    pattern = _check_pattern(model_pattern)
    query = select(ModelPrice).where(ModelPrice.model_pattern == pattern)
    if effective_from is not None:
        query = query.where(ModelPrice.effective_from == effective_from)
    rows = list(session.scalars(query))
    if not rows:
        raise NotFoundError(f"no price for '{pattern}'; see `analytics prices list`")
    since = min(r.effective_from for r in rows)
    session.execute(delete(ModelPrice).where(ModelPrice.id.in_([r.id for r in rows])))
    from core.analytics.rollup import reprice

    reprice(session, since=since)
    return len(rows)


def seed_default_prices(session: Session) -> int:
    """Add the default prices for patterns that have none yet. Returns how many were added."""
    have = set(session.scalars(select(ModelPrice.model_pattern)))
    added = 0
    for pattern, price in DEFAULT_PRICES:
        if pattern not in have:
            session.add(
                ModelPrice(
                    model_pattern=pattern,
                    usd_per_1k_tokens=Decimal(price),
                    effective_from=DEFAULT_EFFECTIVE_FROM,
                )
            )
            added += 1
    session.flush()
    return added
