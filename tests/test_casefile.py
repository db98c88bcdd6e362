"""The case-file format (docs/case-format.md): parsing, problems, dumping, bundles."""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import random
import re
import stat
import struct
import zipfile
from pathlib import Path

import pytest
import yaml

from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS
from casestudies.slugs import slugify
from casestudies.transfer.casefile import (
    BundleError,
    BundleFile,
    CaseData,
    CaseFileError,
    Problem,
    QuestionData,
    dump_case_file,
    parse_case_file,
    read_bundle,
    read_bundle_from_zip_bytes,
)

# The example of the spec, verbatim: parsed then dumped it must come back byte for byte.
SPEC_EXAMPLE = """\
---
title: Joining up district nursing and social care
slug: joining-up-district-nursing
summary: A district nurse persuades a wary team to plan care jointly with social workers.
seat: District nurse
setting: Community health services
dimensions: [Engaging the team, Connecting our service]
tags: [integrated care, social care, team resistance]
questions:
  - What made the team wary of joint working?
  - text: How did she build trust across two organisations?
    notes: Steer towards small early wins and shared visits.
    minutes: 10
status: published
consent: obtained
review_by: 2027-03-01
updated: 2026-03-01
---
The body, in Markdown. Headings, lists, emphasis, links and block quotes are kept.
"""
SPEC_PATH = Path(__file__).resolve().parent.parent / "docs" / "case-format.md"
# The copy the project started from, outside the repository; the spec in docs/ extends it.
SHARED_SPEC_PATH = Path("/work/shared/case-format.md")

# The smallest valid front matter: these keys sit on file lines 2, 3 and 4.
BASE = ["title: A porter who changed the lounge", "summary: Patients waited for hours.", "seat: Porter"]
BODY = "## The situation\n\nPatients waited.\n"


def case_file(*lines: str, body: str = BODY) -> bytes:
    """A file whose front matter is `lines`: lines[i] is on file line i + 2."""
    return ("---\n" + "".join(line + "\n" for line in lines) + "---\n" + body).encode("utf-8")


def parse(*lines: str, body: str = BODY) -> CaseData:
    return parse_case_file(case_file(*lines, body=body), "case.md")


def problems_of(data: bytes, filename: str = "case.md") -> list[str]:
    with pytest.raises(CaseFileError) as caught:
        parse_case_file(data, filename)
    assert caught.value.problems, "a CaseFileError must list its problems"
    return [str(problem) for problem in caught.value.problems]


def problems(*lines: str, body: str = BODY) -> list[str]:
    return problems_of(case_file(*lines, body=body))


def replace(lines: list[str], key: str, value: str) -> list[str]:
    """BASE with one key's line replaced (line numbers stay put)."""
    return [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]


# -- the spec's example --------------------------------------------------------------------
def test_spec_example_parses_to_every_field() -> None:
    case = parse_case_file(SPEC_EXAMPLE.encode(), "joining-up.md")
    assert case == CaseData(
        title="Joining up district nursing and social care",
        slug="joining-up-district-nursing",
        summary="A district nurse persuades a wary team to plan care jointly with social workers.",
        seat="District nurse",
        setting="Community health services",
        dimensions=("Engaging the team", "Connecting our service"),
        tags=("integrated care", "social care", "team resistance"),
        questions=(
            QuestionData("What made the team wary of joint working?"),
            QuestionData(
                "How did she build trust across two organisations?",
                notes="Steer towards small early wins and shared visits.",
                minutes=10,
            ),
        ),
        status="published",
        consent="obtained",
        review_by=datetime.date(2027, 3, 1),
        updated=datetime.date(2026, 3, 1),
        body="The body, in Markdown. Headings, lists, emphasis, links and block quotes are kept.\n",
    )


def test_spec_example_dumps_back_byte_for_byte() -> None:
    assert dump_case_file(parse_case_file(SPEC_EXAMPLE.encode(), "x.md")) == SPEC_EXAMPLE


def _spec_fields(spec: str) -> list[str]:
    """The field names of the spec's "Fields" table, in order."""
    table = spec.split("## Fields", 1)[1].split("\n\n", 2)[1]
    return [row.split("|")[1].strip() for row in table.splitlines()[2:]]


def test_spec_example_here_is_the_one_in_the_spec() -> None:
    front_matter = SPEC_EXAMPLE.split("---\nThe body")[0]
    assert front_matter in SPEC_PATH.read_text(encoding="utf-8")


def test_the_spec_in_docs_extends_the_shared_one() -> None:
    """The shared copy lives outside the repository; where it is present, the spec in docs/
    has its example and every one of its fields, in the same order."""
    if not SHARED_SPEC_PATH.exists():
        pytest.skip(f"no shared copy of the spec at {SHARED_SPEC_PATH} to compare with")
    shared, ours = SHARED_SPEC_PATH.read_text(encoding="utf-8"), SPEC_PATH.read_text(encoding="utf-8")
    assert SPEC_EXAMPLE.split("---\nThe body")[0] in shared
    shared_fields = _spec_fields(shared)
    assert "title" in shared_fields and "body" in shared_fields
    assert [field for field in _spec_fields(ours) if field in shared_fields] == shared_fields


