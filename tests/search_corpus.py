"""Random case documents over a small vocabulary, for tests of the search engine itself."""

from __future__ import annotations

import random

from search import CaseDoc

VOCAB = [
    "nurse",
    "ward",
    "night",
    "shift",
    "team",
    "porter",
    "patient",
    "family",
    "meeting",
    "care",
    "social",
    "worker",
    "district",
    "rota",
    "handover",
    "concern",
    "raise",
    "listen",
    "change",
    "lead",
    "quiet",
    "voice",
    "board",
]


def random_text(rng: random.Random, words: int, vocab: list[str] = VOCAB) -> str:
    return " ".join(rng.choice(vocab) for _ in range(words)) + "."


def random_doc(rng: random.Random, case_id: int, vocab: list[str] = VOCAB) -> CaseDoc:
    return CaseDoc(
        id=case_id,
        slug=f"case-{case_id}",
        title=random_text(rng, vocab=vocab, words=rng.randint(2, 6)),
        summary=random_text(rng, vocab=vocab, words=rng.randint(5, 20)),
        seat=rng.choice(["Porter", "District nurse", "Receptionist"]),
        setting=rng.choice(["Ward", "Community"]),
        body=random_text(rng, vocab=vocab, words=rng.randint(20, 400)),
        status="published",
        tags=tuple(rng.sample(vocab, 2)),
        questions=(random_text(rng, vocab=vocab, words=8),),
    )
