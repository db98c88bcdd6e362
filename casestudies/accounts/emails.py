"""Email addresses of accounts: one that only looks like another's is refused.

"аlice@example.org" with a Cyrillic "а" is a different address from "alice@example.org" but
reads the same, so whoever holds it could pass for Alice (in lists, the audit log, a
shared guide's author). Two addresses clash when their *skeletons* are equal, in the spirit
of Unicode TR39's skeleton(): NFKC, casefold, then every non-ASCII character that the
Unicode confusables data (through confusable-homoglyphs) says looks like an ASCII one is
replaced by it. ASCII characters are left alone, so "rn" and "m", "l" and "1" still differ:
those are real, different addresses people have."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs.confusables import confusables_data
from sqlalchemy import func, select

from casestudies.extensions import db
from casestudies.models import User


@lru_cache(maxsize=4096)
def _ascii_lookalike(ch: str) -> str:
    """The ASCII character `ch` looks like, or `ch` itself."""
    if ch.isascii():
        return ch
    seen = {ch}
    frontier = [ch]
    for _ in range(2):  # a step further: τ -> ᴛ -> T
        following = []
        for current in frontier:
            for glyph in confusables_data.get(current, []):
                target = glyph["c"]
                if len(target) == 1 and target.isascii() and target.isprintable():
                    return target.lower()
                if target not in seen:
                    seen.add(target)
                    following.append(target)
        frontier = following
    return ch


def skeleton(email: str) -> str:
    text = unicodedata.normalize("NFKC", email).casefold()
    return "".join(_ascii_lookalike(ch) for ch in text)


def lookalike_of(email: str, *, exclude: User | None = None) -> User | None:
    """Another account whose email differs from `email` but has the same skeleton."""
    wanted = skeleton(email)
    plain = email.strip().lower()
    query = select(User.id, User.email)
    if exclude is not None and exclude.id is not None:
        query = query.where(User.id != exclude.id)
    # The skeleton is computed in Python: a few thousand accounts at most.
    for user_id, other in db.session.execute(query.where(func.lower(User.email) != plain)):
        if skeleton(other) == wanted:
            return db.session.get(User, user_id)
    return None


def lookalike_message(email: str) -> str:
    return (
        f"{email} looks the same as the address of an existing account but uses different "
        "characters (such as a Cyrillic or Greek letter): use the person’s real address"
    )
