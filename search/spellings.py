"""British and American spellings of the same word, applied at query time.

The library is written in British English, and learners type either. A query word also
looks for its other spelling ("organization" for "organisation", "behavior" for
"behaviour", "pediatric" for "paediatric"), in both directions, as a synonym does.
A variant that no case uses simply matches nothing, so the rules may be generous.
"""

from __future__ import annotations

import re

# Word endings (after a stem of at least three letters): American <-> British.
_ENDINGS: tuple[tuple[str, str], ...] = (
    ("ization", "isation"),
    ("izations", "isations"),
    ("izational", "isational"),
    ("ize", "ise"),
    ("izes", "ises"),
    ("ized", "ised"),
    ("izing", "ising"),
    ("izer", "iser"),
    ("izers", "isers"),
    ("yze", "yse"),
    ("yzed", "ysed"),
    ("yzes", "yses"),
    ("yzing", "ysing"),
    ("eling", "elling"),
    ("eled", "elled"),
    ("eler", "eller"),
    ("elers", "ellers"),
    ("ter", "tre"),
    ("ters", "tres"),
    ("ber", "bre"),
    ("bers", "bres"),
    ("ense", "ence"),
    ("og", "ogue"),
    ("ogs", "ogues"),
)

# Stems spelt -or in American English and -our in British ("behavior", "behaviour").
_OR_OUR = ("behavio", "colo", "favo", "hono", "labo", "neighbo", "humo", "rumo", "endeavo", "flavo", "vigo", "savo")

# Medical Greek and Latin: American "e" for British "ae" or "oe".
_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("ped", "paed"),
    ("anesth", "anaesth"),
    ("hem", "haem"),
    ("gynec", "gynaec"),
    ("orthoped", "orthopaed"),
    ("esophag", "oesophag"),
    ("edema", "oedema"),
    ("estrogen", "oestrogen"),
    ("fetus", "foetus"),
    ("fetal", "foetal"),
    ("leukem", "leukaem"),
    ("anem", "anaem"),
    ("cesarean", "caesarean"),
    ("diarrhea", "diarrhoea"),
    ("dyspnea", "dyspnoea"),
    ("ische", "ischae"),
)

_WHOLE_WORDS: tuple[tuple[str, str], ...] = (
    ("program", "programme"),
    ("programs", "programmes"),
    ("aging", "ageing"),
    ("judgment", "judgement"),
    ("gray", "grey"),
    ("mold", "mould"),
    ("plow", "plough"),
    ("skillful", "skilful"),
    ("fulfill", "fulfil"),
    ("enroll", "enrol"),
    ("practicing", "practising"),
    ("counseling", "counselling"),
    ("counselor", "counsellor"),
    ("counselors", "counsellors"),
)

_OR_OUR_RE = re.compile(rf"^({'|'.join(_OR_OUR)})(u?)r(s|ed|ing|al|ally)?$")


def spelling_variants(word: str) -> set[str]:
    """The word's other spellings, British for American and American for British (lower
    case); empty when there are none."""
    word = word.lower()
    if not word.isalpha() or len(word) < 4:
        return set()
    found: set[str] = set()
    for american, british in _WHOLE_WORDS:
        if word == american:
            found.add(british)
        elif word == british:
            found.add(american)
    for american, british in _ENDINGS:
        for this, other in ((american, british), (british, american)):
            if word.endswith(this) and len(word) - len(this) >= 3:
                found.add(word[: -len(this)] + other)
    match = _OR_OUR_RE.match(word)
    if match:
        stem, u, suffix = match.group(1), match.group(2), match.group(3) or ""
        found.add(f"{stem}{'' if u else 'u'}r{suffix}")
    for american, british in _DIGRAPHS:
        if word.startswith(british):
            found.add(american + word[len(british) :])
        elif word.startswith(american):
            found.add(british + word[len(american) :])
    found.discard(word)
    return found
