"""The rules about a case that every domain shares, each written once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casestudies.cases.vocab import Consent, Status

if TYPE_CHECKING:
    from casestudies.models import Case

CONSENT_PENDING_REFUSAL = "a case whose consent is pending can't be published"


def consent_refusal(status: str, consent: str) -> str | None:
    """Why a case with this status can't have this consent (a published case can't have
    consent pending), or None. The editor, the workflow, restoring a revision and the
    case-file reader all ask here."""
    if status == Status.PUBLISHED and consent == Consent.PENDING:
        return CONSENT_PENDING_REFUSAL
    return None


def is_case_available(case: Case | None) -> bool:
    """Whether a guide or a reading list may show this case to anyone: published now (not a
    draft, not in the bin)."""
    return case is not None and case.is_published
