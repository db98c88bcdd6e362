"""Collections (themes) made by curators, and what the home page shows: the featured
collections and the most recently published cases, each with when it was published and
updated and an estimated reading time. Learners see published cases only."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies.cases.vocab import Status
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.models import Case, CaseStateChange, Collection, CollectionCase, User
from casestudies.ordering import move_row
from casestudies.slugs import is_valid_slug, slugify

TITLE_MAX = 200
INTRODUCTION_MAX = 2_000
MAX_CASES = 50
WORDS_PER_MINUTE = 200
RECENT_CASES = 6


class CollectionNotFound(NotFound):
    pass


class CollectionError(Refused):
    """A rule refused the change; the message is for the user."""


# -- cases as lists show them --------------------------------------------------------------
def reading_minutes(text: str) -> int:
    """Minutes to read a Markdown text at WORDS_PER_MINUTE, rounded up, at least 1. Words
    are counted on the source: its markup adds few, and rendering every body of a page
    (the home page shows up to a few dozen cases) would cost more than the estimate is worth."""
    words = len(text.split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def _published_at_query():
    """Per case, when it was last published: its latest move to published, or, for a case
    published as it was imported (no recorded move), when it was created."""
    moved = (
        select(CaseStateChange.case_id, func.max(CaseStateChange.created_at).label("at"))
        .where(CaseStateChange.to_status == Status.PUBLISHED.value)
        .group_by(CaseStateChange.case_id)
        .subquery()
    )
    published_at = func.coalesce(moved.c.at, Case.created_at).label("published_at")
    return select(Case, published_at).outerjoin(moved, moved.c.case_id == Case.id)


@dataclass(frozen=True)
class CaseCard:
    case: Case
    published_at: datetime
    updated_at: datetime
    reading_minutes: int


def _cards(rows) -> list[CaseCard]:
    cards = []
    for case, published_at in rows:
        updated = max(case.updated_at, published_at)
        if case.updated_on is not None:
            updated = max(updated, datetime.combine(case.updated_on, datetime.min.time()))
        cards.append(CaseCard(case, published_at, updated, reading_minutes(case.body)))
    return cards


def recently_published(limit: int = RECENT_CASES) -> list[CaseCard]:
    """The published cases most recently published, newest first."""
    query = _published_at_query().where(Case.is_published)
    published_at = query.selected_columns.published_at
    return _cards(db.session.execute(query.order_by(published_at.desc(), Case.id.desc()).limit(limit)).all())


def cards_for(case_ids: list[int]) -> dict[int, CaseCard]:
    """Cards of the published cases among case_ids."""
    if not case_ids:
        return {}
    rows = db.session.execute(_published_at_query().where(Case.id.in_(case_ids), Case.is_published)).all()
    return {card.case.id: card for card in _cards(rows)}


# -- reading collections -------------------------------------------------------------------
@dataclass(frozen=True)
class CollectionView:
    collection: Collection
    cards: list[CaseCard]  # published cases only, in the collection's order


def _collection_query():
    return select(Collection).options(selectinload(Collection.items).selectinload(CollectionCase.case))


def _view(collection: Collection, cards: dict[int, CaseCard]) -> CollectionView:
    return CollectionView(collection, [cards[item.case_id] for item in collection.items if item.case_id in cards])


def featured_collections() -> list[CollectionView]:
    collections = list(
        db.session.scalars(
            _collection_query().where(Collection.is_featured).order_by(Collection.position, Collection.id)
        )
    )
    cards = cards_for([item.case_id for collection in collections for item in collection.items])
    return [view for view in (_view(c, cards) for c in collections) if view.cards]


def all_collections() -> list[Collection]:
    return list(db.session.scalars(_collection_query().order_by(Collection.position, Collection.id)))


def get_collection(collection_id: int) -> Collection:
    collection = db.session.scalar(_collection_query().where(Collection.id == collection_id))
    if collection is None:
        raise CollectionNotFound(collection_id)
    return collection


def collection_for_reader(slug: str) -> CollectionView:
    collection = db.session.scalar(_collection_query().where(Collection.slug == slug))
    if collection is None:
        raise CollectionNotFound(slug)
    return _view(collection, cards_for([item.case_id for item in collection.items]))


# -- changing collections (curators) -------------------------------------------------------
@dataclass(frozen=True)
class CollectionDetails:
    title: str
    introduction: str = ""
    is_featured: bool = False


def _check(details: CollectionDetails) -> CollectionDetails:
    title = " ".join(details.title.split())
    if not title:
        raise CollectionError("Enter a title")
    if len(title) > TITLE_MAX:
        raise CollectionError(f"The title is at most {TITLE_MAX} characters")
    if len(details.introduction) > INTRODUCTION_MAX:
        raise CollectionError(f"The introduction is at most {INTRODUCTION_MAX} characters")
    return CollectionDetails(title, details.introduction.strip(), details.is_featured)


def _free_slug(title: str, slug: str | None = None) -> str:
    base = slug if slug and is_valid_slug(slug) else (slugify(title, 70) or "collection")
    candidate, number = base, 2
    while db.session.scalar(select(Collection.id).where(Collection.slug == candidate)) is not None:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def create_collection(details: CollectionDetails, *, slug: str | None = None) -> Collection:
    details = _check(details)
    count = db.session.scalar(select(func.count()).select_from(Collection)) or 0
    collection = Collection(
        slug=_free_slug(details.title, slug),
        title=details.title,
        introduction=details.introduction,
        is_featured=details.is_featured,
        position=count,
    )
    db.session.add(collection)
    db.session.flush()
    return collection


def update_collection(collection: Collection, details: CollectionDetails) -> None:
    details = _check(details)
    collection.title = details.title
    collection.introduction = details.introduction
    collection.is_featured = details.is_featured
    db.session.flush()


def delete_collection(collection: Collection) -> None:
    db.session.delete(collection)
    db.session.flush()


def add_case(collection: Collection, slug: str, viewer: User) -> Case:
    """Add the case with this slug at the end (any case a curator can see; learners will
    see it only while it is published)."""
    slug = slug.strip().strip("/").rsplit("/", 1)[-1]  # a pasted case address works too
    case = db.session.scalar(select(Case).where(Case.slug == slug)) if is_valid_slug(slug) else None
    if case is None or not viewer.can_view_case(case):
        raise CollectionError("There is no case with that address")
    if any(item.case_id == case.id for item in collection.items):
        raise CollectionError(f"“{case.title}” is already in this collection")
    if len(collection.items) >= MAX_CASES:
        raise CollectionError(f"A collection holds at most {MAX_CASES} cases")
    collection.items.append(CollectionCase(case=case, position=len(collection.items)))
    db.session.flush()
    return case


def _item(collection: Collection, item_id: int) -> CollectionCase:
    for item in collection.items:
        if item.id == item_id:
            return item
    raise CollectionNotFound(item_id)


def move_case(collection: Collection, item_id: int, direction: str) -> bool:
    item = _item(collection, item_id)
    moved = move_row(collection.items, collection.items.index(item), direction)
    db.session.flush()
    return moved


def remove_case(collection: Collection, item_id: int) -> str:
    item = _item(collection, item_id)
    title = item.case.title
    collection.items.remove(item)
    for position, row in enumerate(collection.items):
        row.position = position
    db.session.flush()
    return title


# -- the sample library's themes -----------------------------------------------------------
def load_sample_collections(path: Path) -> int:
    """Create the collections described in the sample library's collections.json (those
    whose slug is not taken yet); cases missing from the library are left out. Returns how
    many collections were created."""
    created = 0
    for spec in json.loads(path.read_text("utf-8")):
        if db.session.scalar(select(Collection.id).where(Collection.slug == spec["slug"])) is not None:
            continue
        collection = create_collection(
            CollectionDetails(spec["title"], spec.get("introduction", ""), bool(spec.get("featured"))),
            slug=spec["slug"],
        )
        cases = {case.slug: case for case in db.session.scalars(select(Case).where(Case.slug.in_(spec["cases"])))}
        for position, slug in enumerate(slug for slug in spec["cases"] if slug in cases):
            collection.items.append(CollectionCase(case=cases[slug], position=position))
        created += 1
    db.session.flush()
    return created


@dataclass(frozen=True)
class HomeSections:
    featured: list[CollectionView]
    recent: list[CaseCard]


def home_sections() -> HomeSections:
    """What the home page shows of the library: featured collections, recently published."""
    return HomeSections(featured_collections(), recently_published())
