"""The case editor's form: its fields as typed, and its question-row buttons."""

from __future__ import annotations

from casestudies.curation.editor import CaseInput, QuestionInput, TeachingNotesInput
from casestudies.params import parse_int

MAX_QUESTION_ROWS = 40
MAX_DUPLICATES_SEEN = 50


def parse_case_editor(formdata) -> tuple[CaseInput, str]:
    """The editor's fields as typed, and the button pressed: save, preview, add-question,
    remove-N, up-N or down-N. Question rows are q-N-text, q-N-notes, q-N-minutes."""
    rows = []
    for index in range(MAX_QUESTION_ROWS):
        if f"q-{index}-text" not in formdata:
            break
        rows.append(
            QuestionInput(
                formdata.get(f"q-{index}-text", ""),
                formdata.get(f"q-{index}-notes", ""),
                formdata.get(f"q-{index}-minutes", "")[:10],
            )
        )
    version = parse_int(formdata.get("version", ""))
    seen = (parse_int(value) for value in formdata.getlist("duplicates_seen")[:MAX_DUPLICATES_SEEN])
    duplicates_seen = frozenset(case_id for case_id in seen if case_id is not None)
    # Text fields are kept whole, as typed. Cutting them here saved a question, its notes or
    # a body shortened without any warning, and showed a refused title or summary again cut
    # short. The case format's rules refuse what is too long, beside the field, and
    # MAX_CONTENT_LENGTH bounds the whole request.
    form = CaseInput(
        title=formdata.get("title", ""),
        slug=formdata.get("slug", "")[:200],
        summary=formdata.get("summary", ""),
        seat=formdata.get("seat", ""),
        setting=formdata.get("setting", ""),
        dimensions=formdata.getlist("dimensions")[:20],
        tags=formdata.get("tags", ""),
        consent=formdata.get("consent", "")[:20],  # none chosen: an error, never a default
        review_by=formdata.get("review_by", "")[:20],
        body=formdata.get("body", ""),
        questions=rows,
        version=version,
        duplicates_seen=duplicates_seen,
        teaching_notes=TeachingNotesInput(
            **{name: formdata.get(f"tn-{name}", "") for name in TeachingNotesInput.FIELDS}
        ),
    )
    return form, formdata.get("action", "save")[:30]


def apply_question_action(form: CaseInput, action: str) -> bool:
    """Add, remove or move a question row in the form (no save). True if it was one."""
    if action == "add-question":
        if len(form.questions) < MAX_QUESTION_ROWS:
            form.questions.append(QuestionInput())
        return True
    kind, _, number = action.partition("-")
    index = parse_int(number, maximum=MAX_QUESTION_ROWS)
    if kind not in ("remove", "up", "down") or index is None:
        return False
    questions = form.questions
    if not 0 <= index < len(questions):
        return True
    if kind == "remove":
        questions.pop(index)
    elif kind == "up" and index > 0:
        questions[index - 1], questions[index] = questions[index], questions[index - 1]
    elif kind == "down" and index < len(questions) - 1:
        questions[index + 1], questions[index] = questions[index], questions[index + 1]
    return True
