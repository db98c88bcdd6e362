"""Generate N realistic case studies, reproducibly from a seed.

The words come from the sample library (casestudies/sample): single words are drawn with a
Zipf-like spread over the sample's rank-frequency list, and short runs of consecutive
words are copied from the sample text so that real phrases ("discharge lounge", "quality
improvement") recur the way they do in a real library. Each case also has a person's name
and a place name, the long tail of rare words a real library has. Seats, settings, tags
and dimensions come from realistic lists, also with a skewed spread (a few seats and tags
are common, most are rare), so facet counts look like a real library's.

    .venv/bin/python -m bench.generate 1000 bench/data/cases-1000   # write N case files
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS
from casestudies.slugs import slugify
from casestudies.transfer.casefile import BundleFile, CaseData, QuestionData, dump_case_file, parse_case_file

SEED = 20260407
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "casestudies" / "sample"
WORD_RE = re.compile(r"[A-Za-z]+(?:['&][A-Za-z]+)*")
ZIPF_S = 1.07  # exponent of the rank-frequency law for words; about 1 in real English text
ZIPF_Q = 2.7  # the Mandelbrot shift: the very top ranks are a little flatter than a pure Zipf
MIN_BODY_WORDS, MODE_BODY_WORDS, MAX_BODY_WORDS = 300, 700, 1500

SEATS = (
    "Staff nurse", "Healthcare assistant", "Ward sister", "Junior doctor", "Consultant physician",
    "District nurse", "Porter", "Receptionist", "Ward clerk", "Paramedic", "Clinical pharmacist",
    "Occupational therapist", "Physiotherapist", "Midwife", "Health visitor", "GP partner",
    "Practice manager", "Consultant psychiatrist", "Mental health nurse", "Social worker",
    "Care home manager", "Matron", "Medical secretary", "Housekeeping supervisor", "HR lead",
    "Finance accountant", "Hospital chaplain", "Anaesthetist", "Paediatrician", "Haematologist",
    "Forensic psychiatrist", "Children's community nurse", "Dietitian", "Speech and language therapist",
    "Radiographer", "Biomedical scientist", "Estates manager", "Catering supervisor", "Call handler",
    "Theatre nurse", "Student nurse", "Volunteer", "Patient representative", "Chief executive",
    "Non-executive director", "Clinical director", "Operating department practitioner", "Pharmacy technician",
    "Care coordinator", "Peer support worker", "Discharge coordinator", "Infection control nurse",
    "Emergency care assistant", "Learning disability nurse", "Podiatrist", "Optometrist", "Dental nurse",
    "Sonographer", "Security officer", "IT service desk analyst",
)  # fmt: skip
SETTINGS = (
    "Acute hospital", "Primary care", "Community health services", "Mental health services",
    "Ambulance service", "Social care", "Care home", "Hospice", "Specialist hospital",
    "Integrated care board", "Learning disability services", "Public health", "Prison healthcare",
    "Urgent treatment centre",
)  # fmt: skip
EXTRA_TAGS = (
    "handover", "night shift", "digital", "medicines", "falls prevention", "dementia", "end of life care",
    "frailty", "sepsis", "infection prevention", "winter pressures", "bed management", "waiting lists",
    "outpatients", "theatres", "maternity", "neonatal care", "safeguarding", "learning disability",
    "autism", "carers", "volunteers", "recruitment", "retention", "apprenticeships", "appraisal",
    "bullying", "civility", "inclusion", "race equality", "disability", "menopause", "flexible working",
    "burnout", "supervision", "coaching", "mentoring", "preceptorship", "simulation", "human factors",
    "incident reporting", "complaints", "duty of candour", "governance", "board", "procurement",
    "sustainability", "net zero", "transport", "catering", "telephony", "records", "interpreters",
    "homelessness", "substance misuse", "pain management", "diabetes", "stroke", "cancer", "respiratory",
    "cardiology", "primary care networks", "pharmacy", "dentistry", "optometry", "prison health",
    "veterans", "rural health", "virtual wards", "remote monitoring", "self-management", "peer support",
    "research", "audit", "benchmarking", "pathway redesign", "population health", "social prescribing",
    "vaccination", "screening", "eating disorders", "crisis care", "restraint", "medication safety",
)  # fmt: skip
FIRST_NAMES = (
    "Aisha", "Alan", "Amira", "Andrew", "Angela", "Anil", "Bola", "Brian", "Bronwen", "Callum", "Carys",
    "Chen", "Chidi", "Claire", "Colin", "Dami", "Daniel", "Deepa", "Dennis", "Divya", "Eilidh", "Elena",
    "Emeka", "Fatima", "Fiona", "Gareth", "Grace", "Hannah", "Hamza", "Ifeoma", "Imran", "Isla", "Jamal",
    "Janet", "Jas", "Joanne", "Kemi", "Kwame", "Laura", "Leon", "Lucy", "Maria", "Marek", "Maryam",
    "Mohammed", "Nadia", "Neil", "Niamh", "Olu", "Owen", "Patrick", "Priya", "Rachel", "Rhys", "Rosa",
    "Ruth", "Sam", "Sandra", "Sanjay", "Sean", "Siobhan", "Sunita", "Tariq", "Tom", "Tunde", "Wei",
    "Yasmin", "Yusuf", "Zainab", "Zofia",
)  # fmt: skip
PLACE_STARTS = (
    "Ash", "Bar", "Bel", "Brad", "Brook", "Cal", "Chester", "Dun", "East", "Elm", "Fair", "Glen", "Hal",
    "Hart", "Kings", "Lang", "Lin", "Mar", "Mill", "New", "North", "Oak", "Pen", "Red", "Rother", "Shef",
    "South", "Stan", "Thorn", "Wal", "West", "Wick", "Win", "York",
)  # fmt: skip
PLACE_ENDS = (
    "bridge", "bury", "by", "caster", "combe", "dale", "den", "field", "ford", "gate", "ham", "hill",
    "holme", "ley", "mouth", "port", "stead", "stow", "ton", "wick", "wood", "worth",
)  # fmt: skip
VERBS = (
    "redesigned", "rethought", "challenged", "joined up", "listened to", "rebuilt", "changed",
    "questioned", "spoke up about", "costed", "simplified", "opened up", "paused", "measured", "fixed",
)  # fmt: skip
OBJECTS = (
    "the discharge lounge", "the night handover", "the phone line", "medication reviews", "the rota",
    "the waiting room", "out-of-area placements", "the morning huddle", "the referral pathway",
    "the transport bookings", "falls on the ward", "the complaints process", "the patient leaflets",
    "the clinic letters", "the board report", "the induction week", "the staff room", "the bed meeting",
    "the care plans", "the visiting hours", "the pharmacy queue", "the outpatient clinic", "the stock room",
    "the safeguarding referrals", "the mealtimes", "the theatre list", "the winter plan", "the budget",
)  # fmt: skip
QUESTIONS = (
    "Why had no one else noticed {words}?",
    "How did {name} change the conversation about {words}?",
    "What risks did {name} take in {words}?",
    "Who in your own organisation sees {words}?",
    "What would you have done in {name}'s place?",
    "How did the team respond to {words}?",
    "What does this case say about {tag}?",
    "Which of {name}'s choices would you repeat, and which would you change?",
    "What made the difference between {words} and lasting change?",
    "How would you measure {words} in your own service?",
)
STATUSES = (("published", 88), ("review", 5), ("draft", 7))


@dataclass(frozen=True)
class Corpus:
    """The sample library's words, ready for drawing."""

    words: tuple[str, ...]  # every word, most frequent first, in its usual spelling
    cum_weights: tuple[float, ...]  # Zipf-like weights by rank, cumulative
    stream: tuple[str, ...]  # the sample's words in reading order: runs of it are real phrases
    content: tuple[str, ...]  # words of 4+ letters that are not function words, most frequent first
    tags: tuple[str, ...]  # the sample's tags, most used first, then more realistic ones
    counts: dict[str, int]


