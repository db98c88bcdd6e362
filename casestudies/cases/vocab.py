"""Fixed vocabularies of a case: leadership dimensions, statuses, consent values.

They live here, not in the models, so that the case-file parser, the forms and the
models all read the same lists. Statuses and consent values are stored as their strings.
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


class Consent(enum.StrEnum):
    """Whether the people in a case agreed to its use; stored as its value, and equal to it."""

    OBTAINED = "obtained"
    NOT_NEEDED = "not-needed"
    PENDING = "pending"


STATUSES: tuple[str, ...] = tuple(status.value for status in Status)
CONSENTS: tuple[str, ...] = tuple(consent.value for consent in Consent)

# How a status and a consent value read in a sentence or a summary list.
STATUS_PHRASES: dict[str, str] = {
    Status.DRAFT: "is now a draft",
    Status.REVIEW: "is now in review",
    Status.PUBLISHED: "is now published",
}
CONSENT_LABELS: dict[str, str] = {
    Consent.OBTAINED: "Consent obtained",
    Consent.NOT_NEEDED: "Consent not needed",
    Consent.PENDING: "Consent pending",
}

DEFAULT_STATUS = Status.DRAFT.value
DEFAULT_CONSENT = Consent.NOT_NEEDED.value


def canonical_dimension(name: str) -> str | None:
    """The stored spelling of a dimension matched case-insensitively, or None."""
    wanted = " ".join(name.split()).casefold()
    for dimension in LEADERSHIP_DIMENSIONS:
        if dimension.casefold() == wanted:
            return dimension
    return None