# -- required fields and lengths -----------------------------------------------------------
@pytest.mark.parametrize("key", ["title", "summary", "seat"])
def test_each_required_key_missing_is_reported_on_line_1(key: str) -> None:
    lines = [line for line in BASE if not line.startswith(f"{key}:")]
    assert problems(*lines) == [f"case.md:1: missing required key '{key}'"]


@pytest.mark.parametrize(("key", "line"), [("title", 2), ("summary", 3), ("seat", 4)])
@pytest.mark.parametrize("value", ["", "'   '", '""'])
def test_each_required_key_empty_is_reported_on_its_line(key: str, line: int, value: str) -> None:
    assert problems(*replace(BASE, key, value)) == [f"case.md:{line}: {key} must not be empty"]


@pytest.mark.parametrize(
    ("key", "maximum"), [("title", 200), ("summary", 600), ("seat", 80), ("setting", 80), ("slug", 80)]
)
def test_length_bounds_counted_after_trimming(key: str, maximum: int) -> None:
    lines = [*BASE, "setting: Acute hospital", "slug: a-slug"]
    at_edge = "a" * maximum
    case = parse(*replace(lines, key, f"'  {at_edge}  '"))
    assert getattr(case, key) == at_edge
    assert parse(*replace(lines, key, "a")) is not None  # the lower edge: one character
    line = 2 + next(i for i, text in enumerate(lines) if text.startswith(f"{key}:"))
    message = problems(*replace(lines, key, "a" * (maximum + 1)))
    if key == "slug":
        assert message == [
            f"case.md:{line}: slug '{'a' * 81}' is not valid: use only lower-case letters a-z, digits and "
            "hyphens, 1 to 80 characters"
        ]
    else:
        assert message == [f"case.md:{line}: {key} is too long: {maximum + 1} characters (at most {maximum})"]


def test_text_is_trimmed_and_setting_is_optional() -> None:
    case = parse("title: '  Spaced out  '", "summary: '  s  '", "seat: '\tPorter '")
    assert (case.title, case.summary, case.seat, case.setting) == ("Spaced out", "s", "Porter", None)
    # An empty optional value is the same as leaving the key out.
    assert parse(*BASE, "setting:").setting is None
    assert parse(*BASE, "setting: '  '").setting is None


def test_scalars_are_read_as_text_not_yaml_1_1_types() -> None:
    case = parse(
        "title: No",
        "summary: 1.5",
        "seat: 2024",
        "setting: null",
        "tags: [yes, on, ~, 2027-03-01, 0x10]",
        "questions: [true, '10']",
    )
    assert (case.title, case.summary, case.seat, case.setting) == ("No", "1.5", "2024", "null")
    assert case.tags == ("yes", "on", "~", "2027-03-01", "0x10")
    assert case.slug == "no"
    assert [q.text for q in case.questions] == ["true", "10"]


def test_folded_and_literal_summaries_keep_what_yaml_gives_trimmed() -> None:
    folded = parse("title: T", "summary: >", "  One line", "  and the same line.", "", "  New paragraph.", "seat: S")
    assert folded.summary == "One line and the same line.\nNew paragraph."
    literal = parse("title: T", "summary: |", "  First line", "  second line", "seat: S")
    assert literal.summary == "First line\nsecond line"


@pytest.mark.parametrize(("key", "line"), [("title", 2), ("summary", 3), ("seat", 4)])
def test_a_list_or_mapping_where_text_is_expected_is_a_problem(key: str, line: int) -> None:
    assert problems(*replace(BASE, key, "[a, b]")) == [f"case.md:{line}: {key} must be text, not a list"]
    assert problems(*replace(BASE, key, "{a: b}")) == [f"case.md:{line}: {key} must be text, not a mapping"]


# -- slug ----------------------------------------------------------------------------------
def test_slug_as_written() -> None:
    assert parse(*BASE, "slug: porter-2-lounge").slug == "porter-2-lounge"


def test_slug_derived_from_title_when_absent_or_empty() -> None:
    assert parse(*BASE).slug == "a-porter-who-changed-the-lounge"
    assert parse(*BASE, "slug:").slug == "a-porter-who-changed-the-lounge"
    case = parse(*replace(BASE, "title", '"Café culture: a nurse\'s story"'))
    assert case.slug == "cafe-culture-a-nurse-s-story" == slugify(case.title)
    long_title = parse(*replace(BASE, "title", "word " * 39))
    assert len(long_title.slug) <= 80 and long_title.slug == slugify(long_title.title)


@pytest.mark.parametrize("slug", ["Upper-Case", "with space", "under_score", "café", "a/b"])
def test_invalid_slug_says_what_is_allowed(slug: str) -> None:
    assert problems(*BASE, f"slug: {slug}") == [
        f"case.md:5: slug '{slug}' is not valid: use only lower-case letters a-z, digits and hyphens, "
        "1 to 80 characters"
    ]


