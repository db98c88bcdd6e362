"""The index's fields, and the values of each field for one CaseDoc."""

from __future__ import annotations

from datetime import datetime

from whoosh.analysis import STOP_WORDS
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, Schema

from .analysis import TOKEN_RE, AnalysedText
from .documents import CaseDoc

SPELL_MIN_CHARS = 3  # shorter words are never corrected nor suggested

# facet name -> (key field, stored field holding its display spelling)
FACET_FIELDS = {
    "seat": ("seat_key", "seat"),
    "setting": ("setting_key", "setting"),
    "dimension": ("dimension_key", "dimensions"),
    "tag": ("tag_key", "tags"),
    "status": ("status", "status"),
}


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        slug=ID(stored=True),
        fingerprint=STORED(),
        status=ID(stored=True),
        title=AnalysedText(stored=True),
        seat=AnalysedText(stored=True),
        setting=AnalysedText(stored=True),
        summary=AnalysedText(stored=True),
        tags=AnalysedText(stored=True),
        dimensions=AnalysedText(stored=True),
        questions=AnalysedText(),
        body=AnalysedText(stored=True),
        # The words as written, each once (see spelling_field_text), for "Did you mean":
        # only which documents have a word is ever asked, so no positions. Scorable all
        # the same: Whoosh looks up a field length for every posting it writes, and for a
        # field without lengths each lookup is a file-system stat, and this field holds
        # about half of all postings.
        spell=KEYWORD(scorable=True),
        # Exact, case-folded values for facets and filters.
        seat_key=ID(),
        setting_key=ID(),
        tag_key=KEYWORD(commas=True),
        dimension_key=KEYWORD(commas=True),
        updated=DATETIME(sortable=True),
        title_sort=ID(sortable=True),
    )


def fold(value: str) -> str:
    """A facet value as its key: white space collapsed, case-folded."""
    return " ".join(value.split()).casefold()


def keyword_value(value: str) -> str:
    """A value as one item of a comma-separated KEYWORD field (tags, dimensions)."""
    return fold(value).replace(",", " ")


def to_fields(doc: CaseDoc) -> dict[str, object]:
    return {
        "id": str(doc.id),
        "slug": doc.slug,
        "fingerprint": doc.fingerprint,
        "status": doc.status,
        "title": doc.title,
        "seat": doc.seat,
        "setting": doc.setting,
        "summary": doc.summary,
        "tags": "\n".join(doc.tags),
        "dimensions": "\n".join(doc.dimensions),
        "questions": "\n".join(doc.questions),
        "body": doc.body,
        "spell": spelling_field_text(
            [doc.title, doc.seat, doc.setting, doc.summary, *doc.tags, *doc.questions, doc.body]
        ),
        "seat_key": fold(doc.seat),
        "setting_key": fold(doc.setting),
        "tag_key": ",".join(keyword_value(t) for t in doc.tags),
        "dimension_key": ",".join(keyword_value(d) for d in doc.dimensions),
        "updated": datetime.combine(doc.updated, datetime.min.time()) if doc.updated else datetime(1970, 1, 1),
        "title_sort": fold(doc.title),
    }


def spelling_field_text(texts: list[str]) -> str:
    """Each word of texts once, lower-cased, of three letters or more and not a stop
    word, separated by spaces as the spelling field (a KEYWORD field) splits them: the
    field needs no more, and this is much cheaper than analysing the text a second time."""
    words = dict.fromkeys(word.lower() for text in texts for word in TOKEN_RE.findall(text))
    return " ".join(word for word in words if len(word) >= SPELL_MIN_CHARS and word not in STOP_WORDS)
