"""Fixed vocabularies of the domain: leadership dimensions, statuses, consent values.

They live here, not in the models, so that the case-file parser, the forms and the
models all read the same lists.
"""

from __future__ import annotations

import enum

# The nine dimensions of the NHS Healthcare Leadership Model, in the model's order and
# with the spelling the case format stores.
LEADERSHIP_DIMENSIONS: tuple[str, ...] = (
    "Inspiring shared purpose",
    "Leading with care",
    "Evaluating information",
    "Connecting our service",
    "Sharing the vision",
    "Engaging the team",
    "Holding to account",
    "Developing capability",
    "Influencing for results",
)


class Status(enum.StrEnum):
    """Where a case is in its workflow; stored as its value, and equal to it."""

    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"


STATUSES: tuple[str, ...] = tuple(status.value for status in Status)
CONSENTS: tuple[str, ...] = ("obtained", "not-needed", "pending")

# How a status and a consent value read in a sentence or a summary list.
STATUS_PHRASES: dict[str, str] = {
    Status.DRAFT: "is now a draft",
    Status.REVIEW: "is now in review",
    Status.PUBLISHED: "is now published",
}
CONSENT_LABELS: dict[str, str] = {
    "obtained": "Consent obtained",
    "not-needed": "Consent not needed",
    "pending": "Consent pending",
}

DEFAULT_STATUS = Status.DRAFT.value
DEFAULT_CONSENT = "not-needed"


def canonical_dimension(name: str) -> str | None:
    """The stored spelling of a dimension matched case-insensitively, or None."""
    wanted = " ".join(name.split()).casefold()
    for dimension in LEADERSHIP_DIMENSIONS:
        if dimension.casefold() == wanted:
            return dimension
    return None