def test_slug_that_cannot_be_derived_is_reported_on_the_title_line() -> None:
    assert problems("summary: s", "title: '!!! ???'", "seat: x") == [
        "case.md:3: no slug can be made from this title (it has no letters or digits a-z, 0-9): add a slug key"
    ]
    assert parse("summary: s", "title: 日本語", "seat: x", "slug: japanese").slug == "japanese"


# -- dimensions ----------------------------------------------------------------------------
def test_dimensions_matched_case_insensitively_stored_canonically_without_duplicates() -> None:
    case = parse(*BASE, "dimensions: [engaging THE team, Leading with care, Engaging the team, LEADING WITH CARE]")
    assert case.dimensions == ("Engaging the team", "Leading with care")
    block = parse(*BASE, "dimensions:", "  - holding to account", "  - influencing for results")
    assert block.dimensions == ("Holding to account", "Influencing for results")
    assert parse(*BASE, "dimensions: []").dimensions == ()


def test_unknown_dimension_lists_the_nine_on_the_item_line() -> None:
    assert problems(*BASE, "dimensions:", "  - Engaging the team", "  - Bravery") == [
        f"case.md:7: unknown dimension 'Bravery' (allowed: {', '.join(LEADERSHIP_DIMENSIONS)})"
    ]
    assert len(LEADERSHIP_DIMENSIONS) == 9


def test_dimensions_must_be_a_list_of_text() -> None:
    assert problems(*BASE, "dimensions: Engaging the team") == [
        "case.md:5: dimensions must be a list such as [Engaging the team], not text"
    ]
    assert problems(*BASE, "dimensions: [[Engaging the team]]") == [
        "case.md:5: dimensions item 1 must be text, not a list"
    ]


# -- tags ----------------------------------------------------------------------------------
def test_tags_trimmed_and_deduplicated_case_insensitively_keeping_the_first_spelling() -> None:
    case = parse(*BASE, "tags: ['  Flow ', flow, FLOW, Teamwork, ' teamwork']")
    assert case.tags == ("Flow", "Teamwork")


def test_tag_length_bounds() -> None:
    assert parse(*BASE, f"tags: [{'t' * 50}, x]").tags == ("t" * 50, "x")
    assert problems(*BASE, f"tags: [ok, {'t' * 51}]") == ["case.md:5: tag 2 is too long: 51 characters (at most 50)"]
    assert problems(*BASE, "tags: [ok, '  ']") == ["case.md:5: tag 2 must not be empty"]


def test_tags_must_be_a_list_of_text() -> None:
    assert problems(*BASE, "tags: flow") == ["case.md:5: tags must be a list such as [flow, teamwork], not text"]
    assert problems(*BASE, "tags:", "  - ok", "  - {a: b}") == ["case.md:7: tag 2 must be text, not a mapping"]


# -- questions -----------------------------------------------------------------------------
def test_every_question_form() -> None:
    case = parse(
        *BASE,
        "questions:",
        "  - '  Plain question?  '",
        "  - text: Only text",
        "  - text: With notes",
        "    notes: '  Steer gently.  '",
        "  - text: With minutes",
        "    minutes: 240",
        "  - text: Empty notes",
        "    notes: ''",
        "    minutes: 1",
    )
    assert case.questions == (
        QuestionData("Plain question?"),
        QuestionData("Only text"),
        QuestionData("With notes", notes="Steer gently."),
        QuestionData("With minutes", minutes=240),
        QuestionData("Empty notes", notes=None, minutes=1),
    )


@pytest.mark.parametrize("minutes", ["0", "241", "ten", "1.5", "true", "-5", "010", "+10", "'١٠'", "1e2"])
def test_minutes_must_be_a_whole_number_from_1_to_240(minutes: str) -> None:
    shown = minutes.strip("'")
    assert problems(*BASE, "questions:", "  - text: Q", f"    minutes: {minutes}") == [
        f"case.md:7: question 1 minutes must be a whole number from 1 to 240, not '{shown}'"
    ]


def test_question_problems_point_at_their_lines() -> None:
    assert problems(
        *BASE,
        "questions:",
        "  - ''",
        "  - [nested]",
        "  - notes: no text",
        "  - text: '   '",
        "  - text: T",
        "    note: typo",
        "    text: again",
        "  - text: [a]",
    ) == [
        "case.md:6: question 1 has no text",
        "case.md:7: question 2 must be text or a mapping with text, notes and minutes, not a list",
        "case.md:8: question 3 is missing 'text'",
        "case.md:9: question 4 text must not be empty",
        "case.md:11: unknown key 'note' in question 5 (allowed: text, notes, minutes)",
        "case.md:12: duplicate key 'text' in question 5",
        "case.md:13: question 6 text must be plain text, not a list",
    ]
    assert problems(*BASE, "questions: Why?") == ["case.md:5: questions must be a list, not text"]


# -- status and consent --------------------------------------------------------------------
def test_status_and_consent_defaults() -> None:
    case = parse(*BASE)
    assert (case.status, case.consent) == ("draft", "not-needed")


