"""Turn what a learner types into a Whoosh query, safely.

Whoosh's own QueryParser accepts wildcards, ranges, fields and nesting; on a large index
`*`, `*ing` or `[a TO z]` become scans of every term, and deep nesting overflows the stack.
So we never hand user text to it. We accept a small, familiar language and treat
everything else as plain words:

- words (all must match), "quoted phrases", `-word` / `-"phrase"` to exclude, `OR` between
  two terms,
- `lead*` as a prefix, only with at least 3 letters before the star.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from whoosh import query as wq

from .analysis import TOKEN_RE
from .spellings import spelling_variants
from .synonyms import SynonymTable
from .thesaurus import Thesaurus

MAX_QUERY_CHARS = 500  # longer input is cut: nobody types more, and the work stays bounded
MAX_TERMS = 24
MAX_WORD_CHARS = 60
MIN_PREFIX_CHARS = 3
SYNONYM_BOOST = 0.7  # an equivalent expression counts a little less than the words typed

# Field weights: title and seat count most, then tags, then setting, dimensions and the
# summary (a paragraph, where a passing mention weighs less than a tag), then questions and body.
FIELD_BOOSTS: dict[str, float] = {
    "title": 8.0,
    "seat": 8.0,
    "summary": 2.0,
    "tags": 4.0,
    "setting": 2.5,
    "dimensions": 2.5,
    "questions": 1.2,
    "body": 1.0,
}

_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_PREFIX = re.compile(rf"[^\W_]{{{MIN_PREFIX_CHARS},}}\*")

Analyse = Callable[[str], list[str]]


@dataclass(frozen=True)
class Clause:
    words: tuple[str, ...]  # one word, or several for a phrase
    is_phrase: bool = False
    is_prefix: bool = False
    is_excluded: bool = False
    is_quoted: bool = False  # typed in quotes, as opposed to one token such as "non-executive"


@dataclass(frozen=True)
class ParsedQuery:
    groups: tuple[tuple[Clause, ...], ...]  # all groups must match; a group is an OR of clauses
    excluded: tuple[Clause, ...]

    @property
    def is_empty(self) -> bool:
        return not self.groups

    def checkable_words(self) -> list[str]:
        """Words typed plainly (not prefixes), the ones a spelling check may correct."""
        return [w for g in self.groups for c in g if not c.is_prefix for w in c.words]


def _words(text: str) -> list[str]:
    return [w[:MAX_WORD_CHARS] for w in TOKEN_RE.findall(text)]


def parse_user_query(text: str) -> ParsedQuery:
    text = text[:MAX_QUERY_CHARS]
    if text.count('"') % 2:  # an unbalanced quote is just punctuation
        text = text.replace('"', " ")
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        if len(groups) + len(excluded) >= MAX_TERMS:
            break
        minus, phrase, bare = match.groups()
        clause: Clause | None = None
        if phrase is not None:
            words = _words(phrase)
            if words:
                clause = Clause(tuple(words), is_phrase=len(words) > 1, is_excluded=bool(minus), is_quoted=True)
        else:
            if bare == "OR":
                pending_or = bool(groups)
                continue
            is_excluded = bare.startswith("-") and len(bare) > 1
            raw = bare[1:] if is_excluded else bare
            words = _words(raw)
            if _PREFIX.fullmatch(raw):
                clause = Clause((words[0],), is_prefix=True, is_excluded=is_excluded)
            elif words:
                # "e-learning", "GP/practice": one typed token of several words reads as a phrase.
                clause = Clause(tuple(words), is_phrase=len(words) > 1, is_excluded=is_excluded)
        if clause is not None:
            if clause.is_excluded:
                excluded.append(clause)
            elif pending_or and groups:
                groups[-1].append(clause)
            else:
                groups.append([clause])
        pending_or = False
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def replace_words(parsed_text: str, corrections: dict[str, str]) -> str:
    """The query text with misspelt words swapped for their corrections."""

    def swap(match: re.Match[str]) -> str:
        return corrections.get(match.group(0).lower(), match.group(0))

    return TOKEN_RE.sub(swap, parsed_text)


@dataclass(frozen=True)
class QueryGroup:
    """One meaningful part of a query: a word (with its synonyms and spelling variants), an
    OR of alternatives, a synonym expression or a quoted phrase."""

    query: wq.Query
    words: tuple[str, ...]  # as typed, to say which words a result lacks
    is_required: bool  # a quoted phrase: every result has it


@dataclass(frozen=True)
class QueryParts:
    groups: tuple[QueryGroup, ...]
    excluded: wq.Query | None

    def strict(self) -> wq.Query:
        """Every group and no excluded clause."""
        if not self.groups:
            return wq.NullQuery
        positive = wq.And([group.query for group in self.groups])
        return wq.AndNot(positive, self.excluded) if self.excluded is not None else positive

    @property
    def can_relax(self) -> bool:
        """Whether results may match only some of the groups: two or more, one not quoted."""
        return len(self.groups) >= 2 and any(not group.is_required for group in self.groups)

    @property
    def least_matched(self) -> int:
        """How many groups a result that matches only some must have: a third, rounded up
        (one of two or three words, two of four to six). Half was stricter than learners'
        questions bear: "improving a discharge process" left out the discharge cases that
        say neither "improve" nor "process"."""
        return max(1, -(-len(self.groups) // 3))


# Words of a question that say nothing about its subject ("how do I ...", "what can a ...").
# The index keeps them (Whoosh's short stop list); a query that has other words ignores
# them, so that they neither have to match nor count towards the words a case matches.
QUESTION_WORDS = frozenset(
    (
        "about",
        "after",
        "all",
        "also",
        "any",
        "do",
        "does",
        "doing",
        "done",
        "how",
        "i",
        "into",
        "just",
        "me",
        "my",
        "our",
        "should",
        "so",
        "some",
        "than",
        "then",
        "there",
        "these",
        "they",
        "those",
        "what",
        "where",
        "which",
        "who",
        "why",
        "would",
        "could",
    )
)


def _is_question_word(group: QueryGroup) -> bool:
    return not group.is_required and len(group.words) == 1 and group.words[0].lower() in QUESTION_WORDS


class QueryBuilder:
    def __init__(
        self,
        analyse: Analyse,
        synonyms: SynonymTable | None,
        fields: dict[str, float] | None = None,
        thesaurus: Thesaurus | None = None,
        matches_nothing: Callable[[wq.Query], bool] | None = None,
    ):
        self.analyse = analyse
        self.synonyms = synonyms
        self.thesaurus = thesaurus
        self.fields = fields or FIELD_BOOSTS
        # Whether a query finds no case at all: then a word's equivalents stand in for it.
        self.matches_nothing = matches_nothing

    def _terms_query(self, terms: tuple[str, ...], boost: float = 1.0) -> wq.Query:
        per_field: list[wq.Query] = []
        for name, field_boost in self.fields.items():
            if len(terms) == 1:
                per_field.append(wq.Term(name, terms[0], boost=field_boost * boost))
            else:
                per_field.append(wq.Phrase(name, list(terms), boost=field_boost * boost))
        return wq.Or(per_field)

    def terms_query(self, terms: tuple[str, ...]) -> wq.Query:
        """terms (one word, or a phrase) in any field, as typed: no synonym, no variant."""
        return self._terms_query(terms)

    def _clause_terms(self, clause: Clause) -> tuple[str, ...]:
        terms: list[str] = []
        for word in clause.words:
            terms.extend(self.analyse(word))
        return tuple(terms)

    def _clause_query(self, clause: Clause) -> wq.Query | None:
        if clause.is_prefix:
            prefix = clause.words[0].lower()
            return wq.Or([wq.Prefix(name, prefix, boost=boost) for name, boost in self.fields.items()])
        terms = self._clause_terms(clause)
        if not terms:  # only stop words
            return None
        if clause.is_phrase:
            # A quoted phrase keeps its synonyms, not the thesaurus's wider terms: the
            # learner asked for those words.
            return self._with_synonyms(terms, self._terms_query(terms), concepts=not clause.is_quoted)
        # Words not quoted: every word must match, anywhere.
        typed = wq.And([self._terms_query((t,)) for t in terms])
        variants: list[str] = []
        if len(clause.words) == 1 and len(terms) == 1:
            variants = sorted(
                {v for word in spelling_variants(clause.words[0]) for v in self.analyse(word)} - {terms[0]}
            )
            if variants:
                typed = wq.Or([typed, *(self._terms_query((v,)) for v in variants)])
        # A word's other spelling brings its synonyms too ("pediatric" finds "paediatrician").
        return self._with_synonyms(terms, typed, also=[(v,) for v in variants], concepts=not clause.is_quoted)

    def _with_synonyms(
        self, terms: tuple[str, ...], typed: wq.Query, also: Sequence[tuple[str, ...]] = (), *, concepts: bool = True
    ) -> wq.Query:
        spelled = {terms, *also}
        alternatives: dict[tuple[str, ...], float] = {}
        if self.synonyms is not None:
            for each in (terms, *also):
                for alt in self.synonyms.alternatives(each):
                    if alt not in spelled:
                        alternatives.setdefault(alt, SYNONYM_BOOST)
        if self.thesaurus is not None and concepts:
            # A concept's other terms, each weighing less than a synonym.
            for each in (terms, *also, *list(alternatives)):
                for alt, weight in self.thesaurus.alternatives(each):
                    if alt not in spelled and alt not in alternatives:
                        alternatives[alt] = weight
        if not alternatives:
            return typed
        if self.matches_nothing is not None and self.matches_nothing(typed):
            # No case has the learner's own words ("burnout", "understaffed"): their
            # equivalents rank nothing below them, so the best of them counts as the words
            # would, and the concept weighs as much as the query's other words.
            scale = 1.0 / max(alternatives.values())
            alternatives = {alt: boost * scale for alt, boost in alternatives.items()}
        return wq.Or([typed, *(self._terms_query(alt, boost) for alt, boost in alternatives.items())])

    def _expands(self, terms: tuple[str, ...]) -> bool:
        return bool(
            (self.synonyms is not None and self.synonyms.alternatives(terms))
            or (self.thesaurus is not None and self.thesaurus.alternatives(terms))
        )

    def build(self, parsed: ParsedQuery) -> wq.Query:
        """Every group must match, and no excluded clause may."""
        return self.parts(parsed).strict()

    def parts(self, parsed: ParsedQuery) -> QueryParts:
        """The query's groups one by one, so that a search can also rank the cases that
        match only some of them."""
        groups: list[QueryGroup] = []
        parsed_groups = list(parsed.groups)
        i = 0
        while i < len(parsed_groups):
            run = self._synonym_run(parsed_groups, i)
            if run:
                length, terms = run
                clauses = [g[0] for g in parsed_groups[i : i + length]]
                typed = wq.And([q for c in clauses if (q := self._clause_query(c)) is not None])
                words = tuple(w for c in clauses for w in c.words)
                groups.append(QueryGroup(self._with_synonyms(terms, typed), words, is_required=False))
                i += length
                continue
            clauses = list(parsed_groups[i])
            alternatives = [q for q in (self._clause_query(c) for c in clauses) if q is not None]
            if alternatives:
                query = alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)
                words = tuple(" ".join(c.words) for c in clauses)
                # A quoted phrase is asked for on purpose: it stays a condition.
                groups.append(QueryGroup(query, words, is_required=any(c.is_quoted for c in clauses)))
            i += 1
        excluded = [q for q in (self._clause_query(c) for c in parsed.excluded) if q is not None]
        meaningful = tuple(group for group in groups if not _is_question_word(group))
        return QueryParts(meaningful or tuple(groups), wq.Or(excluded) if excluded else None)

    def _synonym_run(self, groups: list[tuple[Clause, ...]], start: int) -> tuple[int, tuple[str, ...]] | None:
        """The longest run of plain typed words from start that is a synonym or thesaurus
        expression ("emergency department" typed without quotes), as (number of groups, terms)."""
        longest_terms = max(
            self.synonyms.longest if self.synonyms is not None else 0,
            self.thesaurus.longest if self.thesaurus is not None else 0,
        )
        if not longest_terms:
            return None
        longest = 0
        found: tuple[int, tuple[str, ...]] | None = None
        terms: tuple[str, ...] = ()
        for offset in range(start, len(groups)):
            group = groups[offset]
            if len(group) != 1 or group[0].is_prefix or group[0].is_quoted:
                break
            terms = terms + self._clause_terms(group[0])
            if len(terms) > longest_terms:
                break
            length = offset - start + 1
            if (length >= 2 or group[0].is_phrase) and self._expands(terms) and length > longest:
                longest, found = length, (length, terms)
        return found
