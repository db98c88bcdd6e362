"""Case files: one case study as Markdown with a YAML front-matter block.

The format is specified in docs/case-format.md. This module parses and validates a
file (reporting every problem as FILE:LINE: message), writes the canonical text of a
case, and reads a bundle of files from a folder or a zip without trusting the zip.

The front matter is read from YAML *events*, not with a YAML constructor, because:
- every scalar must be read as text: YAML 1.1 would turn `title: No` into False and
  `seat: 2024` into 2024;
- every problem needs the line of the offending key or item, which nodes carry;
- anchors and aliases ("billion laughs") are refused outright: the format needs none;
- building the tree without recursion keeps hostile nesting from reaching Python's
  recursion limit.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import stat
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import yaml

from casestudies.slugs import SLUG_MAX_LENGTH, is_valid_slug, slugify
from casestudies.transfer.names import name_problem
from casestudies.vocab import (
    CONSENTS,
    DEFAULT_CONSENT,
    DEFAULT_STATUS,
    LEADERSHIP_DIMENSIONS,
    STATUSES,
    Status,
    canonical_dimension,
)

__all__ = [
    "BundleError",
    "BundleFile",
    "CaseData",
    "CaseFileError",
    "PlanStepData",
    "Problem",
    "QuestionData",
    "TeachingNotesData",
    "dump_case_file",
    "parse_case_file",
    "read_bundle",
    "read_bundle_from_zip_bytes",
]

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
TEACHING_TEXT_MAX_LENGTH = 10_000  # each text of a teaching note
TEACHING_ITEM_MAX_LENGTH = 500  # each objective, key point or plan activity
TEACHING_ITEMS_MAX = 40  # objectives, key points or plan steps

TITLE_MAX_LENGTH = 200
SUMMARY_MAX_LENGTH = 600
SEAT_MAX_LENGTH = 80
SETTING_MAX_LENGTH = 80
TAG_MAX_LENGTH = 50
MINUTES_MIN, MINUTES_MAX = 1, 240

# Defensive bounds, far beyond any real case: the spec sets none, but a hostile or
# broken file must not cost minutes of parsing or a deep tree.
MAX_FRONT_MATTER_CHARS = 1_000_000
MAX_NESTING = 16

# The C parser is much faster; both report the same events and line numbers.
_YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- data ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionData:
    text: str
    notes: str | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class PlanStepData:
    minutes: int
    activity: str


@dataclass(frozen=True)
class TeachingNotesData:
    """A case's teaching note (facilitators only). Empty texts are None, empty lists ()."""

    synopsis: str | None = None
    objectives: tuple[str, ...] = ()
    suits: str | None = None
    opening_question: str | None = None
    plan: tuple[PlanStepData, ...] = ()
    board_plan: str | None = None
    key_points: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return self == TeachingNotesData()


@dataclass(frozen=True)
class CaseData:
    title: str
    slug: str
    summary: str
    seat: str
    body: str
    setting: str | None = None
    dimensions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    questions: tuple[QuestionData, ...] = ()
    status: str = DEFAULT_STATUS
    consent: str = DEFAULT_CONSENT
    review_by: datetime.date | None = None
    updated: datetime.date | None = None
    teaching_notes: TeachingNotesData | None = None  # None: the file has none


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