@pytest.mark.parametrize("status", ["draft", "review", "published"])
@pytest.mark.parametrize("consent", ["obtained", "not-needed", "pending"])
def test_status_and_consent_values(status: str, consent: str) -> None:
    lines = [*BASE, f"status: {status}", f"consent: {consent}"]
    if (status, consent) == ("published", "pending"):
        assert problems(*lines) == ["case.md:5: a case whose consent is pending can't be published"]
    else:
        case = parse(*lines)
        assert (case.status, case.consent) == (status, consent)


def test_unknown_status_and_consent() -> None:
    assert problems(*BASE, "status: Published", "consent: yes") == [
        "case.md:5: status 'Published' is not allowed (allowed: draft, review, published)",
        "case.md:6: consent 'yes' is not allowed (allowed: obtained, not-needed, pending)",
    ]


# -- dates ---------------------------------------------------------------------------------
def test_dates() -> None:
    case = parse(*BASE, "review_by: 2027-03-01", "updated: '2024-02-29'")
    assert (case.review_by, case.updated) == (datetime.date(2027, 3, 1), datetime.date(2024, 2, 29))
    assert parse(*BASE).review_by is None


@pytest.mark.parametrize("value", ["1/3/2027", "2027-3-1", "2027-03-01T10:00", "27-03-01", "soon", "20270301"])
def test_dates_must_be_written_yyyy_mm_dd(value: str) -> None:
    assert problems(*BASE, f"review_by: {value}") == [
        f"case.md:5: review_by must be a date written YYYY-MM-DD, not '{value}'"
    ]


@pytest.mark.parametrize("value", ["2027-02-30", "2023-02-29", "2027-13-01", "0000-01-01"])
def test_dates_must_be_real(value: str) -> None:
    assert problems(*BASE, f"updated: {value}") == [f"case.md:5: updated '{value}' is not a real date"]


# -- keys ----------------------------------------------------------------------------------
def test_unknown_key_is_named_with_the_allowed_keys() -> None:
    assert problems(*BASE, "tgas: [flow]") == [
        "case.md:5: unknown key 'tgas' (allowed: title, slug, summary, seat, setting, dimensions, tags, "
        "questions, status, consent, review_by, updated, teaching_notes)"
    ]
    assert problems(*BASE, "body: text")[0].startswith("case.md:5: unknown key 'body' (allowed: ")
    # A hostile key is cut short in the report.
    assert problems(*BASE, "k" * 1000 + ": v")[0].startswith(f"case.md:5: unknown key '{'k' * 100}…' (allowed: ")


def test_duplicate_key_is_reported_on_its_second_line() -> None:
    assert problems(*BASE, "title: Again") == ["case.md:5: duplicate key 'title'"]


def test_a_key_must_be_a_name() -> None:
    assert problems(*BASE, "? [a, b]", ": c") == ["case.md:5: a key must be a name, not a list"]


# -- the shape of the file -----------------------------------------------------------------
def test_no_front_matter() -> None:
    expected = [
        "case.md:1: no front matter: the file must begin with a line '---', then the YAML keys, then a line '---'"
    ]
    assert problems_of(b"# Just Markdown\n") == expected
    assert problems_of(b"") == expected
    assert problems_of(b"\n---\ntitle: x\n---\nbody\n") == expected


def test_unclosed_front_matter() -> None:
    expected = ["case.md:1: the front matter is not closed: add a line '---' after the YAML keys"]
    assert problems_of(b"---\ntitle: x\n") == expected
    assert problems_of(b"---") == expected


def test_empty_front_matter_reports_every_required_key() -> None:
    assert problems_of(b"---\n---\nbody\n") == [
        "case.md:1: missing required key 'title'",
        "case.md:1: missing required key 'summary'",
        "case.md:1: missing required key 'seat'",
    ]


def test_front_matter_must_be_a_mapping() -> None:
    assert problems("- title", "- summary") == [
        "case.md:2: the front matter must be a mapping of keys to values, not a list"
    ]


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ([*BASE[:2], "seat: a: b"], 4, "malformed YAML: mapping values are not allowed"),
        ([*BASE, "tags: [a, b", "setting: x"], 6, "malformed YAML: did not find expected ',' or ']'"),
        ([BASE[0], "\tsummary: x", BASE[2]], 3, "malformed YAML: found a tab character"),
    ],
)
def test_malformed_yaml_is_reported_on_its_file_line(lines: list[str], line: int, message: str) -> None:
    found = problems(*lines)
    assert len(found) == 1 and found[0].startswith(f"case.md:{line}: {message}"), found


def test_not_utf8_points_at_the_first_bad_byte() -> None:
    data = case_file(*BASE).replace(b"Porter", b"Port\xe9r")
    assert problems_of(data) == ["case.md:4: the file is not valid UTF-8 (byte 0xe9); save it with UTF-8 encoding"]
    assert problems_of(b"\xff\xfe-\x00-\x00")[0].startswith("case.md:1: the file is not valid UTF-8")


