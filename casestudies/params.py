"""Numbers and redirect targets that arrive in URLs and forms: one parser for each.

`str.isdigit()` accepts "²" and "٣", and `int()` accepts the second and refuses the first;
the database refuses numbers past its integer range. Everything typed by a person goes
through these functions, so odd digits and huge numbers give a clear 400 or 404, never a 500.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import BaseConverter, ValidationError

from casestudies.cases.limits import MINUTES_MAX, MINUTES_MIN

# The largest value of an INTEGER column on PostgreSQL (SQLite's are larger).
DB_INT_MAX = 2**31 - 1


def parse_int(value: str | None, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int | None:
    """The whole number written in ASCII digits, if it lies in [minimum, maximum]; else None."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > len(str(maximum)) or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def parse_minutes(value: str, *, low: int = MINUTES_MIN, high: int = MINUTES_MAX, what: str = "the minutes") -> int:
    """Minutes typed by a person: a whole number from low to high, or ValueError saying so."""
    number = parse_int(value, minimum=low, maximum=high)
    if number is None:
        raise ValueError(f"Enter {what} as a whole number from {low} to {high}")
    return number


def parse_page(value: str | None, *, last: int = 10_000) -> int:
    """A page number from the query string: 1 for anything that is not a page number."""
    return parse_int(value, minimum=1, maximum=last) or 1


# A redirect target longer than this is no page of this site; it would only fill the session.
MAX_LOCAL_TARGET = 2000


def safe_local_target(target: str | None) -> str | None:
    """The target if it is a path on this site (no scheme, no host, no `//host` or `\\host`
    tricks, no control characters, at most MAX_LOCAL_TARGET characters); None otherwise.
    The one check of every redirect target that comes from a request."""
    if not target or len(target) > MAX_LOCAL_TARGET:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    return target


class IdConverter(BaseConverter):
    """`<int:...>` in every route: ASCII digits within the database's range, else 404."""

    regex = r"[0-9]{1,10}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_int(value, minimum=0)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))
