"""What a role change takes away: a user whose new role can't share lists or build guides
keeps their lists and guides, but not the links that let others open them. Without this a
facilitator demoted to learner kept a shared list (others still opened it) and guides with
share links and handouts on, while every page to stop them answered 403."""

from __future__ import annotations

from sqlalchemy import select

from casestudies.audit import services as audit
from casestudies.extensions import db
from casestudies.models import Guide, ReadingList, Role, User


def end_shares_beyond_role(user: User, actor: User | None) -> int:
    """End every share the user's (new) role may not own, each recorded in the audit log
    (by `actor`: the admin, or None for the organisation's groups at single sign-on).
    Returns how many were ended."""
    why = f"{user.name} <{user.email}> is now {user.role.value}"
    ended = 0
    # Sharing lists and building guides both need a facilitator (learning.lists.can_share_lists,
    # guides.access.can_build_guides).
    if user.has_role(Role.FACILITATOR):
        return 0
    for reading_list in db.session.scalars(
        select(ReadingList).where(ReadingList.owner_id == user.id, ReadingList.share_token.is_not(None))
    ):
        reading_list.share_token, reading_list.shared_at = None, None
        audit.record(
            actor,
            "share-end",
            detail=f"{why}: reading list {reading_list.id} “{reading_list.title}” no longer shared",
        )
        ended += 1
    for guide in db.session.scalars(select(Guide).where(Guide.author_id == user.id)):
        if guide.share_token is not None:
            guide.share_token, guide.shared_at = None, None
            audit.record(
                actor,
                "share-end",
                detail=f"{why}: guide {guide.id} “{guide.title}” no longer shared by link",
            )
            ended += 1
        if guide.is_handout_on:
            guide.is_handout_on = False
            audit.record(
                actor,
                "share-end",
                detail=f"{why}: handout of guide {guide.id} “{guide.title}” switched off",
            )
            ended += 1
    db.session.flush()
    return ended
