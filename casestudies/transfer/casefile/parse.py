"""Reading a case file: parse and validate it, reporting every problem as FILE:LINE: message.

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
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml

from casestudies.cases.data import CaseData, PlanStepData, QuestionData, TeachingNotesData
from casestudies.cases.limits import (
    MINUTES_MAX,
    MINUTES_MIN,
    SEAT_MAX_LENGTH,
    SETTING_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TEACHING_ITEM_MAX_LENGTH,
    TEACHING_ITEMS_MAX,
    TEACHING_TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    minutes_allowed,
)
from casestudies.cases.rules import consent_refusal
from casestudies.cases.vocab import (
    CONSENTS,
    DEFAULT_CONSENT,
    DEFAULT_STATUS,
    LEADERSHIP_DIMENSIONS,
    STATUSES,
    canonical_dimension,
)
from casestudies.slugs import SLUG_MAX_LENGTH, is_valid_slug, slugify
from casestudies.transfer.casefile.data import (
    FIELD_ORDER,
    MAX_FRONT_MATTER_CHARS,
    MAX_NESTING,
    PLAN_STEP_KEYS,
    QUESTION_KEYS,
    REQUIRED_FIELDS,
    TEACHING_NOTE_KEYS,
    CaseFileError,
    Problem,
    normalise_body,
)

# The C parser is much faster; both report the same events and line numbers.
_YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        if re.fullmatch(r"[1-9][0-9]{0,2}", value) and minutes_allowed(int(value)):
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
    refusal = consent_refusal(status, consent) if status and consent else None
    if refusal is not None:
        checker.add(found["status"][0], refusal)
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
        body=normalise_body(body),
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
