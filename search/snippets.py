"""Snippets: up to two fragments of a hit's text around its first matches, words marked.

Fragments are chosen as Whoosh's ContextFragmenter and BasicFragmentScorer choose them,
but from the first SNIPPET_MATCHES matches only and without a token object per word.
"""

from __future__ import annotations

import functools
import heapq
import html
import re
import unicodedata

from whoosh import query as wq
from whoosh.searching import Searcher

from .analysis import text_analyzer
from .scoring import Scorer

# A snippet's fragments: context around matches, and length.
SNIPPET_CONTEXT, SNIPPET_CHARS = 60, 220
# Matches considered for a snippet's two fragments: the first ones in the text. A common
# word matches hundreds of times in a long case, and fragments from the first few read
# as well as any (Whoosh also keeps the first of equally good fragments).
SNIPPET_MATCHES = 12
WORD_CHAR = re.compile(r"\w")
# Characters that join the letters on either side into one word (see _inside_word).
WORD_JOINERS = frozenset("'’&.-")
# A letter or digit that starts a run of them: where a word may start.
LETTER_AFTER_NON_LETTER = re.compile(r"(?<![^\W_])[^\W_]")
# An apostrophe and the letters after it, or letters and an apostrophe before a token.
APOSTROPHES = frozenset("'’")
APOSTROPHE_TAIL = re.compile(r"(?:['’]\w+)+")
APOSTROPHE_HEAD = re.compile(r"(?:\w+['’])+$")
# Words whose terms are remembered (a library's vocabulary is small), and the longest
# word remembered: longer ones are analysed each time, so the cache's size is bounded.
WORD_TERMS_KEPT = 32_768
LONGEST_WORD_KEPT = 40
# Candidate patterns remembered, one per set of query terms.
PATTERNS_KEPT = 256

_analyzer = text_analyzer()


def make_snippet(text: str, matches: list[tuple[int, int]]) -> str:
    """HTML of up to two fragments of text around matches (the spans of matching words,
    in order), each match marked, the rest escaped, joined with " … ".

    A fragment starts up to SNIPPET_CONTEXT characters before a match, takes in the
    matches that follow within SNIPPET_CONTEXT of each other, ends SNIPPET_CONTEXT after
    its last one and is at most SNIPPET_CHARS long, starting and ending with whole words;
    the two with most matches of most different words are shown, in text order."""
    if not matches:
        return ""
    fragments = []
    i = 0
    while i < len(matches):
        start = _word_start(text, max(0, matches[i][0] - SNIPPET_CONTEXT), matches[i][0])
        limit = start + SNIPPET_CHARS
        j = i
        while j + 1 < len(matches) and matches[j + 1][1] <= limit:
            if matches[j + 1][0] - matches[j][1] > SNIPPET_CONTEXT:
                break
            j += 1
        end = _word_end(text, min(matches[j][1] + SNIPPET_CONTEXT, max(limit, matches[j][1])), matches[j][1])
        inside = matches[i : j + 1]
        distinct = len({text[a:b].casefold() for a, b in inside})
        fragments.append((len(inside) * distinct, -start, start, end, inside))
        i = j + 1
    best = sorted(heapq.nlargest(2, fragments), key=lambda fragment: fragment[2])
    return " … ".join(_marked(text, start, end, inside) for _, _, start, end, inside in best)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or (not char.isspace() and unicodedata.category(char).startswith("M"))


def _inside_word(text: str, i: int) -> bool:
    """Whether text[i - 1] and text[i] belong to one word: letters and digits (with
    their combining marks) run together, and an apostrophe, "&", "." or hyphen between
    two of them joins them ("nurse's", "A&E", "4.30pm", "co-ordinator")."""
    if i <= 0 or i >= len(text):
        return False
    before, after = text[i - 1], text[i]
    if _is_word_char(before) and _is_word_char(after):
        return True
    if after in WORD_JOINERS:
        return _is_word_char(before) and i + 1 < len(text) and _is_word_char(text[i + 1])
    if before in WORD_JOINERS:
        return _is_word_char(after) and i >= 2 and _is_word_char(text[i - 2])
    return False


def _word_start(text: str, position: int, match_start: int) -> int:
    """The start of the first whole word at or after position, never past the match.
    Where the match itself continues a word ("taker" in "care-taker"), the start of
    that word, unless it begins more than SNIPPET_CONTEXT before the match."""
    while position < match_start:
        candidate = LETTER_AFTER_NON_LETTER.search(text, position, match_start)
        if candidate is None:
            position = match_start
            break
        position = candidate.start()
        if not _inside_word(text, position):
            return position
        position += 1
    if position == match_start:
        word_start = position
        while _inside_word(text, word_start) and match_start - word_start < SNIPPET_CONTEXT:
            word_start -= 1
        if not _inside_word(text, word_start):
            return word_start
    return position


