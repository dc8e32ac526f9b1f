"""Which passwords people may choose, after NIST SP 800-63B (memorized secrets).

At least `MIN_LENGTH` characters (Unicode, NFKC-normalised, spaces allowed), at most
`MAX_LENGTH`; no composition rules. Refused: a password on the common-passwords list shipped in
`core/data/common-passwords.txt` (see core/data/README.md for its source and licence),
one character repeated or a plain run like `abcdefgh`, and one that is the account's email or
its name. The demo accounts of `seed-demo` are the documented exception (known password).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from core.errors import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 256  # NIST: allow at least 64; longer only costs hashing time
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


def check_password(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """Raise a ValidationError (field `password`) saying why `password` may not be used."""
    normalised = unicodedata.normalize("NFKC", password or "")
    if len(normalised) < MIN_LENGTH:
        raise ValidationError(
            f"password must be at least {MIN_LENGTH} characters", field="password"
        )
    if len(normalised) > MAX_LENGTH:
        raise ValidationError(f"password must be at most {MAX_LENGTH} characters", field="password")
    folded = normalised.casefold()
    if folded in common_passwords():
        raise ValidationError(
            "password is on the list of commonly used passwords; choose another "
            "(several unrelated words make a strong one)",
            field="password",
        )
    if _is_run(folded):
        raise ValidationError(
            "password is one repeated character or a plain sequence; choose another",
            field="password",
        )
    personal = {p.strip().casefold() for p in (email, name, (email or "").split("@")[0]) if p}
    if folded in personal - {""}:
        raise ValidationError("password must not be the account's email or name", field="password")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (loaded once per process, ~8,000 entries)."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n").casefold() for line in handle if line.strip())


def _is_run(text: str) -> bool:
    """One character repeated, or each character one code point after (or before) the last."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps <= {0} or steps == {1} or steps == {-1}
