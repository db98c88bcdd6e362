"""How much one learner may keep in the notebook, and add in a day: enough for years of
revalidation (the NMC asks for five reflections and 35 hours of CPD every three years),
small enough that the notebook's PDF and exports stay quick and no one account can fill
the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from casestudies.extensions import db
from casestudies.models import CpdEntry, Reflection, User, utcnow

MAX_REFLECTIONS = 500
MAX_CPD_ENTRIES = 1000
MAX_NEW_PER_DAY = 50  # of each kind


def _problem(owner: User, model: type[Reflection] | type[CpdEntry], most: int, what: str) -> str | None:
    owned = model.owner_id == owner.id
    total = db.session.scalar(select(func.count()).where(owned)) or 0
    if total >= most:
        return f"Your notebook holds {total:,} {what}, the most it can keep: delete some you no longer need first"
    since = utcnow() - timedelta(days=1)
    today = db.session.scalar(select(func.count()).where(owned, model.created_at >= since)) or 0
    if today >= MAX_NEW_PER_DAY:
        return f"You have added {MAX_NEW_PER_DAY} {what} in the last 24 hours, the most for a day: add more tomorrow"
    return None


def new_reflection_problem(owner: User) -> str | None:
    """Why the owner can't add another reflection now, or None."""
    return _problem(owner, Reflection, MAX_REFLECTIONS, "reflections")


def new_cpd_entry_problem(owner: User) -> str | None:
    """Why the owner can't add another CPD entry now, or None."""
    return _problem(owner, CpdEntry, MAX_CPD_ENTRIES, "CPD entries")