def test_bom_and_windows_line_endings_are_tolerated() -> None:
    data = b"\xef\xbb\xbf" + case_file(*BASE, body="Line one\nLine two\n\n").replace(b"\n", b"\r\n")
    case = parse_case_file(data, "x.md")
    assert case.title == "A porter who changed the lounge"
    assert case.body == "Line one\nLine two\n"


def test_body_is_everything_after_the_closing_line_normalised() -> None:
    case = parse(*BASE, body="\nIntro\n---\nA rule above, kept.\n---\n\n\n  \n")
    assert case.body == "\nIntro\n---\nA rule above, kept.\n---\n"
    assert parse(*BASE, body="No newline at the end").body == "No newline at the end\n"
    assert parse(*BASE, body="Old Mac\rline endings\r").body == "Old Mac\nline endings\n"


@pytest.mark.parametrize("body", ["", "\n", "   \n\t\n"])
def test_empty_body_is_reported_on_the_closing_line(body: str) -> None:
    assert problems(*BASE, body=body) == [
        "case.md:5: the body is empty: write the case in Markdown after the closing '---'"
    ]
    assert problems_of(b"---\n---") == [
        "case.md:1: missing required key 'title'",
        "case.md:1: missing required key 'summary'",
        "case.md:1: missing required key 'seat'",
        "case.md:2: the body is empty: write the case in Markdown after the closing '---'",
    ]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    lines = [
        "title: " + "t" * 201,
        "seat: ''",
        "tgas: [x]",
        "dimensions: [Bravery]",
        "status: published",
        "consent: pending",
        "questions:",
        "  - text: Q",
        "    minutes: 0",
        "review_by: 2027-02-30",
        "seat: again",
    ]
    assert problems_of(case_file(*lines, body=" \n"), "cases/bad.md") == [
        "cases/bad.md:1: missing required key 'summary'",
        "cases/bad.md:2: title is too long: 201 characters (at most 200)",
        "cases/bad.md:3: seat must not be empty",
        "cases/bad.md:4: unknown key 'tgas' (allowed: title, slug, summary, seat, setting, dimensions, tags, "
        "questions, status, consent, review_by, updated, teaching_notes)",
        f"cases/bad.md:5: unknown dimension 'Bravery' (allowed: {', '.join(LEADERSHIP_DIMENSIONS)})",
        "cases/bad.md:6: a case whose consent is pending can't be published",
        "cases/bad.md:10: question 1 minutes must be a whole number from 1 to 240, not '0'",
        "cases/bad.md:11: review_by '2027-02-30' is not a real date",
        "cases/bad.md:12: duplicate key 'seat'",
        "cases/bad.md:13: the body is empty: write the case in Markdown after the closing '---'",
    ]


def test_problem_and_error_formatting() -> None:
    problem = Problem("dir/a.md", 7, "title must not be empty")
    assert str(problem) == "dir/a.md:7: title must not be empty"
    error = CaseFileError([problem, Problem("dir/a.md", 9, "x")])
    assert error.problems == [problem, Problem("dir/a.md", 9, "x")]
    assert str(error) == "dir/a.md:7: title must not be empty\ndir/a.md:9: x"
    assert copy.deepcopy(error).problems == error.problems  # rebuilt from its args, as pickle does


# -- hostile input -------------------------------------------------------------------------
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
)


def test_anchors_and_aliases_are_refused() -> None:
    message = "YAML anchors and aliases ('&name', '*name') are not allowed in case files"
    assert problems(*BASE[:2], "seat: &s Porter", "setting: *s") == [f"case.md:4: {message}"]
    assert problems(*BASE, BILLION_LAUGHS) == [f"case.md:5: {message}"]


@pytest.mark.parametrize(
    "data",
    [
        b"---\ntitle: " + b"[" * 100_000 + b"\n---\nbody\n",
        b"---\n" + b"".join(b" " * i + b"k:\n" for i in range(300)) + b"---\nbody\n",
        b"---\n" + b"a: b\n" * 300_000 + b"---\nbody\n",
        b"---\ntitle: a\x00b\n---\nbody\n",
        b"---\ntitle: '\\ud800'\n---\nbody\n",
        b'---\ntitle: "\\ud800"\n---\nbody\n',
        b"---\ntitle: a\n...\nsummary: b\n---\nbody\n",
        b"---\n%YAML 1.1\n---\nbody\n",
        b"---\n!!python/object:os.system {}\n---\nbody\n",
        b"---\n---\n---\n",
        b"---\n\t\n---\n",
        bytes(range(256)),
    ],
)
def test_hostile_input_raises_only_case_file_error(data: bytes) -> None:
    assert problems_of(data)


