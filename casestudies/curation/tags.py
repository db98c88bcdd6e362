"""Tag services: list tags with their use, rename, merge two into one, delete an unused one.

A tag change changes the case file of every case that carries the tag, so each such case
gets a new revision (the old revisions are snapshots and are never edited) and a new
version number (an editor opened before the change must not silently bring the old tag
back). The search index follows by itself: the outbox listener re-queues every case
carrying a changed Tag row and every case whose tags changed. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.cases.limits import TAG_MAX_LENGTH
from casestudies.cases.revisions import record_revision
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.models import Case, Tag, User, case_tag


class TagError(Refused):
    """A rule refused the change; the message is for the user."""


class TagNotFound(NotFound):
    """No tag with that id."""


class TagNameTaken(TagError):
    """Renaming onto another tag's name: that is a merge."""

    def __init__(self, tag: Tag, other: Tag) -> None:
        super().__init__(
            f"There is already a tag “{other.name}”. Tag names are matched without regard to capitals, "
            f"so to combine the two, merge “{tag.name}” into “{other.name}” instead."
        )
        self.other = other


@dataclass(frozen=True)
class TagUse:
    tag: Tag
    cases: int  # live cases (any status) carrying the tag
    binned: int  # cases in the bin carrying it

    @property
    def is_unused(self) -> bool:
        return self.cases == 0 and self.binned == 0


def _counts(deleted: bool) -> dict[int, int]:
    in_bin = Case.is_deleted if deleted else ~Case.is_deleted
    rows = db.session.execute(
        select(case_tag.c.tag_id, func.count())
        .join(Case, Case.id == case_tag.c.case_id)
        .where(in_bin)
        .group_by(case_tag.c.tag_id)
    )
    return dict(rows.tuples().all())


def list_tags() -> list[TagUse]:
    """Every tag, alphabetically, with how many cases carry it."""
    live, binned = _counts(False), _counts(True)
    tags = db.session.scalars(select(Tag).order_by(Tag.key)).all()
    return [TagUse(tag, live.get(tag.id, 0), binned.get(tag.id, 0)) for tag in tags]


def get_tag(tag_id: int) -> Tag:
    tag = db.session.get(Tag, tag_id)
    if tag is None:
        raise TagNotFound(tag_id)
    return tag


def tag_use(tag: Tag) -> TagUse:
    live = sum(1 for case in tag.cases if not case.is_deleted)
    return TagUse(tag, live, len(tag.cases) - live)


def clean_name(name: str) -> str:
    """A tag name as the case format would store it, or TagError saying why not."""
    name = " ".join(name.split())  # trimmed, and no line breaks or runs of spaces
    if not name:
        raise TagError("Enter a tag name")
    if len(name) > TAG_MAX_LENGTH:
        raise TagError(f"A tag name must be {TAG_MAX_LENGTH} characters or fewer (this one has {len(name)})")
    if "," in name:
        raise TagError("A tag name can't contain a comma: the case editor separates tags with commas")
    return name


def _cases_with(tag: Tag) -> list[Case]:
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.id.in_(select(case_tag.c.case_id).where(case_tag.c.tag_id == tag.id)))
            .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
            .order_by(Case.id)
        )
    )


def _record(actor: User | None, action: str, cases: list[Case], detail: str) -> None:
    """One audit event per changed case (so the log filtered by case shows it), or one
    event naming no case when no case carries the tag."""
    for case in cases:
        audit.record(actor, action, case=case, detail=detail)
    if not cases:
        audit.record(actor, action, detail=detail)


def rename_tag(tag: Tag, new_name: str, actor: User | None) -> list[Case]:
    """Rename a tag everywhere. Changing only its capitals is a rename too; a name another
    tag already has (in any capitals) is refused with TagNameTaken. Returns the changed cases."""
    name = clean_name(new_name)
    if name == tag.name:
        return []
    key = name.casefold()
    if key != tag.key:
        other = db.session.scalar(select(Tag).where(Tag.key == key))
        if other is not None:
            raise TagNameTaken(tag, other)
    old = tag.name
    cases = _cases_with(tag)
    tag.name, tag.key = name, key
    detail = f"Tag “{old}” renamed to “{name}”"
    for case in cases:
        record_revision(case, actor=actor, summary=detail)
    _record(actor, "tag-rename", cases, detail)
    return cases


def merge_tags(source: Tag, target: Tag, actor: User | None) -> list[Case]:
    """Give every case carrying `source` the tag `target` instead, then delete `source`.
    Returns the changed cases."""
    if source.id == target.id:
        raise TagError("Choose a different tag to merge into")
    cases = _cases_with(source)
    detail = f"Tag “{source.name}” merged into “{target.name}”"
    for case in cases:
        case.tags = [t for t in case.tags if t.id != source.id] + ([] if target in case.tags else [target])
        record_revision(case, actor=actor, summary=detail)
    _record(actor, "tag-merge", cases, detail)
    db.session.flush()  # the cases' tag rows go first, then the tag itself
    db.session.delete(source)
    return cases


def delete_tag(tag: Tag, actor: User | None) -> None:
    """Delete a tag that no case carries, not even one in the bin."""
    use = tag_use(tag)
    if not use.is_unused:
        where = f"{use.cases} case{'s' if use.cases != 1 else ''}" if use.cases else ""
        if use.binned:
            where += (" and " if where else "") + f"{use.binned} case{'s' if use.binned != 1 else ''} in the bin"
        raise TagError(
            f"“{tag.name}” is still used by {where}. Only an unused tag can be deleted: "
            "merge it into another tag instead."
        )
    audit.record(actor, "tag-delete", detail=f"Tag “{tag.name}” deleted")
    db.session.delete(tag)