# -- parsing: text and front matter --------------------------------------------------------
_BOM = b"\xef\xbb\xbf"
_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
# Characters YAML refuses anywhere in a stream (YAML 1.1 "printable", as libyaml applies it).
_YAML_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# YAML counts these as line breaks too; file lines are counted on "\n" only.
_YAML_BREAKS = re.compile("[\n\x85\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Stop(Exception):
    """Ends parsing early with one problem: the rest of the file cannot be read."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _decode(data: bytes) -> str:
    """The text of the file; a UTF-8 byte-order mark is tolerated (some editors add one)."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise _Stop(line, f"the file is not valid UTF-8 (byte 0x{bad}); save it with UTF-8 encoding") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class _Split:
    front_matter: str
    closing_line: int  # 1-based line of the closing `---`
    body: str


def _split(text: str) -> _Split:
    opening = _FENCE.match(text)
    if opening is None:
        raise _Stop(1, "no front matter: the file must begin with a line '---', then the YAML keys, then a line '---'")
    closing = _FENCE.search(text, opening.end() + 1) if opening.end() < len(text) else None
    if closing is None:
        raise _Stop(1, "the front matter is not closed: add a line '---' after the YAML keys")
    front_matter = text[opening.end() + 1 : closing.start()]
    body = text[closing.end() + 1 :]
    return _Split(front_matter, text.count("\n", 0, closing.start()) + 1, body)


def _normalise_body(body: str) -> str:
    """Line endings "\\n", and exactly one at the end: trailing blank space carries no meaning."""
    return body.replace("\r\n", "\n").replace("\r", "\n").rstrip() + "\n"


# -- parsing: a small YAML tree with file line numbers -------------------------------------
@dataclass
class _Scalar:
    value: str
    line: int


@dataclass
class _Seq:
    items: list[_Node]
    line: int


@dataclass
class _Map:
    flat: list[_Node]  # key, value, key, value, ... as the events arrive
    line: int

    @property
    def pairs(self) -> list[tuple[_Node, _Node]]:
        return list(zip(self.flat[::2], self.flat[1::2], strict=True))


_Node = _Scalar | _Seq | _Map


def _kind(node: _Node) -> str:
    """What a node is, in the words of a problem message."""
    if isinstance(node, _Seq):
        return "a list"
    return "a mapping" if isinstance(node, _Map) else "text"


def _line_mapper(front_matter: str, first_line: int) -> Callable[[int], int]:
    """Maps YAML's 0-based line numbers to 1-based file lines (YAML also breaks on NEL/LS/PS)."""
    if not re.search("[\x85\u2028\u2029]", front_matter):
        return lambda yaml_line: yaml_line + first_line
    file_lines = [first_line]
    for match in _YAML_BREAKS.finditer(front_matter):
        file_lines.append(file_lines[-1] + (match.group() == "\n"))
    return lambda yaml_line: file_lines[min(yaml_line, len(file_lines) - 1)]


def _compose(front_matter: str, first_line: int) -> _Node | None:
    """The single document of the front matter as a tree, or None when it is empty."""
    to_file = _line_mapper(front_matter, first_line)
    bad = _YAML_UNPRINTABLE.search(front_matter)
    if bad is not None:
        line = first_line + front_matter.count("\n", 0, bad.start())
        raise _Stop(line, f"the character U+{ord(bad.group()):04X} is not allowed in the front matter")
    root: _Node | None = None
    stack: list[_Seq | _Map] = []
    documents = 0
    try:
        for event in yaml.parse(front_matter, Loader=_YAML_LOADER):
            line = to_file(event.start_mark.line)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _Stop(line, "YAML anchors and aliases ('&name', '*name') are not allowed in case files")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Stop(line, "the front matter must be a single YAML document")
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                continue
            node: _Node
            if isinstance(event, yaml.ScalarEvent):
                if _SURROGATE.search(event.value):
                    raise _Stop(line, "invalid Unicode escape: a lone surrogate is not a character")
                node = _Scalar(event.value, line)
            elif isinstance(event, yaml.SequenceStartEvent):
                node = _Seq([], line)
            elif isinstance(event, yaml.MappingStartEvent):
                node = _Map([], line)
            else:  # stream and document boundaries
                continue
            if stack:
                parent = stack[-1]
                (parent.items if isinstance(parent, _Seq) else parent.flat).append(node)
            else:
                root = node
            if isinstance(node, _Seq | _Map):
                stack.append(node)
                if len(stack) > MAX_NESTING:
                    raise _Stop(line, "the front matter is nested too deeply")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = to_file(mark.line) if mark is not None else first_line
        context = f" ({exc.context})" if exc.context else ""
        raise _Stop(line, f"malformed YAML: {exc.problem}{context}") from None
    except yaml.YAMLError as exc:
        raise _Stop(first_line, f"malformed YAML: {exc}") from None
    return root


# -- parsing: fields -----------------------------------------------------------------------
def _allowed(names: Iterable[str]) -> str:
    return ", ".join(names)


def _shown(value: str, limit: int = 100) -> str:
    """A value quoted in a message, cut short: a hostile file must not make huge reports."""
    return "'" + (value if len(value) <= limit else value[:limit] + "…") + "'"


def _unknown_key(name: str, allowed: tuple[str, ...], where: str) -> str:
    return f"unknown key {_shown(name)}{where} (allowed: {_allowed(allowed)})"


def _too_long(what: str, length: int, maximum: int) -> str:
    return f"{what} is too long: {length} characters (at most {maximum})"


class _Checker:
    """Validates the front-matter tree, collecting every problem rather than stopping."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.filename, line, message))

    # -- structure
    def entries(self, node: _Map, allowed: tuple[str, ...], where: str = "") -> dict[str, tuple[int, _Node]]:
        """Known keys -> (line of the key, value), reporting odd, unknown and duplicate keys."""
        found: dict[str, tuple[int, _Node]] = {}
        seen: set[str] = set()
        for key, value in node.pairs:
            if not isinstance(key, _Scalar):
                self.add(key.line, f"a key{where} must be a name, not {_kind(key)}")
                continue
            name = key.value
            if name in seen:
                self.add(key.line, f"duplicate key {_shown(name)}{where}")
                continue
            seen.add(name)
            if name not in allowed:
                self.add(key.line, _unknown_key(name, allowed, where))
                continue
            found[name] = (key.line, value)
        return found

    def text(
        self, what: str, line: int, node: _Node, maximum: int | None, *, required: bool, expected: str = "text"
    ) -> str | None:
        """Trimmed text; None when empty (a problem only when required) or invalid."""
        if not isinstance(node, _Scalar):
            self.add(line, f"{what} must be {expected}, not {_kind(node)}")
            return None
        value = node.value.strip()
        if not value:
            if required:
                self.add(line, f"{what} must not be empty")
            return None
        if maximum is not None and len(value) > maximum:
            self.add(line, _too_long(what, len(value), maximum))
            return None
        return value

    def items(self, what: str, line: int, node: _Node) -> list[_Node]:
        """The items of a list; an empty value counts as an empty list."""
        if isinstance(node, _Seq):
            return node.items
        if isinstance(node, _Scalar) and not node.value.strip():
            return []
        example = {"dimensions": " such as [Engaging the team]", "tags": " such as [flow, teamwork]"}.get(what, "")
        self.add(line, f"{what} must be a list{example}, not {_kind(node)}")
        return []

    # -- fields
    def dimensions(self, line: int, node: _Node) -> tuple[str, ...]:
        result: list[str] = []
        for index, item in enumerate(self.items("dimensions", line, node), start=1):
            name = self.text(f"dimensions item {index}", item.line, item, None, required=True)
            if name is None:
                continue
            dimension = canonical_dimension(name)
            if dimension is None:
                self.add(item.line, f"unknown dimension {_shown(name)} (allowed: {_allowed(LEADERSHIP_DIMENSIONS)})")
            elif dimension not in result:
                result.append(dimension)
        return tuple(result)

    def tags(self, line: int, node: _Node) -> tuple[str, ...]:
        result: list[str] = []
        keys: set[str] = set()
        for index, item in enumerate(self.items("tags", line, node), start=1):
            tag = self.text(f"tag {index}", item.line, item, TAG_MAX_LENGTH, required=True)
            if tag is not None and tag.casefold() not in keys:
                keys.add(tag.casefold())
                result.append(tag)
        return tuple(result)

    def questions(self, line: int, node: _Node) -> tuple[QuestionData, ...]:
        result: list[QuestionData] = []
        for index, item in enumerate(self.items("questions", line, node), start=1):
            question = self.question(index, item)
            if question is not None:
                result.append(question)
        return tuple(result)

    def question(self, index: int, node: _Node) -> QuestionData | None:
        what = f"question {index}"
        if isinstance(node, _Scalar):
            text = self.text(what, node.line, node, None, required=False)
            if text is None:
                self.add(node.line, f"{what} has no text")
            return QuestionData(text) if text is not None else None
        if not isinstance(node, _Map):
            self.add(node.line, f"{what} must be text or a mapping with text, notes and minutes, not {_kind(node)}")
            return None
        found = self.entries(node, QUESTION_KEYS, f" in {what}")
        if "text" not in found:
            self.add(node.line, f"{what} is missing 'text'")
            text = None
        else:
            text = self.text(f"{what} text", *found["text"], None, required=True, expected="plain text")
        notes = self.text(f"{what} notes", *found["notes"], None, required=False) if "notes" in found else None
        minutes = self.minutes(what, *found["minutes"]) if "minutes" in found else None
        return QuestionData(text, notes, minutes) if text is not None else None

    def minutes(self, what: str, line: int, node: _Node) -> int | None:
        expected = f"a whole number from {MINUTES_MIN} to {MINUTES_MAX}"
        value = self.text(f"{what} minutes", line, node, None, required=False, expected=expected)
        if value is None:
            return None
        # ASCII digits only, no sign or leading zero (YAML 1.1 tools read 010 as octal 8).
        if re.fullmatch(r"[1-9][0-9]{0,2}", value) and MINUTES_MIN <= int(value) <= MINUTES_MAX:
            return int(value)
        self.add(line, f"{what} minutes must be {expected}, not {_shown(value)}")
        return None

    def teaching_notes(self, line: int, node: _Node) -> TeachingNotesData | None:
        """None when absent or empty; every problem is reported with its line."""
        if isinstance(node, _Scalar) and not node.value.strip():
            return None
        if not isinstance(node, _Map):
            self.add(line, f"teaching_notes must be a mapping with keys such as synopsis and plan, not {_kind(node)}")
            return None
        found = self.entries(node, TEACHING_NOTE_KEYS, " in teaching_notes")

        def text(name: str) -> str | None:
            if name not in found:
                return None
            return self.text(f"teaching_notes {name}", *found[name], TEACHING_TEXT_MAX_LENGTH, required=False)

        notes = TeachingNotesData(
            synopsis=text("synopsis"),
            objectives=self.one_line_items("objectives", found),
            suits=text("suits"),
            opening_question=text("opening_question"),
            plan=self.plan_steps(found),
            board_plan=text("board_plan"),
            key_points=self.one_line_items("key_points", found),
        )
        return None if notes.is_empty() else notes

    def one_line_items(self, name: str, found: dict[str, tuple[int, _Node]]) -> tuple[str, ...]:
        if name not in found:
            return ()
        line, node = found[name]
        items = self.items(f"teaching_notes {name}", line, node)
        if len(items) > TEACHING_ITEMS_MAX:
            self.add(line, f"teaching_notes {name} has {len(items)} items: at most {TEACHING_ITEMS_MAX}")
        result = []
        for index, item in enumerate(items[:TEACHING_ITEMS_MAX], start=1):
            what = f"teaching_notes {name} item {index}"
            value = self.text(what, item.line, item, TEACHING_ITEM_MAX_LENGTH, required=True)
            if value is not None and "\n" in value:
                self.add(item.line, f"{what} must be one line")
            elif value is not None:
                result.append(value)
        return tuple(result)

    def plan_steps(self, found: dict[str, tuple[int, _Node]]) -> tuple[PlanStepData, ...]:
        if "plan" not in found:
            return ()
        line, node = found["plan"]
        items = self.items("teaching_notes plan", line, node)
        if len(items) > TEACHING_ITEMS_MAX:
            self.add(line, f"teaching_notes plan has {len(items)} steps: at most {TEACHING_ITEMS_MAX}")
        result = []
        for index, item in enumerate(items[:TEACHING_ITEMS_MAX], start=1):
            what = f"teaching_notes plan step {index}"
            if not isinstance(item, _Map):
                self.add(item.line, f"{what} must be a mapping with minutes and activity, not {_kind(item)}")
                continue
            step = self.entries(item, PLAN_STEP_KEYS, f" in {what}")
            missing = [key for key in PLAN_STEP_KEYS if key not in step]
            if missing:
                self.add(item.line, f"{what} is missing {' and '.join(repr(key) for key in missing)}")
                continue
            minutes = self.minutes(what, *step["minutes"])
            activity = self.text(f"{what} activity", *step["activity"], TEACHING_ITEM_MAX_LENGTH, required=True)
            if activity is not None and "\n" in activity:
                self.add(step["activity"][0], f"{what} activity must be one line")
            elif minutes is not None and activity is not None:
                result.append(PlanStepData(minutes, activity))
        return tuple(result)

    def choice(self, what: str, line: int, node: _Node, allowed: tuple[str, ...]) -> str | None:
        """One of the allowed values, or None when empty (the default applies) or invalid."""
        value = self.text(what, line, node, None, required=False, expected=f"one of {_allowed(allowed)}")
        if value is not None and value not in allowed:
            self.add(line, f"{what} {_shown(value)} is not allowed (allowed: {_allowed(allowed)})")
            return None
        return value

    def date(self, what: str, line: int, node: _Node) -> datetime.date | None:
        value = self.text(what, line, node, None, required=False, expected="a date written YYYY-MM-DD")
        if value is None:
            return None
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            self.add(line, f"{what} must be a date written YYYY-MM-DD, not {_shown(value)}")
            return None
        try:
            return datetime.date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            self.add(line, f"{what} {_shown(value)} is not a real date")
            return None


def _case_from_tree(checker: _Checker, root: _Node | None, body: str, closing_line: int) -> CaseData | None:
    """The case, or None when the checker has recorded problems."""
    if root is None:  # an empty front matter is an empty mapping: every required key is missing
        root = _Map([], 1)
    if not isinstance(root, _Map):
        # Reporting every key as missing as well would only bury the one real mistake.
        checker.add(root.line, f"the front matter must be a mapping of keys to values, not {_kind(root)}")
        _check_body(checker, body, closing_line)
        return None
    found = checker.entries(root, FIELD_ORDER)
    for name in REQUIRED_FIELDS:
        if name not in found:
            checker.add(1, f"missing required key '{name}'")
    title = checker.text("title", *found["title"], TITLE_MAX_LENGTH, required=True) if "title" in found else None
    slug = _slug(checker, found, title)
    summary = (
        checker.text("summary", *found["summary"], SUMMARY_MAX_LENGTH, required=True) if "summary" in found else None
    )
    seat = checker.text("seat", *found["seat"], SEAT_MAX_LENGTH, required=True) if "seat" in found else None
    setting = (
        checker.text("setting", *found["setting"], SETTING_MAX_LENGTH, required=False) if "setting" in found else None
    )
    dimensions = checker.dimensions(*found["dimensions"]) if "dimensions" in found else ()
    tags = checker.tags(*found["tags"]) if "tags" in found else ()
    questions = checker.questions(*found["questions"]) if "questions" in found else ()
    status = checker.choice("status", *found["status"], STATUSES) if "status" in found else None
    consent = checker.choice("consent", *found["consent"], CONSENTS) if "consent" in found else None
    if status == Status.PUBLISHED and consent == "pending":
        checker.add(found["status"][0], "a case whose consent is pending can't be published")
    review_by = checker.date("review_by", *found["review_by"]) if "review_by" in found else None
    updated = checker.date("updated", *found["updated"]) if "updated" in found else None
    teaching_notes = checker.teaching_notes(*found["teaching_notes"]) if "teaching_notes" in found else None
    _check_body(checker, body, closing_line)
    if checker.problems or title is None or slug is None or summary is None or seat is None:
        return None
    return CaseData(
        title=title,
        slug=slug,
        summary=summary,
        seat=seat,
        body=_normalise_body(body),
        setting=setting,
        dimensions=dimensions,
        tags=tags,
        questions=questions,
        status=status or DEFAULT_STATUS,
        consent=consent or DEFAULT_CONSENT,
        review_by=review_by,
        updated=updated,
        teaching_notes=teaching_notes,
    )


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_body(checker: _Checker, body: str, closing_line: int) -> None:
    if not body.strip():
        checker.add(closing_line, "the body is empty: write the case in Markdown after the closing '---'")
    # Control characters are invisible in an editor, and PostgreSQL can't store NUL at all.
    match = _CONTROL.search(body)
    if match:
        line = closing_line + body.count("\n", 0, match.start()) + 1
        checker.add(line, f"the body contains the control character U+{ord(match.group()):04X}: remove it")


def _slug(checker: _Checker, found: dict[str, tuple[int, _Node]], title: str | None) -> str | None:
    """The slug as written, or derived from a valid title when absent (or empty)."""
    if "slug" in found:
        line, node = found["slug"]
        slug = checker.text("slug", line, node, None, required=False)
        if slug is not None:
            if not is_valid_slug(slug):
                checker.add(
                    line,
                    f"slug {_shown(slug)} is not valid: use only lower-case letters a-z, digits and hyphens, "
                    f"1 to {SLUG_MAX_LENGTH} characters",
                )
                return None
            return slug
    if title is None:
        return None  # the title's own problem is already reported
    derived = slugify(title)
    if not derived:
        checker.add(
            found["title"][0],
            "no slug can be made from this title (it has no letters or digits a-z, 0-9): add a slug key",
        )
        return None
    return derived


def _parse(data: bytes, filename: str) -> CaseData:
    text = _decode(data)
    split = _split(text)
    if len(split.front_matter) > MAX_FRONT_MATTER_CHARS:
        raise _Stop(2, f"the front matter is too long (more than {MAX_FRONT_MATTER_CHARS:,} characters)")
    checker = _Checker(filename)
    try:
        root = _compose(split.front_matter, first_line=2)
    except _Stop as stop:
        # The keys cannot be read, but an empty body is worth reporting in the same run.
        checker.add(stop.line, stop.message)
        _check_body(checker, split.body, split.closing_line)
        raise CaseFileError(sorted(checker.problems, key=lambda p: p.line)) from None
    case = _case_from_tree(checker, root, split.body, split.closing_line)
    if case is None:
        # Stable sort: problems on one line keep the order they were found in.
        raise CaseFileError(sorted(checker.problems, key=lambda p: p.line))
    return case


def parse_case_file(data: bytes, filename: str) -> CaseData:
    """Parse and validate one case file; raise CaseFileError listing every problem found."""
    try:
        if isinstance(data, str):  # tolerated: a caller that already has text
            data = data.encode("utf-8", "surrogatepass")
        return _parse(bytes(data), filename)
    except CaseFileError:
        raise
    except _Stop as stop:
        raise CaseFileError([Problem(filename, stop.line, stop.message)]) from None
    except Exception as exc:
        # Last-resort guard, never expected: callers rely on CaseFileError being the only
        # exception, so that one odd file cannot abort a whole import.
        raise CaseFileError([Problem(filename, 1, f"the file could not be read ({type(exc).__name__})")]) from exc


# -- dumping -------------------------------------------------------------------------------
# A plain (unquoted) scalar must read back as the same string with this parser and with
# any YAML 1.1 loader, so anything doubtful is double-quoted.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = frozenset(",[]{}:#?")  # PyYAML ends a flow plain scalar at "?"
# Outside these: control characters, YAML's extra line breaks (NEL, LS, PS), the BOM,
# surrogates and non-characters. They are written as escapes, inside double quotes.
_PLAIN_UNSAFE_CHARS = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def _is_plain_safe(value: str, *, flow: bool) -> bool:
    if not value or value != value.strip() or value[0] in _INDICATORS:
        return False
    if _PLAIN_UNSAFE_CHARS.search(value) or "\xa0" in value:
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and not _FLOW_UNSAFE.isdisjoint(value):
        return False
    # Words such as yes, no, null, ~, 2024, 1.5, 2027-03-01, = or << resolve to other types.
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG


def _double_quoted(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _PLAIN_UNSAFE_CHARS.match(char):  # other control and special characters
            code = ord(char)
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _scalar(value: str, *, flow: bool = False) -> str:
    return value if _is_plain_safe(value, flow=flow) else _double_quoted(value)


def _flow_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_scalar(v.strip(), flow=True) for v in values) + "]"


def _date(value: datetime.date) -> str:
    # Not isoformat(): a datetime (a date subclass) would add a time.
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _question_lines(question: QuestionData) -> list[str]:
    text = _scalar(question.text.strip())
    notes = (question.notes or "").strip()
    if not notes and question.minutes is None:
        return [f"  - {text}"]
    lines = [f"  - text: {text}"]
    if notes:
        lines.append(f"    notes: {_scalar(notes)}")
    if question.minutes is not None:
        lines.append(f"    minutes: {int(question.minutes)}")
    return lines


def _teaching_note_lines(notes: TeachingNotesData) -> list[str]:
    lines = ["teaching_notes:"]
    for name in TEACHING_NOTE_KEYS:
        value = getattr(notes, name)
        if name == "plan":
            if value:
                lines.append("  plan:")
                for step in value:
                    lines.append(f"    - minutes: {int(step.minutes)}")
                    lines.append(f"      activity: {_scalar(step.activity.strip())}")
        elif isinstance(value, tuple):
            items = [item.strip() for item in value if item.strip()]
            if items:
                lines.append(f"  {name}:")
                lines.extend(f"    - {_scalar(item)}" for item in items)
        elif value and value.strip():
            lines.append(f"  {name}: {_scalar(value.strip())}")
    return lines


def dump_case_file(case: CaseData) -> str:
    """The file text, keys in the spec table's order.

    Text is trimmed and the body normalised as parse_case_file does, so that dumping a
    case from any source and parsing it back gives a fixed point.
    """
    lines = ["---", f"title: {_scalar(case.title.strip())}", f"slug: {_scalar(case.slug.strip())}"]
    lines.append(f"summary: {_scalar(case.summary.strip())}")
    lines.append(f"seat: {_scalar(case.seat.strip())}")
    if case.setting and case.setting.strip():
        lines.append(f"setting: {_scalar(case.setting.strip())}")
    if case.dimensions:
        lines.append(f"dimensions: {_flow_list(case.dimensions)}")
    if case.tags:
        lines.append(f"tags: {_flow_list(case.tags)}")
    if case.questions:
        lines.append("questions:")
        for question in case.questions:
            lines.extend(_question_lines(question))
    lines.append(f"status: {_scalar(case.status)}")
    lines.append(f"consent: {_scalar(case.consent)}")
    if case.review_by is not None:
        lines.append(f"review_by: {_date(case.review_by)}")
    if case.updated is not None:
        lines.append(f"updated: {_date(case.updated)}")
    if case.teaching_notes is not None and not case.teaching_notes.is_empty():
        lines.extend(_teaching_note_lines(case.teaching_notes))
    lines.append("---")
    return "\n".join(lines) + "\n" + _normalise_body(case.body)


# -- bundles -------------------------------------------------------------------------------
DEFAULT_MAX_FILES = 5000
DEFAULT_MAX_TOTAL_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
# An uploaded zip read in batches (read_zip_batches) may hold this many entries: its
# bytes stay within the upload limit and DEFAULT_MAX_TOTAL_BYTES uncompressed.
MAX_ZIP_ENTRIES = 50_000
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class BundleFile:
    name: str  # relative path inside the folder or zip, with "/" separators
    data: bytes


class BundleError(Exception):
    """A folder or zip that cannot be imported; the message is meant for the user."""


@dataclass(frozen=True)
class _Limits:
    max_files: int
    max_total_bytes: int
    max_file_bytes: int


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _is_case_name(parts: list[str]) -> bool:
    """A visible .md file: hidden files and folders (.DS_Store, .git, __MACOSX) are skipped."""
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return False
    return parts[-1].lower().endswith(".md")


class _Budget:
    """Counts bytes read against the per-file and total limits, while reading."""

    def __init__(self, limits: _Limits) -> None:
        self.limits = limits
        self.total = 0

    def read(self, name: str, handle: IO[bytes]) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            self.total += len(chunk)
            if size > self.limits.max_file_bytes:
                raise BundleError(f"'{name}' is larger than the limit of {_megabytes(self.limits.max_file_bytes)}")
            if self.total > self.limits.max_total_bytes:
                raise BundleError(
                    f"the files add up to more than the limit of {_megabytes(self.limits.max_total_bytes)}"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def read_bundle(
    path: str | os.PathLike[str],
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> list[BundleFile]:
    """The .md files of a folder (recursively), of a .zip, or a single .md file, sorted by name."""
    limits = _Limits(max_files, max_total_bytes, max_file_bytes)
    source = Path(path)
    try:
        if source.is_dir():
            return _read_folder(source, limits)
        if not source.exists():
            raise BundleError(f"no such file or folder: {source}")
        if source.suffix.lower() == ".md":
            _refuse_unsafe_name(source.name)
            with open(source, "rb") as handle:
                return [BundleFile(source.name, _Budget(limits).read(source.name, handle))]
        with open(source, "rb") as handle:
            return _read_zip(handle, limits, label=source.name)
    except OSError as exc:
        raise BundleError(f"cannot read {source}: {exc.strerror or exc}") from None


def read_bundle_batches(path: str | os.PathLike[str], batch_files: int = 1000) -> Iterator[list[BundleFile]]:
    """A bundle of any size, batch_files files at a time (the command line's import): a
    folder's .md files in name order, each batch read within read_bundle's limits; a zip
    or a single file as read_bundle reads it."""
    source = Path(path)
    if not source.is_dir():
        yield read_bundle(source)
        return
    names = bundle_names(source)
    for start in range(0, len(names), batch_files):
        limits = _Limits(batch_files, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_FILE_BYTES)
        budget = _Budget(limits)
        batch = []
        for relative in names[start : start + batch_files]:
            try:
                with open(source / relative, "rb") as handle:
                    batch.append(BundleFile(relative, budget.read(relative, handle)))
            except OSError as exc:
                raise BundleError(f"cannot read {source / relative}: {exc.strerror or exc}") from None
        yield batch


def bundle_names(path: str | os.PathLike[str]) -> list[str]:
    """The .md files a folder bundle holds (relative, sorted); 1 for a zip or a file."""
    root = Path(path)
    if not root.is_dir():
        return [root.name]
    found: list[str] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__MACOSX")
        for filename in names:
            full = Path(folder, filename)
            relative = full.relative_to(root).as_posix()
            if _is_case_name(relative.split("/")) and stat.S_ISREG(full.stat().st_mode):
                _refuse_unsafe_name(relative)
                found.append(relative)
    return sorted(found)


def read_bundle_from_zip_bytes(
    data: bytes,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> list[BundleFile]:
    """The .md files of an uploaded zip, with the same rules as read_bundle."""
    return _read_zip(io.BytesIO(data), _Limits(max_files, max_total_bytes, max_file_bytes), label="the upload")


def _read_folder(root: Path, limits: _Limits) -> list[BundleFile]:
    budget = _Budget(limits)
    files: list[BundleFile] = []
    # followlinks=False: a link to a parent folder would otherwise loop.
    for folder, subfolders, names in os.walk(root):
        # Sorted so that which file trips a limit does not depend on the file system.
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__MACOSX")
        for filename in sorted(names):
            full = Path(folder, filename)
            relative = full.relative_to(root).as_posix()
            if not _is_case_name(relative.split("/")) or not stat.S_ISREG(full.stat().st_mode):
                continue  # also skips FIFOs and devices named *.md, which would block or never end
            _refuse_unsafe_name(relative)
            if len(files) >= limits.max_files:
                raise BundleError(f"the folder has more than {limits.max_files} .md files")
            with open(full, "rb") as handle:
                files.append(BundleFile(relative, budget.read(relative, handle)))
    return sorted(files, key=lambda f: f.name)


def _zip_parts(name: str) -> list[str]:
    """The path components of a zip entry; refuses names that could escape the folder, and
    names with control or bidirectional characters (transfer/names.py)."""
    _refuse_unsafe_name(name)
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise BundleError(f"the zip entry '{name}' has an absolute path; refusing the zip")
    parts = [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]
    if ".." in parts:
        raise BundleError(f"the zip entry '{name}' points outside the zip with '..'; refusing the zip")
    return parts


def _refuse_unsafe_name(name: str) -> None:
    problem = name_problem(name)
    if problem:
        raise BundleError(problem)


def _check_zip_entry(info: zipfile.ZipInfo, limits: _Limits) -> None:
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BundleError(f"the zip entry '{info.filename}' is a symbolic link; refusing the zip")
    if info.flag_bits & 0x1:
        raise BundleError(f"the zip entry '{info.filename}' is encrypted; zips with a password are not supported")
    if info.file_size > limits.max_file_bytes:
        raise BundleError(
            f"the zip entry '{info.filename}' is {_megabytes(info.file_size)} uncompressed; "
            f"the limit is {_megabytes(limits.max_file_bytes)} per file"
        )


def _read_zip(handle: BinaryIO, limits: _Limits, *, label: str) -> list[BundleFile]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleError(f"{label} is not a zip file, a folder or a .md file ({exc})") from None
    try:
        with archive:
            return _read_zip_entries(archive, limits)
    except NotImplementedError as exc:  # e.g. an unsupported compression method
        raise BundleError(f"{label} cannot be read: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError) as exc:
        # A bad CRC (an entry longer or shorter than its header says), truncated data, ...
        raise BundleError(f"{label} is a damaged zip file ({exc})") from None


def _read_zip_entries(archive: zipfile.ZipFile, limits: _Limits) -> list[BundleFile]:
    wanted = _zip_members(archive, limits)
    # Sizes in headers can lie: the budget counts the bytes actually decompressed, and
    # zipfile checks each entry's CRC, so a truncated or padded entry is refused too.
    budget = _Budget(limits)
    files = []
    for name, info in wanted:
        with archive.open(info) as entry:
            files.append(BundleFile(name, budget.read(name, entry)))
    return sorted(files, key=lambda f: f.name)


def read_zip_batches(
    data: bytes, batch_files: int = 1000, *, max_entries: int = MAX_ZIP_ENTRIES
) -> Iterator[list[BundleFile]]:
    """The .md files of an uploaded zip of any number of files up to max_entries, in name
    order, batch_files at a time. Every entry's name and declared size is checked before
    the first batch; the per-file and total byte limits of read_bundle hold over the whole
    zip, counted as the entries are read."""
    label = "the upload"
    limits = _Limits(max_entries, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_FILE_BYTES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleError(f"{label} is not a zip file, a folder or a .md file ({exc})") from None
    try:
        with archive:
            wanted = sorted(_zip_members(archive, limits), key=lambda member: member[0])
            budget = _Budget(limits)
            for start in range(0, len(wanted), batch_files):
                batch = []
                for name, info in wanted[start : start + batch_files]:
                    with archive.open(info) as entry:
                        batch.append(BundleFile(name, budget.read(name, entry)))
                yield batch
    except NotImplementedError as exc:
        raise BundleError(f"{label} cannot be read: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError) as exc:
        raise BundleError(f"{label} is a damaged zip file ({exc})") from None


def _zip_members(archive: zipfile.ZipFile, limits: _Limits) -> list[tuple[str, zipfile.ZipInfo]]:
    """The case files of a zip, (name, entry), after checking every entry's name and
    declared size and the entries' count against limits."""
    entries = archive.infolist()
    if len(entries) > limits.max_files:
        raise BundleError(f"the zip has {len(entries):,} entries; the limit is {limits.max_files:,}")
    wanted: list[tuple[str, zipfile.ZipInfo]] = []
    declared_total = 0
    for info in entries:
        parts = _zip_parts(info.filename)  # checked for every entry: one hostile name refuses all
        _check_zip_entry(info, limits)
        declared_total += info.file_size
        if declared_total > limits.max_total_bytes:
            raise BundleError(f"the zip uncompresses to more than {_megabytes(limits.max_total_bytes)}")
        if not info.is_dir() and parts and _is_case_name(parts):
            wanted.append(("/".join(parts), info))
    counts = Counter(name for name, _ in wanted)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise BundleError(f"the zip holds '{duplicates[0]}' more than once")
    return wanted
