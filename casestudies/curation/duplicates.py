"""Possible duplicates of a case being saved: the same or a very similar title (from the
database, so a case saved a moment ago counts) or a very similar text (the search engine's
more-like-this over the summary and body)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from casestudies.cases.data import CaseData
from casestudies.cases.vocab import STATUSES
from casestudies.extensions import db
from casestudies.indexing.documents import get_search_index
from casestudies.markdown import markdown_to_text
from casestudies.models import Case
from search import SearchUnavailable

MAX_DUPLICATES = 5
# Normalised titles this few characters apart (added, dropped or changed) count as very
# similar: a plural, a typo. Two titles that share a long phrase but not their other words
# are different titles.
NEAR_TITLE_EDITS = 3
_NOT_WORD = re.compile(r"[\W_]+")
_LEADING_ARTICLE = re.compile(r"^(the|a|an) ")


@dataclass
class PossibleDuplicate:
    case: Case
    reasons: list[str] = field(default_factory=list)  # "the same title", ...

    @property
    def is_binned(self) -> bool:
        return self.case.is_deleted


def normalised_title(title: str) -> str:
    """A title as compared for duplicates: case, punctuation, spacing and a leading
    article ignored ("The night shift!" and "night  shift" are the same title)."""
    words = _NOT_WORD.sub(" ", title.casefold()).strip()
    return _LEADING_ARTICLE.sub("", words)


def _title_matches(title: str, exclude: int | None) -> dict[int, str]:
    """Cases (in the bin too) whose title is the same or very similar: id -> reason."""
    wanted = normalised_title(title)
    if not wanted:
        return {}
    found: dict[int, str] = {}
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    for case_id, other_title in db.session.execute(select(Case.id, Case.title)):
        if case_id == exclude:
            continue
        other = normalised_title(other_title)
        if other == wanted:
            found[case_id] = "the same title"
            continue
        if abs(len(other) - len(wanted)) > NEAR_TITLE_EDITS:
            continue  # most titles are ruled out by their length alone
        matcher.set_seq1(other)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        if len(other) + len(wanted) - 2 * matched <= NEAR_TITLE_EDITS:
            found[case_id] = "a very similar title"
    return found


def _text_matches(data: CaseData, exclude: int | None) -> list[int]:
    # Without the title: it is compared on its own, and with it a short text looks like
    # every case that shares a few of its words.
    text = "\n".join([data.summary, markdown_to_text(data.body)])
    try:
        hits = get_search_index().more_like_text(text, STATUSES, MAX_DUPLICATES, exclude=exclude)
    except SearchUnavailable:
        # The titles are still checked; the index being rebuilt must not stop a save.
        current_app.logger.warning("possible duplicates: search index unavailable, titles checked only")
        return []
    return [hit.id for hit in hits]


def possible_duplicates(
    data: CaseData, *, exclude: int | None = None, already_seen: frozenset[int] = frozenset()
) -> list[PossibleDuplicate]:
    """Cases that may be the same as `data`, same titles first, leaving out the case
    `exclude` (the one edited). None when the curator has already been shown every one
    (`already_seen`) and chose to save anyway."""
    found: dict[int, list[str]] = {}
    titles = _title_matches(data.title, exclude)
    for case_id in sorted(titles, key=lambda case_id: titles[case_id] != "the same title"):
        found.setdefault(case_id, []).append(titles[case_id])
    for case_id in _text_matches(data, exclude):
        found.setdefault(case_id, []).append("a very similar text")
    wanted = list(found)[:MAX_DUPLICATES]
    if set(wanted) <= already_seen:
        return []
    rows = {case.id: case for case in db.session.scalars(select(Case).where(Case.id.in_(wanted)))}
    return [PossibleDuplicate(rows[case_id], found[case_id]) for case_id in wanted if case_id in rows]