def zipf_weights(count: int, s: float = ZIPF_S, q: float = ZIPF_Q) -> tuple[float, ...]:
    return tuple(accumulate(1.0 / (rank + q) ** s for rank in range(1, count + 1)))


_FUNCTION_WORDS = (
    "the a an and or but to of in on at for with from by as is was were be been being had has have "
    "did do does not no it its this that these those there their them they she he her his him we our "
    "you your i me my who what when where which why how than then so if into onto about after before "
    "over under more most some each every one two would could should will can may might also just very "
    "only even still all any both much many such own out up down off again once here same other"
)
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


def load_corpus(sample_dir: Path = SAMPLE_DIR) -> Corpus:
    forms: dict[str, Counter[str]] = {}
    stream: list[str] = []
    tag_counts: Counter[str] = Counter()
    for path in sorted(sample_dir.glob("*.md")):
        case = parse_case_file(path.read_bytes(), path.name)
        tag_counts.update(case.tags)
        texts = [case.title, case.summary, case.body, *(q.text for q in case.questions)]
        for text in texts:
            for line in text.splitlines():
                if line.startswith("#"):
                    continue
                for word in WORD_RE.findall(line):
                    forms.setdefault(word.lower(), Counter())[word] += 1
                    stream.append(word.lower())
    # The usual spelling: lower case when the word is ever written so (not just at the start
    # of a sentence), otherwise its commonest form (names, acronyms such as A&E and GP).
    spelling = {low: (low if low in seen else seen.most_common(1)[0][0]) for low, seen in forms.items()}
    counts = {low: sum(seen.values()) for low, seen in forms.items()}
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    words = tuple(spelling[w] for w in ranked)
    content = tuple(spelling[w] for w in ranked if len(w) >= 4 and w.isalpha() and w not in FUNCTION_WORDS)
    tags = tuple(t for t, _ in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0])))
    tags += tuple(t for t in EXTRA_TAGS if t not in tag_counts)
    return Corpus(
        words=words,
        cum_weights=zipf_weights(len(words)),
        stream=tuple(spelling[w] for w in stream),
        content=content,
        tags=tags,
        counts=counts,
    )