def test_random_junk_and_mutations_raise_only_case_file_error() -> None:
    rng = random.Random(20260301)
    tokens = [b"---", b"\n", b": ", b"- ", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"!!int ", b"? ", b"|", b">"]
    tokens += [b"'", b'"', b"\\", b"#", b"\t", b"\xff", b"\xe2\x80\xa8", b"\r", b"...", b"\x00", b"minutes: 10"]
    base = SPEC_EXAMPLE.encode()
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(data))
            data[at : at + rng.randint(0, 4)] = rng.choice(tokens) if rng.random() < 0.7 else rng.randbytes(2)
        try:
            case = parse_case_file(bytes(data), "fuzz.md")
        except CaseFileError as exc:
            assert exc.problems
            continue
        # Whatever parses must survive the round trip.
        assert parse_case_file(dump_case_file(case).encode(), "x.md") == case
    for _ in range(200):
        with contextlib.suppress(CaseFileError):  # problems are expected; any other exception fails
            parse_case_file(rng.randbytes(rng.randint(0, 200)), "junk.md")


def test_a_large_body_is_fine() -> None:
    body = "A long story.\n" * 700_000  # about 10 MB
    assert parse(*BASE, body=body).body == body


# -- dumping -------------------------------------------------------------------------------
def test_dump_minimal_case_always_writes_slug_status_and_consent() -> None:
    case = CaseData(title="T", slug="t", summary="S", seat="Porter", body="Body.\n")
    assert dump_case_file(case) == (
        "---\ntitle: T\nslug: t\nsummary: S\nseat: Porter\nstatus: draft\nconsent: not-needed\n---\nBody.\n"
    )


def test_dump_keys_in_table_order_and_question_forms() -> None:
    case = CaseData(
        title="T",
        slug="t",
        summary="S",
        seat="Porter",
        body="Body",
        setting="Acute hospital",
        dimensions=("Leading with care",),
        tags=("flow",),
        questions=(
            QuestionData("Only text?"),
            QuestionData("With minutes", minutes=5),
            QuestionData("With notes", notes="A steer."),
        ),
        status="review",
        consent="obtained",
        review_by=datetime.date(2027, 1, 2),
        updated=datetime.datetime(2026, 3, 4, 5, 6),  # a datetime is written as its date
    )
    assert dump_case_file(case) == (
        "---\n"
        "title: T\n"
        "slug: t\n"
        "summary: S\n"
        "seat: Porter\n"
        "setting: Acute hospital\n"
        "dimensions: [Leading with care]\n"
        "tags: [flow]\n"
        "questions:\n"
        "  - Only text?\n"
        "  - text: With minutes\n"
        "    minutes: 5\n"
        "  - text: With notes\n"
        "    notes: A steer.\n"
        "status: review\n"
        "consent: obtained\n"
        "review_by: 2027-01-02\n"
        "updated: 2026-03-04\n"
        "---\n"
        "Body\n"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Plain words, with a comma", "Plain words, with a comma"),
        ("yes", '"yes"'),
        ("No", '"No"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("2024", '"2024"'),
        ("1.5", '"1.5"'),
        ("2027-03-01", '"2027-03-01"'),
        ("a: b", '"a: b"'),
        ("a #b", '"a #b"'),
        ("# heading", '"# heading"'),
        ("- dash", '"- dash"'),
        ("'quoted'", "\"'quoted'\""),
        ('say "hi"', 'say "hi"'),
        ('"hi"', '"\\"hi\\""'),
        ("back\\slash", "back\\slash"),
        ("ends with:", '"ends with:"'),
        ("Two\nlines", '"Two\\nlines"'),
        ("tab\there", '"tab\\there"'),
        ("Café ☕ 😀 שלום", "Café ☕ 😀 שלום"),
        ("line\u2028sep", '"line\\Lsep"'),
    ],
)
def test_dump_quotes_only_what_needs_it(value: str, written: str) -> None:
    case = CaseData(title=value, slug="s", summary="S", seat="Porter", body="B\n")
    text = dump_case_file(case)
    assert text.splitlines()[1] == f"title: {written}"
    assert parse_case_file(text.encode(), "x.md").title == value
    assert yaml.safe_load(text.split("\n---\n")[0][4:])["title"] == value


def test_dump_quotes_flow_list_items_that_would_break_the_list() -> None:
    case = CaseData(title="T", slug="t", summary="S", seat="P", body="B\n", tags=("a, b", "[x]", "why?", "k:v", "ok"))
    assert 'tags: ["a, b", "[x]", "why?", "k:v", ok]' in dump_case_file(case)
    assert parse_case_file(dump_case_file(case).encode(), "x.md").tags == case.tags


def test_dump_normalises_like_parse_so_export_is_a_fixed_point() -> None:
    case = CaseData(title=" T ", slug="t", summary="S", seat="P", setting="  ", body="a\r\nb\r\n\r\n")
    text = dump_case_file(case)
    assert text.endswith("---\na\nb\n") and "setting" not in text and "title: T\n" in text
    assert dump_case_file(parse_case_file(text.encode(), "x.md")) == text


