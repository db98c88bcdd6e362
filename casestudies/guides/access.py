"""Who may read or change a discussion guide, and how a guide is found for them.

A guide belongs to its author. Others read it only through its share link (an unguessable
token), and only while it is shared; everything else answers "not found", so the existence
of someone else's guide is not revealed.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casestudies.errors import NotFound
from casestudies.extensions import db
from casestudies.models import Case, Guide, GuideCase, Role, User, utcnow


class GuideNotFound(NotFound):
    """No such guide (or case or question in it) for this user: a 404, whether it exists is
    not revealed."""


def can_build_guides(user: User | None) -> bool:
    """Facilitators and above build guides (and read guides shared with them)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.has_role(Role.FACILITATOR))


def guide_query():
    return select(Guide).options(
        selectinload(Guide.segments),
        selectinload(Guide.items).selectinload(GuideCase.questions),
        selectinload(Guide.items)
        .selectinload(GuideCase.case)
        .options(
            selectinload(Case.questions),
            selectinload(Case.dimensions),
            selectinload(Case.teaching_note),
        ),
    )


def get_guide_for_viewer(guide_id: int, user: User) -> Guide:
    """The guide with this id if the user is its author; GuideNotFound otherwise. By id,
    only authors reach a guide: others need its share link (get_shared_guide)."""
    guide = db.session.scalar(guide_query().where(Guide.id == guide_id))
    if guide is None or not can_build_guides(user) or guide.author_id != user.id:
        raise GuideNotFound(guide_id)
    return guide


def get_shared_guide(token: str, user: User) -> Guide:
    """The guide shared under this link, for any facilitator or above; GuideNotFound if the
    link is unknown or sharing was stopped."""
    if not token or len(token) > 64 or not can_build_guides(user):
        raise GuideNotFound(token)
    guide = db.session.scalar(guide_query().where(Guide.share_token == token))
    if guide is None or guide.share_token is None or not secrets.compare_digest(guide.share_token, token):
        raise GuideNotFound(token)
    return guide


def guides_of(user: User) -> list[Guide]:
    """The user's own guides, most recently changed first."""
    return list(
        db.session.scalars(
            guide_query().where(Guide.author_id == user.id).order_by(Guide.updated_at.desc(), Guide.id.desc())
        )
    )


def guide_choices(user: User) -> list:
    """(id, title) of the user's guides, most recently changed first: for "Add to guide"."""
    if not can_build_guides(user):
        return []
    return list(
        db.session.execute(
            select(Guide.id, Guide.title)
            .where(Guide.author_id == user.id)
            .order_by(Guide.updated_at.desc(), Guide.id.desc())
        )
    )


def share_guide(guide: Guide) -> str:
    """Share read-only by link; returns the link's token (the same one while shared)."""
    if guide.share_token is None:
        guide.share_token = secrets.token_urlsafe(24)
        guide.shared_at = utcnow()
    return guide.share_token


def stop_sharing(guide: Guide) -> None:
    """The old link stops working at once; sharing again makes a new link."""
    guide.share_token = None
    guide.shared_at = None
