"""Synonym groups and concepts curators add from the app, applied on every server without
a restart: each search first compares the rows' version (one small query) with the one
its server's index was given, and hands the index the active rows when it has changed.
The index merges them with search/synonyms.txt and search/thesaurus.txt."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from casestudies.extensions import db
from casestudies.models import SearchTerm
from search import Concept, SearchIndex, SynonymGroup, ThesaurusError, parse_concepts

EXPRESSION = re.compile(r"[\w][\w' -]{0,79}")
MAX_EXPRESSIONS = 12


class VocabularyError(ValueError):
    pass


def synonym_text(expressions: list[str]) -> str:
    """A group in synonyms.txt's format, "a = b = c"; VocabularyError says what is wrong."""
    cleaned = list(dict.fromkeys(" ".join(e.split()).casefold() for e in expressions if e.strip()))
    if len(cleaned) < 2:
        raise VocabularyError("Give at least two words or phrases that mean the same.")
    if len(cleaned) > MAX_EXPRESSIONS:
        raise VocabularyError(f"A group has at most {MAX_EXPRESSIONS} words or phrases.")
    for expression in cleaned:
        if not EXPRESSION.fullmatch(expression) or "=" in expression:
            raise VocabularyError(
                f"“{expression}”: use letters, digits, spaces, hyphens and apostrophes, at most 80 characters."
            )
    return " = ".join(cleaned)


def concept_text(preferred: str, synonyms: str, narrower: str, related: str) -> str:
    """A concept in thesaurus.txt's format (terms separated by ";"), checked by its parser."""
    lines = [f"concept: {' '.join(preferred.split())}"]
    for name, value in (("synonyms", synonyms), ("narrower", narrower), ("related", related)):
        terms = [" ".join(t.split()) for t in value.replace("\n", ";").split(";") if t.strip()]
        for term in terms:
            if not EXPRESSION.fullmatch(term.casefold()):
                raise VocabularyError(f"“{term}”: use letters, digits, spaces, hyphens and apostrophes.")
        if terms:
            lines.append(f"{name}: {'; '.join(terms)}")
    if not preferred.strip() or len(lines) < 2:
        raise VocabularyError("Give the concept's term and at least one synonym, narrower or related term.")
    text = "\n".join(lines)
    try:
        parse_concepts(text)
    except ThesaurusError as error:
        raise VocabularyError(str(error)) from error
    return text


def vocabulary_version() -> tuple[int, int]:
    """Changes with every row added (the newest id) and every row removed (their count)."""
    newest, removed = db.session.execute(select(func.max(SearchTerm.id), func.count(SearchTerm.removed_at))).one()
    return (newest or 0, removed or 0)


def active_vocabulary() -> tuple[list[SynonymGroup], list[Concept]]:
    groups: list[SynonymGroup] = []
    concepts: list[Concept] = []
    for term in db.session.scalars(select(SearchTerm).where(SearchTerm.removed_at.is_(None)).order_by(SearchTerm.id)):
        if term.kind == "synonym":
            groups.append(SynonymGroup(-term.id, tuple(part.strip() for part in term.text.split(" = "))))
        else:
            concepts.extend(parse_concepts(term.text))
    return groups, concepts


def sync_vocabulary(index: SearchIndex) -> None:
    """Give this server's index the database's synonyms and concepts if they changed."""
    version = vocabulary_version()
    if index.vocabulary_version != version:
        groups, concepts = active_vocabulary()
        index.set_vocabulary(version, groups, concepts)