def _word_end(text: str, position: int, match_end: int) -> int:
    """position (at most len(text)), moved back before a word it would cut (never before
    the match)."""
    position = min(position, len(text))
    while position > match_end and _inside_word(text, position):
        # Back over the plain letters first, then look again at what joins them.
        while position > match_end + 1 and text[position - 2].isalnum() and text[position - 1].isalnum():
            position -= 1
        position -= 1
    return position


def _marked(text: str, start: int, end: int, matches: list[tuple[int, int]]) -> str:
    """text[start:end], escaped, with <mark> around the matches (neighbouring matches with
    only spaces or punctuation between them share one)."""
    merged: list[list[int]] = []
    for a, b in matches:
        if merged and not WORD_CHAR.search(text, merged[-1][1], a):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    parts, done = [], start
    for a, b in merged:
        parts += (html.escape(text[done:a]), "<mark>", html.escape(text[a:b]), "</mark>")
        done = b
    parts.append(html.escape(text[done:end]))
    return "".join(parts).strip()


def highlight_words(
    searcher: Searcher, scorer: Scorer, query: wq.Query, field: str, docnums: list[int]
) -> frozenset[str]:
    """The query's terms in field that a snippet marks: every term (a hit's text has
    it only where it matched), but a phrase's words only if the phrase matches one of
    the hits (docnums, sorted), as Whoosh marks the terms that matched."""
    reader = searcher.reader()
    from_bytes = searcher.schema[field].from_bytes
    words: set[str] = set()
    for leaf in query.leaves():
        if getattr(leaf, "fieldname", None) != field:
            continue
        if isinstance(leaf, wq.Phrase):
            matched = scorer.phrase_docs(leaf)
            if matched is not None:  # the phrase's documents, found while scoring it
                if not matched.isdisjoint(docnums):
                    words.update(leaf.words)
                continue
            matcher = leaf.matcher(searcher, searcher.boolean_context())
            for docnum in docnums:
                if matcher.is_active() and matcher.id() < docnum:
                    matcher.skip_to(docnum)
                if matcher.is_active() and matcher.id() == docnum:
                    words.update(leaf.words)
                    break
        else:
            words.update(from_bytes(text) for _, text in leaf.existing_terms(reader, expand=True))
    return frozenset(words)


def terms_of_word(word: str) -> frozenset[str]:
    """What the field analyser makes of one word (stop words kept, so a stop word in a
    phrase is still marked)."""
    if len(word) > LONGEST_WORD_KEPT:
        return _analysed(word)
    return _kept_terms_of_word(word)


def _analysed(word: str) -> frozenset[str]:
    return frozenset(token.text for token in _analyzer(word, removestops=False))


_kept_terms_of_word = functools.lru_cache(maxsize=WORD_TERMS_KEPT)(_analysed)


@functools.lru_cache(maxsize=PATTERNS_KEPT)
def candidate_pattern(words: frozenset[str]) -> re.Pattern[str]:
    """A pattern for the words of a text that may analyse to one of words (query
    terms): those that start like a term. A stem, less its last letter ("happi" from
    "happy"), begins every word that stems to it."""
    starts = sorted({term[:-1] if len(term) > 3 else term for term in words}, key=len, reverse=True)
    return re.compile(r"(?<![\w&.])(?:" + "|".join(map(re.escape, starts)) + r")\w*(?:[&.]\w+)*", re.I)


def _whole_word(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the whole word around a matching token: the tokeniser splits at an
    apostrophe ("nurse's" is "nurse" and "s"), a mark covers the word as written."""
    if end < len(text) and text[end] in APOSTROPHES:
        tail = APOSTROPHE_TAIL.match(text, end)
        end = tail.end() if tail else end
    if start > 0 and text[start - 1] in APOSTROPHES:
        head = APOSTROPHE_HEAD.search(text, max(0, start - SNIPPET_CONTEXT), start)
        start = head.start() if head else start
    return start, end


def snippet(text: str, words: frozenset[str]) -> str:
    """Up to two marked fragments of text around its first matches (see make_snippet);
    a match is a whole word with a token that analyses to one of the query's terms
    (words), so a word is marked only if its stem is a query term's."""
    if not text or not words:
        return ""
    spans: list[tuple[int, int]] = []
    for match in candidate_pattern(words).finditer(text):
        if words.isdisjoint(terms_of_word(match.group())):
            continue
        start, end = _whole_word(text, *match.span())
        if spans and start < spans[-1][1]:
            continue  # another token of a word already marked
        spans.append((start, end))
        if len(spans) == SNIPPET_MATCHES:
            break
    return make_snippet(text, spans)