# -- round trip ----------------------------------------------------------------------------
AWKWARD = [
    "yes", "No", "null", "~", "2024", "1.5", "2027-03-01", "- dash", "? q", "a: b", "a #b", "#tag", "[x]", "{y}",
    "a,b", "'q'", '"dq"', "\\", "\\n", "---", "...", "<<", "=", "@x", "`x", "%x", "|", ">", "&a", "*a", "!t", "x:",
    "a:b", "é", "😀", "שלום עולם", "مرحبا", "\u2028", "\x85", "\ufeff", "\xa0", "0x10", "1e3", ".inf", "+1", "010",
    "TRUE", "off", "y", "\x00", "\x7f", "\ud7ff", "\uffff", "\t", "C#", "50%", "a - b", "Q?", "x\ny", "--- a",
]  # fmt: skip


def awkward_text(rng: random.Random, maximum: int) -> str:
    while True:
        parts = [rng.choice(AWKWARD) if rng.random() < 0.7 else rng.choice(["word", " ", "  "]) for _ in range(4)]
        text = "".join(parts[: rng.randint(1, 4)]).strip()[:maximum].strip()
        if text:
            return text


def random_case(rng: random.Random) -> CaseData:
    """A case as parse_case_file can produce it: trimmed, within bounds, deduplicated."""
    tags: dict[str, str] = {}
    for _ in range(rng.randint(0, 4)):
        tag = awkward_text(rng, 50)
        tags.setdefault(tag.casefold(), tag)
    questions = tuple(
        QuestionData(
            awkward_text(rng, 300),
            awkward_text(rng, 300) if rng.random() < 0.5 else None,
            rng.randint(1, 240) if rng.random() < 0.5 else None,
        )
        for _ in range(rng.randint(0, 3))
    )
    date = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randint(0, 3000))
    return CaseData(
        title=awkward_text(rng, 200),
        slug=rng.choice(["a", "0", "1-2", "x" * 80, "porter-lounge"]),
        summary=awkward_text(rng, 600),
        seat=awkward_text(rng, 80),
        setting=awkward_text(rng, 80) if rng.random() < 0.5 else None,
        dimensions=tuple(rng.sample(LEADERSHIP_DIMENSIONS, rng.randint(0, 3))),
        tags=tuple(tags.values()),
        questions=questions,
        status=rng.choice(["draft", "review"]),
        consent=rng.choice(["obtained", "not-needed", "pending"]),
        review_by=date if rng.random() < 0.5 else None,
        updated=date if rng.random() < 0.5 else None,
        body=rng.choice(["Body\n", "---\nA rule first\n---\n", "  indented\n", "😀 \\ \"q\" 'q'\n", "x\n\n---\n"]),
    )


def test_round_trip_of_many_awkward_cases() -> None:
    rng = random.Random(1234)
    for _ in range(400):
        case = random_case(rng)
        text = dump_case_file(case)
        again = parse_case_file(text.encode("utf-8"), "x.md")
        assert again == case, text
        assert dump_case_file(again) == text
        # Any other YAML 1.1 tool reads the same strings, dates and numbers.
        front = yaml.safe_load(text.split("\n---\n", 1)[0][4:])
        assert (front["title"], front["summary"], front["seat"]) == (case.title, case.summary, case.seat)
        assert tuple(front.get("tags", ())) == case.tags
        assert front.get("review_by") == case.review_by and front.get("setting") == case.setting
        for item, question in zip(front.get("questions", []), case.questions, strict=True):
            if isinstance(item, str):
                assert (item, question.notes, question.minutes) == (question.text, None, None)
            else:
                assert (item["text"], item.get("notes"), item.get("minutes")) == (
                    question.text,
                    question.notes,
                    question.minutes,
                )


# -- bundles -------------------------------------------------------------------------------
def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def test_folder_is_read_recursively_with_relative_names_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_bytes(b"B")
    (tmp_path / "A.MD").write_bytes(b"A")
    (tmp_path / "notes.txt").write_bytes(b"no")
    (tmp_path / ".DS_Store").write_bytes(b"no")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "c.md").write_bytes(b"C")
    (tmp_path / "nested" / "._c.md").write_bytes(b"no")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_bytes(b"no")
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "y.md").write_bytes(b"no")
    assert read_bundle(tmp_path) == [
        BundleFile("A.MD", b"A"),
        BundleFile("b.md", b"B"),
        BundleFile("nested/deeper/c.md", b"C"),
    ]
    assert read_bundle(str(tmp_path / "b.md")) == [BundleFile("b.md", b"B")]


def test_folder_limits(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / f"{name}.md").write_bytes(b"x" * 100)
    with pytest.raises(BundleError, match=re.escape("more than 2 .md files")):
        read_bundle(tmp_path, max_files=2)
    with pytest.raises(BundleError, match=re.escape("'a.md' is larger than the limit of 99 bytes")):
        read_bundle(tmp_path, max_file_bytes=99)
    with pytest.raises(BundleError, match="add up to more than the limit of 250 bytes"):
        read_bundle(tmp_path, max_total_bytes=250)


