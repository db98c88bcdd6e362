"""The case's vocabularies now live in `casestudies.cases.vocab`; this module re-exports
them so that `from casestudies.vocab import Status` keeps working (new code imports
`casestudies.cases`)."""

from casestudies.cases.vocab import (
    CONSENT_LABELS,
    CONSENTS,
    DEFAULT_CONSENT,
    DEFAULT_STATUS,
    LEADERSHIP_DIMENSIONS,
    STATUS_PHRASES,
    STATUSES,
    Consent,
    Status,
    canonical_dimension,
)

__all__ = [
    "CONSENTS",
    "CONSENT_LABELS",
    "DEFAULT_CONSENT",
    "DEFAULT_STATUS",
    "LEADERSHIP_DIMENSIONS",
    "STATUSES",
    "STATUS_PHRASES",
    "Consent",
    "Status",
    "canonical_dimension",
]
