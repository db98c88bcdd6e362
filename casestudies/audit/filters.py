"""The audit log page's filters: reading them from the URL and the choices they offer.

The log itself (recording and listing events) is audit.py; this module only turns query
arguments into AuditFilters, with a message per argument that can't be used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from casestudies.audit.services import ACTIONS, AuditFilters
from casestudies.extensions import db
from casestudies.models import AuditEvent, User
from casestudies.params import parse_int

ACTION_LABELS: dict[str, str] = {
    "create": "Case created",
    "edit": "Case edited",
    "state": "Case moved between draft, review and published",
    "import": "Case imported",
    "delete": "Case moved to the bin",
    "restore": "Case restored from the bin",
    "purge": "Case deleted for good",
    "revision-restore": "Old revision restored",
    "tag-rename": "Tag renamed",
    "tag-merge": "Tags merged",
    "tag-delete": "Tag deleted",
    "user-create": "Account created",
    "user-role": "Role changed",
    "user-active": "Account deactivated or reactivated",
    "user-password": "Password changed",
    "user-details": "Name or email address changed",
    "user-sign-in-method": "Account moved to single sign-on",
    "share-end": "Sharing ended by a role change",
    "review-override": "Two-person rule overridden by an admin",
    "change-submit": "Change to a live case sent for review",
    "change-publish": "Change to a live case published",
    "change-return": "Change to a live case returned",
    "report-create": "Problem reported by a reader",
    "report-resolve": "Reported problem resolved",
    "handout-on": "Handout switched on",
    "handout-off": "Handout switched off",
    "password-reset": "Password reset link asked for or sent",
    "search-term-add": "Synonym or concept added",
    "search-term-remove": "Synonym or concept removed",
    "promotion-add": "Case recommended for a search",
    "promotion-remove": "Recommendation removed",
    "wanted-add": "Gap added to wanted cases",
    "wanted-remove": "Wanted case removed",
    "sign-in": "Signed in",
    "sign-in-failed": "Failed sign-in",
    "sign-out": "Signed out",
    "session-end": "Session ended by an admin",
    "sign-in-refused": "Single sign-on refused",
    "export": "Export downloaded",
    "list-share": "Reading list shared",
    "list-unshare": "Reading list sharing stopped",
}


@dataclass(frozen=True)
class AuditQuery:
    filters: AuditFilters
    values: dict[str, str]  # the arguments as given, to show in the form again
    errors: dict[str, str] = field(default_factory=dict)  # argument -> message

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if v}


def parse_audit_args(args: Mapping[str, str]) -> AuditQuery:
    values = {name: (args.get(name) or "").strip()[:40] for name in ("person", "case", "action", "since", "until")}
    errors: dict[str, str] = {}
    person = parse_int(values["person"]) if values["person"] else None
    if values["person"] and person is None:
        errors["person"] = "Choose a person from the list"
    case = parse_int(values["case"]) if values["case"] else None
    if values["case"] and case is None:
        errors["case"] = "Choose a case from the list"
    action = values["action"] or None
    if action is not None and action not in ACTIONS:
        errors["action"] = "Choose a kind of change from the list"
    dates: dict[str, date | None] = {}
    for name, label in (("since", "From"), ("until", "To")):
        dates[name] = None
        if values[name]:
            try:
                dates[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = f"“{label}” must be a real date, like 2026-03-01"
    since, until = dates["since"], dates["until"]
    if since and until and since > until:
        errors["until"] = "“To” must be the same as or after “From”"
    filters = AuditFilters(actor_id=person, case_id=case, action=action, since=since, until=until)
    return AuditQuery(filters, values, errors)


def person_choices() -> list[tuple[int, str]]:
    """Every account, as the log's person filter offers them."""
    users = db.session.scalars(select(User).order_by(func.lower(User.name), User.email))
    return [(user.id, f"{user.name} <{user.email}>") for user in users]


def case_choices() -> list[tuple[int, str]]:
    """Every case the log mentions, by its latest label (a case deleted for good too)."""
    latest = (
        select(AuditEvent.case_id, func.max(AuditEvent.id).label("last"))
        .where(AuditEvent.case_id.is_not(None))
        .group_by(AuditEvent.case_id)
        .subquery()
    )
    rows = db.session.execute(
        select(AuditEvent.case_id, AuditEvent.case_label).join(latest, AuditEvent.id == latest.c.last)
    ).all()
    return sorted(((case_id, label or f"case {case_id}") for case_id, label in rows), key=lambda r: r[1].casefold())