def test_missing_path_and_non_zip_file(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such file or folder"):
        read_bundle(tmp_path / "nope")
    (tmp_path / "cases.zip").write_bytes(b"this is not a zip")
    with pytest.raises(BundleError, match=re.escape("cases.zip is not a zip file")):
        read_bundle(tmp_path / "cases.zip")
    with pytest.raises(BundleError, match="the upload is not a zip file"):
        read_bundle_from_zip_bytes(b"PK\x03\x04 broken")


def test_zip_takes_md_files_and_ignores_the_rest(tmp_path: Path) -> None:
    data = zip_bytes(
        {
            "cases/": b"",
            "cases/b.md": b"B",
            "./cases/a.md": b"A",
            "cases/deep/c.md": b"C",
            "cases/image.png": b"\x89PNG",
            "__MACOSX/cases/._a.md": b"apple",
            "cases/.DS_Store": b"apple",
            ".hidden/x.md": b"no",
        }
    )
    expected = [BundleFile("cases/a.md", b"A"), BundleFile("cases/b.md", b"B"), BundleFile("cases/deep/c.md", b"C")]
    assert read_bundle_from_zip_bytes(data) == expected
    (tmp_path / "upload.zip").write_bytes(data)
    assert read_bundle(tmp_path / "upload.zip") == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../x.md", "points outside the zip"),
        ("cases/../../x.md", "points outside the zip"),
        ("..\\x.md", "points outside the zip"),
        ("/abs.md", "has an absolute path"),
        ("\\abs.md", "has an absolute path"),
        ("C:/x.md", "has an absolute path"),
        ("c:x.md", "has an absolute path"),
    ],
)
def test_zip_path_traversal_is_refused(name: str, message: str) -> None:
    with pytest.raises(BundleError, match=re.escape(message)):
        read_bundle_from_zip_bytes(zip_bytes({"ok.md": b"fine", name: b"evil"}))


def test_zip_symlink_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.md")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(BundleError, match="is a symbolic link"):
        read_bundle_from_zip_bytes(buffer.getvalue())


def patch_headers(data: bytes, *, flags: int | None = None, size: int | None = None) -> bytes:
    """Rewrite the general-purpose flags or the uncompressed size in every local and central header."""
    out = bytearray(data)
    for signature, flags_at, size_at in ((b"PK\x03\x04", 6, 22), (b"PK\x01\x02", 8, 24)):
        for match in re.finditer(re.escape(signature), bytes(out)):
            if flags is not None:
                out[match.start() + flags_at : match.start() + flags_at + 2] = struct.pack("<H", flags)
            if size is not None:
                out[match.start() + size_at : match.start() + size_at + 4] = struct.pack("<I", size)
    return bytes(out)


def test_zip_encrypted_entry_is_refused() -> None:
    with pytest.raises(BundleError, match="is encrypted"):
        read_bundle_from_zip_bytes(patch_headers(zip_bytes({"a.md": b"secret"}), flags=0x1))


def test_zip_bomb_is_refused_by_its_declared_size() -> None:
    bomb = zip_bytes({"bomb.md": b"\0" * (3 * 1024 * 1024)})
    assert len(bomb) < 10_000  # highly compressible: small to upload, large to unpack
    with pytest.raises(BundleError, match=r"'bomb.md' is 3.0 MB uncompressed; the limit is 1.0 MB per file"):
        read_bundle_from_zip_bytes(bomb, max_file_bytes=1024 * 1024)


def test_zip_bomb_lying_about_its_size_is_refused_while_reading() -> None:
    liar = patch_headers(zip_bytes({"bomb.md": b"\0" * (2 * 1024 * 1024)}), size=100)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("bomb.md").file_size == 100  # the header now lies
    with pytest.raises(BundleError, match="damaged zip file"):
        read_bundle_from_zip_bytes(liar, max_file_bytes=1024 * 1024)


def test_zip_total_size_and_entry_count_limits() -> None:
    data = zip_bytes({f"{i}.md": b"x" * 1000 for i in range(5)})
    assert len(read_bundle_from_zip_bytes(data, max_total_bytes=5000)) == 5
    with pytest.raises(BundleError, match="uncompresses to more than 4,999 bytes"):
        read_bundle_from_zip_bytes(data, max_total_bytes=4999)
    with pytest.raises(BundleError, match="the zip has 5 entries; the limit is 4"):
        read_bundle_from_zip_bytes(data, max_files=4)


def test_zip_with_the_same_file_twice_is_refused() -> None:
    with pytest.raises(BundleError, match=re.escape("holds 'a.md' more than once")):
        read_bundle_from_zip_bytes(zip_bytes({"a.md": b"1", "./a.md": b"2"}))


def test_control_characters_in_the_body_are_reported_with_their_line() -> None:
    data = b"---\ntitle: a\nsummary: b\nseat: c\n---\nfirst line\nsecond\x00line\n"
    with pytest.raises(CaseFileError) as caught:
        parse_case_file(data, "x.md")
    assert [str(p) for p in caught.value.problems] == [
        "x.md:7: the body contains the control character U+0000: remove it"
    ]
    assert parse_case_file(b"---\ntitle: a\nsummary: b\nseat: c\n---\ntabs\tare fine\r\n", "x.md").body
