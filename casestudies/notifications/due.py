"""The notifications that come from the calendar, not from a change: review dates near or
passed, handouts opening or closing tomorrow, the weekly digest. `flask notifications
send-due` runs them (daily, from cron); each carries a key, so a second run the same day,
or on another server, sends nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from casestudies.cases.vocab import Status
from casestudies.extensions import db
from casestudies.models import Case, Guide, NotificationPreference, User
from casestudies.notifications import digest, kinds
from casestudies.notifications.services import curators, notify, path_for


@dataclass
class DueReport:
    review_due: int = 0
    handouts: int = 0
    digests: int = 0


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def send_due(today: date) -> DueReport:
    report = DueReport()
    report.review_due = _review_dates(today)
    report.handouts = _handout_dates(today)
    report.digests = _digests(today)
    return report


def _review_dates(today: date) -> int:
    cases = db.session.scalars(
        select(Case)
        .where(
            Case.status.in_([Status.PUBLISHED, Status.REVIEW]),
            ~Case.is_deleted,
            Case.review_by <= today + timedelta(days=int(current_app.config["REVIEW_NOTICE_DAYS"])),
        )
        .order_by(Case.review_by, Case.id)
    ).all()
    if not cases:
        return 0
    people = curators()
    sent = 0
    for case in cases:
        overdue = case.review_by < today
        title = (
            f"“{case.title}” is overdue for review: its review date was {_long(case.review_by)}"
            if overdue
            else f"“{case.title}” is due for review by {_long(case.review_by)}"
        )
        sent += len(
            notify(
                people,
                kinds.REVIEW_DUE,
                title=title,
                body="Check that it is still accurate and set its next review date.",
                link=path_for("curate.manage", slug=case.slug),
                key=f"review-{'overdue' if overdue else 'due'}:{case.id}:{case.review_by.isoformat()}",
            )
        )
    return sent


def _handout_dates(today: date) -> int:
    tomorrow = today + timedelta(days=1)
    guides = db.session.scalars(
        select(Guide)
        .where(Guide.is_handout_on, (Guide.handout_opens_on == tomorrow) | (Guide.handout_closes_on == tomorrow))
        .order_by(Guide.id)
    ).all()
    sent = 0
    for guide in guides:
        for moment, day in (("opens", guide.handout_opens_on), ("closes", guide.handout_closes_on)):
            if day != tomorrow:
                continue
            sent += len(
                notify(
                    [guide.author],
                    kinds.HANDOUT_DATES,
                    title=f"Your handout for “{guide.title}” {moment} tomorrow, {_long(day)}",
                    body=(
                        "Learners with the link can open it from tomorrow."
                        if moment == "opens"
                        else "Learners can open it until the end of tomorrow."
                    ),
                    link=path_for("guides.builder", guide_id=guide.id),
                    key=f"handout-{moment}:{guide.id}:{day.isoformat()}",
                )
            )
    return sent


def _digests(today: date) -> int:
    """Only people who switched the digest on (it is off unless chosen)."""
    subscribers = db.session.scalars(
        select(User)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(
            NotificationPreference.kind == kinds.WEEKLY_DIGEST,
            NotificationPreference.channel != kinds.OFF,
            User.is_active,
        )
        .order_by(User.id)
    ).all()
    if not subscribers:
        return 0
    recent = digest.recent_cases(digest.window_start(today))
    key = digest.week_key(today)
    sent = 0
    for user in subscribers:
        items = digest.cases_for(user.id, recent)
        if not items:
            continue
        lines = [f"{'New' if item.is_new else 'Updated'}: {item.title} ({item.seat})" for item in items]
        count = len(items)
        sent += len(
            notify(
                [user],
                kinds.WEEKLY_DIGEST,
                title=f"This week: {count} new or updated case{'' if count == 1 else 's'} in your seats and themes",
                body="\n".join(lines),
                link=path_for("library.cases"),
                key=key,
            )
        )
    return sent
