"""What is particular to the case-file format: its keys in the spec's order, the
defensive bounds of a hostile file, and the problems a file is refused with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Keys in the order of the spec's table: also the order dump_case_file writes them.
FIELD_ORDER: tuple[str, ...] = (
    "title",
    "slug",
    "summary",
    "seat",
    "setting",
    "dimensions",
    "tags",
    "questions",
    "status",
    "consent",
    "review_by",
    "updated",
    "teaching_notes",
)
REQUIRED_FIELDS: tuple[str, ...] = ("title", "summary", "seat")
QUESTION_KEYS: tuple[str, ...] = ("text", "notes", "minutes")
# teaching_notes' keys, in the order dump_case_file writes them.
TEACHING_NOTE_KEYS: tuple[str, ...] = (
    "synopsis",
    "objectives",
    "suits",
    "opening_question",
    "plan",
    "board_plan",
    "key_points",
)
PLAN_STEP_KEYS: tuple[str, ...] = ("minutes", "activity")

# Defensive bounds, far beyond any real case: the spec sets none, but a hostile or
# broken file must not cost minutes of parsing or a deep tree.
MAX_FRONT_MATTER_CHARS = 1_000_000
MAX_NESTING = 16


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CaseFileError(Exception):
    """A case file is invalid; `problems` lists every problem found, in line order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self.problems)  # the real argument, so that the error pickles and copies

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def normalise_body(body: str) -> str:
    """Line endings "\\n", and exactly one at the end: trailing blank space carries no meaning."""
    return body.replace("\r\n", "\n").replace("\r", "\n").rstrip() + "\n"
