"""What a curator does from a gap: add a synonym group or concept, recommend (promote) a
case for the search, add the gap to the wanted cases list. Each is audited and undone by
removing it (also audited); nothing is edited in place, so the rows keep who and when."""

from __future__ import annotations

from sqlalchemy import select

from casestudies.audit import services as audit
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.insights.recording import display_text, query_key
from casestudies.insights.vocabulary import VocabularyError, concept_text, synonym_text
from casestudies.library.services import visible_statuses
from casestudies.models import Case, SearchPromotion, SearchTerm, User, WantedCase, utcnow

MAX_PROMOTED = 3  # recommended cases shown for one search


class ActionRefused(Refused):
    pass


def add_synonym(actor: User, gap: str, expressions: list[str]) -> SearchTerm:
    try:
        text = synonym_text(expressions)
    except VocabularyError as error:
        raise ActionRefused(str(error)) from error
    return _add_term(actor, gap, "synonym", text)


def add_concept(actor: User, gap: str, preferred: str, synonyms: str, narrower: str, related: str) -> SearchTerm:
    try:
        text = concept_text(preferred, synonyms, narrower, related)
    except VocabularyError as error:
        raise ActionRefused(str(error)) from error
    return _add_term(actor, gap, "concept", text)


def _add_term(actor: User, gap: str, kind: str, text: str) -> SearchTerm:
    term = SearchTerm(kind=kind, text=text, query_key=query_key(gap) if gap else "", created_by_id=actor.id)
    db.session.add(term)
    db.session.flush()
    audit.record(actor, "search-term-add", detail=f"{kind.capitalize()} {term.id} for “{gap}”: {text}")
    return term


def promote(actor: User, gap: str, slug: str) -> SearchPromotion:
    case = db.session.scalar(select(Case).where(Case.slug == slug.strip(), ~Case.is_deleted))
    if case is None:
        raise ActionRefused(f"No case has the address “{slug}”: give the last part of the case's address.")
    if not case.is_published:
        raise ActionRefused("Only a published case can be recommended: readers can't see this one.")
    key = query_key(gap)
    active = list(
        db.session.scalars(
            select(SearchPromotion).where(SearchPromotion.query_key == key, SearchPromotion.removed_at.is_(None))
        )
    )
    if any(p.case_id == case.id for p in active):
        raise ActionRefused("This case is already recommended for this search.")
    if len(active) >= MAX_PROMOTED:
        raise ActionRefused(f"At most {MAX_PROMOTED} cases can be recommended for one search.")
    promotion = SearchPromotion(query_key=key, display=display_text(gap), case_id=case.id, created_by_id=actor.id)
    db.session.add(promotion)
    db.session.flush()
    audit.record(actor, "promotion-add", case=case, detail=f"Recommended {promotion.id} for “{gap}”")
    return promotion


def add_wanted(actor: User, gap: str, note: str) -> WantedCase:
    key = query_key(gap)
    if db.session.scalar(select(WantedCase.id).where(WantedCase.query_key == key, WantedCase.removed_at.is_(None))):
        raise ActionRefused("This search is already on the wanted cases list.")
    wanted = WantedCase(query_key=key, display=display_text(gap), note=note.strip()[:2000], created_by_id=actor.id)
    db.session.add(wanted)
    db.session.flush()
    audit.record(actor, "wanted-add", detail=f"Wanted case {wanted.id} for “{gap}”")
    return wanted


UNDOABLE = {"term": SearchTerm, "promotion": SearchPromotion, "wanted": WantedCase}
REMOVE_ACTIONS = {"term": "search-term-remove", "promotion": "promotion-remove", "wanted": "wanted-remove"}


def undo(actor: User, kind: str, item_id: int) -> str:
    """Remove what an action added; the text the audit log and the message show."""
    model = UNDOABLE.get(kind)
    item = db.session.get(model, item_id) if model is not None else None
    if item is None or item.removed_at is not None:
        raise NotFound(f"{kind} {item_id}")
    item.removed_at = utcnow()
    if isinstance(item, SearchTerm):
        item.removed_by_id = actor.id
        label = f"{item.kind.capitalize()} “{item.text.splitlines()[0]}”"
    elif isinstance(item, SearchPromotion):
        label = f"Recommendation of “{item.case.title}” for “{item.display}”"
    else:
        label = f"Wanted case for “{item.display}”"
    audit.record(
        actor, REMOVE_ACTIONS[kind], case=getattr(item, "case", None), detail=f"{label} removed ({kind} {item_id})"
    )
    return label


def promoted_cases(viewer: User, text: str) -> list[Case]:
    """The cases recommended for a search that the viewer may see, oldest recommendation first."""
    if not text.strip():
        return []
    return list(
        db.session.scalars(
            select(Case)
            .join(SearchPromotion, SearchPromotion.case_id == Case.id)
            .where(
                SearchPromotion.query_key == query_key(text),
                SearchPromotion.removed_at.is_(None),
                Case.status.in_(visible_statuses(viewer)),
                ~Case.is_deleted,
            )
            .order_by(SearchPromotion.id)
        )
    )


def gap_actions(gap: str) -> dict[str, list]:
    """What was done for a gap, including what was undone (the versions, with who and when)."""
    key = query_key(gap)
    return {
        "terms": list(
            db.session.scalars(select(SearchTerm).where(SearchTerm.query_key == key).order_by(SearchTerm.id.desc()))
        ),
        "promotions": list(
            db.session.scalars(
                select(SearchPromotion).where(SearchPromotion.query_key == key).order_by(SearchPromotion.id.desc())
            )
        ),
        "wanted": list(
            db.session.scalars(select(WantedCase).where(WantedCase.query_key == key).order_by(WantedCase.id.desc()))
        ),
    }


def wanted_list() -> list[WantedCase]:
    return list(
        db.session.scalars(select(WantedCase).where(WantedCase.removed_at.is_(None)).order_by(WantedCase.id.desc()))
    )


def all_terms() -> list[SearchTerm]:
    return list(db.session.scalars(select(SearchTerm).order_by(SearchTerm.id.desc()).limit(200)))
