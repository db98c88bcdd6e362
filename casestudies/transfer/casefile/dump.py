"""Writing a case file: the canonical text of a case, which reads back as the same case
with this package's parser and with any YAML 1.1 loader."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

import yaml

from casestudies.cases.data import CaseData, QuestionData, TeachingNotesData
from casestudies.transfer.casefile.data import TEACHING_NOTE_KEYS, normalise_body

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
    return "\n".join(lines) + "\n" + normalise_body(case.body)
