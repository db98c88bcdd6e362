"""The one slug function of the project."""

from __future__ import annotations

import re
import unicodedata

SLUG_MAX_LENGTH = 80
# The case format allows exactly these characters; slugify() produces a tidier subset.
SLUG_PATTERN = re.compile(r"^[a-z0-9-]+$")


def slugify(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """Lower-case ASCII letters, digits and single hyphens, at most max_length long.

    Accents are folded ("Café" -> "cafe"); anything else becomes a hyphen. Returns ""
    when nothing usable is left, so callers can report it.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rstrip("-")
    return slug


def is_valid_slug(slug: str) -> bool:
    """Whether slug is lower-case letters, digits and hyphens, 1 to 80 characters."""
    return 0 < len(slug) <= SLUG_MAX_LENGTH and bool(SLUG_PATTERN.match(slug))
