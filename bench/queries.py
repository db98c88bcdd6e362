"""The benchmark's searches: a reproducible mix of what learners type.

Each query is what the search form sends: text, at most one facet filter, a page number.
The mix: one, two and three words, a quoted phrase, an acronym, a misspelling, a facet
filter, a second page and a question in plain words ("how can porters improve the
discharge lounge": five to eight words, some of them in no case), drawn from the same
vocabulary as the generated cases (common words more often, as people search for what a
library is about).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from urllib.parse import urlencode

from casestudies.transfer.casefile import CaseData
from search.analysis import stem_word

from .generate import FUNCTION_WORDS, Corpus, zipf_weights

# kind -> how many of every 500 queries
MIX = {
    "one word": 85,
    "two words": 65,
    "three words": 45,
    "phrase": 50,
    "acronym": 40,
    "misspelling": 45,
    "facet filter": 50,
    "page 2": 45,
    "natural language": 75,
}
# Common words nobody searches for on their own.
NOT_SEARCHED = frozenset(
    ("rather", "often", "nothing", "because", "whether", "without", "several", "less", "went", "took", "made",
     "said", "told", "found", "felt", "asked", "almost", "later", "instead", "never", "always", "within")
)  # fmt: skip
ACRONYMS = ("A&E", "GP", "CAMHS", "HR", "COPD", "A&E waits", "GP practice", "CAMHS referral")
# How a question in plain words starts, and the small words between its content words.
OPENINGS = ("how can", "how do", "how should", "what helps", "why do", "ways to", "what can", "how to", "who should")
LINKS = ("the", "our", "a", "for", "with", "on", "in", "and")
# Words a learner might type that no generated case contains (checked against the sample's
# words, by stem, when the queries are made): things, not misspellings.
ABSENT = (
    "chatbot", "kiosk", "wifi", "rostering", "smartphone", "podcast", "barcode", "drone", "lanyard",
    "vending", "hackathon", "microwave", "printer", "lottery", "laptops", "signage", "courier",
    "locker", "badges", "dashboards", "gamification", "bicycles", "minibus", "canteen", "noticeboard",
)  # fmt: skip


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1

    def path(self) -> str:
        args: dict[str, str | int] = {"q": self.text, **self.filters}
        if self.page > 1:
            args["page"] = self.page
        return "/search?" + urlencode(args)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Query:
        return cls(kind=data["kind"], text=data["text"], filters=dict(data["filters"]), page=int(data["page"]))


class QueryMaker:
    def __init__(self, corpus: Corpus, cases: list[CaseData], seed: int) -> None:
        self.corpus = corpus
        self.published = [case for case in cases if case.status == "published"]
        self.rng = random.Random(f"{seed}:queries")
        self.vocabulary = [word for word in corpus.content if word.lower() not in NOT_SEARCHED]
        self.weights = zipf_weights(len(self.vocabulary), 0.9, 5.0)
        known = {stem_word(word.lower()) for word in corpus.counts}
        self.absent = [word for word in ABSENT if stem_word(word) not in known]
        stream = corpus.stream
        self.bigrams = [
            (a, b)
            for a, b in pairwise(stream)
            if a.isalpha() and b.isalpha() and len(a) > 2 and len(b) > 2 and not {a.lower(), b.lower()} & FUNCTION_WORDS
        ]

    def words(self, count: int) -> str:
        return " ".join(self.rng.choices(self.vocabulary, cum_weights=self.weights, k=count))

    def misspelt(self) -> str:
        rng = self.rng
        while True:
            word = self.words(1).lower()
            if len(word) < 6 or not word.isalpha():
                continue
            i = rng.randrange(1, len(word) - 2)
            edit = rng.choice(("swap", "drop", "double", "vowel"))
            if edit == "swap":
                wrong = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            elif edit == "drop":
                wrong = word[:i] + word[i + 1 :]
            elif edit == "double":
                wrong = word[:i] + word[i] + word[i:]
            else:
                wrong = word[:i] + rng.choice("aeiou") + word[i + 1 :]
            if wrong != word and wrong not in self.corpus.counts:
                return wrong

    def natural(self) -> str:
        """A question in plain words, five to eight of them: an opening, content words of
        the library with small words between, and in about half of them one word that no
        case contains."""
        rng = self.rng
        count = rng.randint(5, 8)
        words = rng.choice(OPENINGS).split()
        opening = len(words)
        absent_at = rng.randrange(opening, count) if self.absent and rng.random() < 0.5 else -1
        while len(words) < count:
            if len(words) == absent_at:
                words.append(rng.choice(self.absent))
            elif opening < len(words) < count - 1 and words[-1] not in LINKS and rng.random() < 0.35:
                words.append(rng.choice(LINKS))
            else:
                words.append(self.words(1).lower())
        return " ".join(words)

    def facet(self) -> dict[str, str]:
        case = self.rng.choice(self.published)  # so a value comes up as often as it is used
        name = self.rng.choice(("seat", "tag", "tag", "dimension", "setting"))
        if name == "tag":
            return {name: self.rng.choice(case.tags)}
        if name == "dimension":
            return {name: self.rng.choice(case.dimensions)}
        return {name: (case.setting or case.seat) if name == "setting" else case.seat}

    def make(self, kind: str) -> Query:
        rng = self.rng
        if kind == "one word":
            return Query(kind, self.words(1))
        if kind == "two words":
            return Query(kind, self.words(2))
        if kind == "three words":
            return Query(kind, self.words(3))
        if kind == "phrase":
            return Query(kind, '"{} {}"'.format(*rng.choice(self.bigrams)))
        if kind == "acronym":
            return Query(kind, rng.choice(ACRONYMS))
        if kind == "misspelling":
            return Query(kind, self.misspelt() if rng.random() < 0.6 else f"{self.words(1)} {self.misspelt()}")
        if kind == "facet filter":
            return Query(kind, self.words(rng.randint(1, 2)), self.facet())
        if kind == "page 2":
            return Query(kind, self.words(1), page=2)
        if kind == "natural language":
            return Query(kind, self.natural())
        raise ValueError(kind)


def make_queries(corpus: Corpus, cases: list[CaseData], seed: int, count: int = 500) -> list[Query]:
    maker = QueryMaker(corpus, cases, seed)
    total = sum(MIX.values())
    kinds = [kind for kind, share in MIX.items() for _ in range(round(share * count / total))]
    while len(kinds) < count:
        kinds.append(list(MIX)[len(kinds) % len(MIX)])
    kinds = kinds[:count]
    maker.rng.shuffle(kinds)
    return [maker.make(kind) for kind in kinds]