class CaseGenerator:
    def __init__(self, corpus: Corpus, seed: int = SEED) -> None:
        self.corpus = corpus
        self.seed = seed
        self._tag_weights = zipf_weights(len(corpus.tags), 0.9, 2.0)
        self._seat_weights = zipf_weights(len(SEATS), 0.8, 2.0)
        self._setting_weights = zipf_weights(len(SETTINGS), 1.0, 1.0)
        self._content_weights = zipf_weights(len(corpus.content), 0.9, 5.0)

    # -- text --------------------------------------------------------------------------
    def _sentence(self, rng: random.Random, extras: tuple[str, ...]) -> list[str]:
        corpus = self.corpus
        target = rng.randint(7, 24)
        words: list[str] = []
        while len(words) < target:
            roll = rng.random()
            if roll < 0.45:  # a run of real text from the sample library
                start = rng.randrange(len(corpus.stream) - 5)
                words.extend(corpus.stream[start : start + rng.randint(2, 5)])
            elif roll < 0.5:  # the case's own person or place
                words.append(rng.choice(extras))
            else:
                words.extend(rng.choices(corpus.words, cum_weights=corpus.cum_weights, k=rng.randint(1, 3)))
        return words[: target + 4]

    @staticmethod
    def _join(words: list[str], end: str = ".") -> str:
        text = " ".join(words)
        return text[:1].upper() + text[1:] + end

    def _paragraph(self, rng: random.Random, extras: tuple[str, ...], budget: int) -> tuple[str, int]:
        sentences: list[str] = []
        used = 0
        for _ in range(rng.randint(3, 6)):
            words = self._sentence(rng, extras)
            sentences.append(self._join(words))
            used += len(words)
            if used >= budget:
                break
        return " ".join(sentences), used

    def _body(self, rng: random.Random, name: str, place: str, pronoun: str) -> str:
        target = int(rng.triangular(MIN_BODY_WORDS, MAX_BODY_WORDS, MODE_BODY_WORDS))
        extras = (name, name, place, "the team", "the ward")
        headings = ("The situation", f"What {pronoun} did", "What happened", "Looking back")
        parts: list[str] = []
        used = 0
        for number, heading in enumerate(headings):
            if number:
                parts.append(f"## {heading}")
                used += len(heading.split())
            section_end = target * (number + 1) // len(headings)
            while used < section_end:
                paragraph, words = self._paragraph(rng, extras, section_end - used)
                parts.append(paragraph)
                used += words
            if number == 1 and rng.random() < 0.4:
                items = [self._sentence(rng, extras)[: rng.randint(4, 9)] for _ in range(rng.randint(3, 5))]
                parts.append("\n".join(f"- {' '.join(item)};" for item in items))
                used += sum(len(item) for item in items)
            if number in (1, 2) and rng.random() < 0.3:
                quote = self._sentence(rng, extras)
                parts.append(f"> {self._join(quote)}")
                used += len(quote)
        if used < MIN_BODY_WORDS:
            parts.append(self._paragraph(rng, extras, MIN_BODY_WORDS - used)[0])
        return "\n\n".join(parts) + "\n"

    def _content_words(self, rng: random.Random, count: int) -> str:
        return " ".join(rng.choices(self.corpus.content, cum_weights=self._content_weights, k=count))

    # -- one case ----------------------------------------------------------------------
    def case(self, number: int) -> CaseData:
        """Case number `number` (from 1); the same number always gives the same case."""
        rng = random.Random(f"{self.seed}:{number}")
        name = rng.choice(FIRST_NAMES)
        place = rng.choice(PLACE_STARTS) + rng.choice(PLACE_ENDS)
        pronoun = rng.choice(("she", "he", "they"))
        seat = rng.choices(SEATS, cum_weights=self._seat_weights)[0]
        seat_lower = seat if seat[1:2].isupper() else seat[:1].lower() + seat[1:]
        title = f"The {seat_lower} who {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        if rng.random() < 0.5:
            title += f" in {place}"
        summary = f"{name}, a {seat_lower} in {place}, {rng.choice(VERBS)} {rng.choice(OBJECTS)}. "
        summary += self._join(self._sentence(rng, (name, place)))
        tags: list[str] = []
        tag_count = rng.randint(3, 6)
        while len(tags) < tag_count:
            tag = rng.choices(self.corpus.tags, cum_weights=self._tag_weights)[0]
            if tag not in tags:
                tags.append(tag)
        questions = []
        for template in rng.sample(QUESTIONS, rng.randint(3, 5)):
            text = template.format(name=name, words=self._content_words(rng, rng.randint(2, 4)), tag=tags[0])
            notes = self._join(self._sentence(rng, (name,))) if rng.random() < 0.5 else None
            minutes = rng.choice((5, 10, 15, 20)) if rng.random() < 0.5 else None
            questions.append(QuestionData(text, notes, minutes))
        status = rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES])[0]
        updated = date(2018, 1, 1) + timedelta(days=rng.randrange(3000))
        return CaseData(
            title=title,
            slug=f"{slugify(title, 60)}-{number}",
            summary=summary[:600],
            seat=seat,
            setting=rng.choices(SETTINGS, cum_weights=self._setting_weights)[0],
            dimensions=tuple(rng.sample(LEADERSHIP_DIMENSIONS, rng.randint(1, 4))),
            tags=tuple(tags),
            questions=tuple(questions),
            status=status,
            consent=rng.choice(("obtained", "obtained", "not-needed")),
            review_by=updated + timedelta(days=rng.randint(365, 730)),
            updated=updated,
            body=self._body(rng, name, place, pronoun),
        )


def generate_cases(count: int, seed: int = SEED, corpus: Corpus | None = None) -> list[CaseData]:
    generator = CaseGenerator(corpus or load_corpus(), seed)
    return [generator.case(number) for number in range(1, count + 1)]


def to_bundle(cases: list[CaseData]) -> list[BundleFile]:
    return [BundleFile(f"{case.slug}.md", dump_case_file(case).encode("utf-8")) for case in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    for file in to_bundle(generate_cases(args.count, args.seed)):
        (args.directory / file.name).write_bytes(file.data)
    print(f"Wrote {args.count} case files to {args.directory}.")


if __name__ == "__main__":
    main()
