"""A case's history: its revisions, restoring one (as a new revision), and the word-level
differences between two."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from sqlalchemy import select

from casestudies.audit import services as audit
from casestudies.cases.data import CaseData
from casestudies.cases.revisions import save_case_data
from casestudies.cases.vocab import CONSENT_LABELS
from casestudies.curation.editor import TeachingNotesInput
from casestudies.curation.errors import CurationNotFound, check_consent
from casestudies.extensions import db
from casestudies.models import Case, CaseRevision, User
from casestudies.transfer.casefile import parse_case_file


def get_revision(case: Case, number: int) -> CaseRevision:
    revision = db.session.scalar(
        select(CaseRevision).where(CaseRevision.case_id == case.id, CaseRevision.number == number)
    )
    if revision is None:
        raise CurationNotFound(number)
    return revision


def revision_data(revision: CaseRevision) -> CaseData:
    return parse_case_file(revision.content.encode("utf-8"), f"revision-{revision.number}.md")


def restore_revision(case: Case, number: int, actor: User) -> None:
    """Save an old revision's content as a new revision. The case keeps its current status:
    restoring never publishes or unpublishes (that is the workflow's job)."""
    revision = get_revision(case, number)
    old = revision_data(revision)
    check_consent(case.status, old.consent)
    data = replace(old, status=case.status, slug=case.slug)
    save_case_data(data, actor=actor, case=case, summary=f"Restored revision {number}")
    audit.record(actor, "revision-restore", case=case, detail=f"Restored revision {number}")


@dataclass(frozen=True)
class DiffPiece:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass(frozen=True)
class FieldDiff:
    label: str
    pieces: list[DiffPiece]


def _word_diff(before: str, after: str) -> list[DiffPiece]:
    """Word-level differences, keeping the white space as it was."""
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    pieces: list[DiffPiece] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("same", "".join(a[a1:a2])))
        else:
            if a2 > a1:
                pieces.append(DiffPiece("removed", "".join(a[a1:a2])))
            if b2 > b1:
                pieces.append(DiffPiece("added", "".join(b[b1:b2])))
    return pieces


def _questions_text(data: CaseData) -> str:
    lines = []
    for number, q in enumerate(data.questions, start=1):
        line = f"{number}. {q.text}"
        if q.notes:
            line += f" [notes: {q.notes}]"
        if q.minutes:
            line += f" [{q.minutes} min]"
        lines.append(line)
    return "\n".join(lines)


def _teaching_notes_text(data: CaseData) -> str:
    notes = TeachingNotesInput.from_data(data.teaching_notes)
    return "\n".join(
        f"{name.replace('_', ' ').capitalize()}: {getattr(notes, name)}"
        for name in TeachingNotesInput.FIELDS
        if getattr(notes, name)
    )


def diff_revisions(case: Case, first: int, second: int) -> list[FieldDiff]:
    """Every field that differs between two revisions, as word-level pieces."""
    a, b = revision_data(get_revision(case, first)), revision_data(get_revision(case, second))
    fields = [
        ("Title", a.title, b.title),
        ("Summary", a.summary, b.summary),
        ("Seat", a.seat, b.seat),
        ("Care setting", a.setting or "", b.setting or ""),
        ("Leadership dimensions", ", ".join(a.dimensions), ", ".join(b.dimensions)),
        ("Tags", ", ".join(a.tags), ", ".join(b.tags)),
        ("Status", a.status, b.status),
        ("Consent", CONSENT_LABELS.get(a.consent, a.consent), CONSENT_LABELS.get(b.consent, b.consent)),
        ("Review by", str(a.review_by or ""), str(b.review_by or "")),
        ("Questions", _questions_text(a), _questions_text(b)),
        ("Teaching notes", _teaching_notes_text(a), _teaching_notes_text(b)),
        ("Text", a.body, b.body),
    ]
    return [FieldDiff(label, _word_diff(x, y)) for label, x, y in fields if x != y]
