"""The core `cases` package: the rules every domain shares are written once, and every
domain asks them (the consent rule, availability, the minutes' limits)."""

from __future__ import annotations

import pytest
from flask import Flask

from casestudies import curation
from casestudies.cases import MINUTES_MAX, MINUTES_MIN, Consent, Status, consent_refusal, is_case_available
from casestudies.cases.rules import CONSENT_PENDING_REFUSAL
from casestudies.curation import CaseInput, CurationError, QuestionInput
from casestudies.extensions import db
from casestudies.params import parse_minutes
from casestudies.transfer.casefile import CaseFileError, parse_case_file

from .conftest import ensure_user

SENTENCE = CONSENT_PENDING_REFUSAL[:1].upper() + CONSENT_PENDING_REFUSAL[1:]


def test_the_consent_rule() -> None:
    assert consent_refusal(Status.PUBLISHED, Consent.PENDING) == CONSENT_PENDING_REFUSAL
    assert consent_refusal("published", "pending") == CONSENT_PENDING_REFUSAL  # stored values
    for status in Status:
        for consent in Consent:
            if (status, consent) != (Status.PUBLISHED, Consent.PENDING):
                assert consent_refusal(status, consent) is None


def test_stored_values_are_unchanged() -> None:
    assert [c.value for c in Consent] == ["obtained", "not-needed", "pending"]
    assert [s.value for s in Status] == ["draft", "review", "published"]


def _file(status: str, consent: str) -> bytes:
    return f"---\ntitle: T\nsummary: S\nseat: Porter\nstatus: {status}\nconsent: {consent}\n---\nBody\n".encode()


def test_the_case_file_reader_gives_the_rules_message() -> None:
    with pytest.raises(CaseFileError) as refused:
        parse_case_file(_file("published", "pending"), "case.md")
    assert [p.message for p in refused.value.problems] == [CONSENT_PENDING_REFUSAL]


def _input(**overrides) -> CaseInput:
    values = {
        "title": "The ward clerk who fixed the phones",
        "summary": "A ward clerk redesigns how calls reach the ward.",
        "seat": "Ward clerk",
        "consent": "pending",
        "body": "## The situation\n\nCalls went unanswered.\n",
        "questions": [QuestionInput("Why did calls go unanswered?")],
    }
    values.update(overrides)
    return CaseInput(**values)


def test_the_editor_workflow_and_restore_give_the_rules_message(app: Flask) -> None:
    author = ensure_user("curator")
    other = ensure_user("curator", email="second-curator@example.org")
    case, errors = curation.create_case(_input(), author)
    assert errors == {} and case is not None
    db.session.commit()
    curation.change_status(case, "review", author)
    with pytest.raises(CurationError) as workflow:
        curation.change_status(case, "published", other)
    assert str(workflow.value) == SENTENCE
    form = CaseInput.from_case(case)
    form.consent = "obtained"
    curation.update_case(case, form, author)
    curation.change_status(case, "published", other)
    db.session.commit()
    form = CaseInput.from_case(case)
    form.consent = "pending"
    changed, errors = curation.update_case(case, form, author)  # refused by the case-file reader's check
    assert not changed and errors == {"status": [SENTENCE]}
    with pytest.raises(CurationError) as restore:
        curation.restore_revision(case, 1, author)  # revision 1 had consent pending
    assert str(restore.value) == SENTENCE


def test_is_case_available(make_case) -> None:
    assert not is_case_available(None)
    assert is_case_available(make_case())
    assert not is_case_available(make_case(slug="a-draft", title="A draft", status="draft"))


def test_minutes_are_checked_against_the_one_set_of_limits() -> None:
    assert parse_minutes(str(MINUTES_MIN)) == MINUTES_MIN and parse_minutes(str(MINUTES_MAX)) == MINUTES_MAX
    for wrong in (MINUTES_MIN - 1, MINUTES_MAX + 1):
        with pytest.raises(ValueError, match=f"from {MINUTES_MIN} to {MINUTES_MAX}"):
            parse_minutes(str(wrong))
    head = "---\ntitle: T\nsummary: S\nseat: Porter\nquestions:\n  - text: Q\n    minutes: {}\n---\nBody\n"
    assert parse_case_file(head.format(MINUTES_MAX).encode(), "c.md").questions[0].minutes == MINUTES_MAX
    with pytest.raises(CaseFileError, match=f"a whole number from {MINUTES_MIN} to {MINUTES_MAX}"):
        parse_case_file(head.format(MINUTES_MAX + 1).encode(), "c.md")


def test_a_curators_missing_case_revision_or_tag_is_a_404(login) -> None:
    client = login("curator")
    assert client.get("/curate/cases/no-such-case").status_code == 404
    assert client.get("/tags/999999/rename").status_code == 404
