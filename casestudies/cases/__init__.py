"""The case itself, the core every domain depends on: its data (`data`), the limits of its
fields (`limits`), its vocabularies (`vocab`: dimensions, `Status`, `Consent`), the rules
every domain shares (`rules`) and the one revision writer (`revisions`, imported by name:
it needs the models, which need this package's vocabulary)."""

from casestudies.cases.data import CaseData, PlanStepData, QuestionData, TeachingNotesData
from casestudies.cases.limits import (
    MINUTES_MAX,
    MINUTES_MIN,
    SEAT_MAX_LENGTH,
    SETTING_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TEACHING_ITEM_MAX_LENGTH,
    TEACHING_ITEMS_MAX,
    TEACHING_TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    minutes_allowed,
)
from casestudies.cases.rules import consent_refusal, is_case_available
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
    "MINUTES_MAX",
    "MINUTES_MIN",
    "SEAT_MAX_LENGTH",
    "SETTING_MAX_LENGTH",
    "STATUSES",
    "STATUS_PHRASES",
    "SUMMARY_MAX_LENGTH",
    "TAG_MAX_LENGTH",
    "TEACHING_ITEMS_MAX",
    "TEACHING_ITEM_MAX_LENGTH",
    "TEACHING_TEXT_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "CaseData",
    "Consent",
    "PlanStepData",
    "QuestionData",
    "Status",
    "TeachingNotesData",
    "canonical_dimension",
    "consent_refusal",
    "is_case_available",
    "minutes_allowed",
]
