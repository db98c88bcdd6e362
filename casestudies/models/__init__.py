"""Typed SQLAlchemy models, a module per domain (as Zulip's zerver/models/), re-exported
here so that `from casestudies.models import Case, User` is the one way to import them.
Relationships name classes of other modules by string and resolve through the registry."""

from __future__ import annotations

from casestudies.models.accounts import LoginAttempt, Role, User, UserSession, password_hash_method
from casestudies.models.audit import AuditEvent
from casestudies.models.base import utcnow
from casestudies.models.cases import (
    Case,
    CaseRevision,
    CaseStateChange,
    Dimension,
    Question,
    Tag,
    TeachingNote,
    case_dimension,
    case_tag,
)
from casestudies.models.guides import Guide, GuideCase, GuideQuestion, GuideSegment, HandoutVisit
from casestudies.models.insights import (
    CaseFeedback,
    CaseReadRollup,
    CaseReadWeek,
    ReadSeen,
    SearchClick,
    SearchDayTotal,
    SearchGapRollup,
    SearchOutcome,
    SearchPromotion,
    SearchTerm,
    WantedCase,
)
from casestudies.models.jobs import Job
from casestudies.models.learning import (
    Collection,
    CollectionCase,
    CpdEntry,
    ReadingList,
    ReadingListItem,
    Reflection,
    cpd_entry_reflection,
)
from casestudies.models.notifications import DigestTopic, Notification, NotificationPreference
from casestudies.models.reports import CaseReport
from casestudies.models.search import SearchJournal, SearchLog, SearchNode

__all__ = [
    "AuditEvent",
    "Case",
    "CaseFeedback",
    "CaseReadRollup",
    "CaseReadWeek",
    "CaseReport",
    "CaseRevision",
    "CaseStateChange",
    "Collection",
    "CollectionCase",
    "CpdEntry",
    "DigestTopic",
    "Dimension",
    "Guide",
    "GuideCase",
    "GuideQuestion",
    "GuideSegment",
    "HandoutVisit",
    "Job",
    "LoginAttempt",
    "Notification",
    "NotificationPreference",
    "Question",
    "ReadSeen",
    "ReadingList",
    "ReadingListItem",
    "Reflection",
    "Role",
    "SearchClick",
    "SearchDayTotal",
    "SearchGapRollup",
    "SearchJournal",
    "SearchLog",
    "SearchNode",
    "SearchOutcome",
    "SearchPromotion",
    "SearchTerm",
    "Tag",
    "TeachingNote",
    "User",
    "UserSession",
    "WantedCase",
    "case_dimension",
    "case_tag",
    "cpd_entry_reflection",
    "password_hash_method",
    "utcnow",
]
