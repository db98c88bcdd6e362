"""Hostile input (issue #6): every field a user can fill, tried with script tags, event
handlers, `javascript:` links, Jinja-looking text, right-to-left and combining characters,
must be inert and intact on every page that shows it, in search snippets, in the print
views and in the PDFs; a 50,000-word text is saved and shown, or refused with a clear
message that keeps what was typed.

Each payload builds one small world through the forms, as people would (module scope, so
it is built once per payload): an admin creates a curator whose name carries the payload;
that curator writes a case in the editor with the payload in every field, sends it for
review with a comment and publishes it, leaves a second case as a draft, renames a tag,
and builds, annotates and shares a discussion guide. Every field's value is "<Label>
<payload>", so a failure names the field. The tests then read every output of that world.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.jobs import run_jobs
from casestudies.models import Case, Guide, GuideCase, Tag, User

from .conftest import PASSWORD, Auth, app_context_for, fetch_pdf, make_test_app

pytestmark = pytest.mark.hostile


# -- the payloads ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Payload:
    text: str
    search_word: str | None = None  # a word of the payload that search should find
    # What a PDF reader extracts: glyphs in display order, so a right-to-left override
    # shows its text reversed and the (invisible) control characters are not there.
    pdf_text: str | None = None

    @property
    def in_pdf(self) -> str:
        return self.pdf_text if self.pdf_text is not None else self.text


PAYLOADS: dict[str, Payload] = {
    "script": Payload("<script>alert(1)</script>", "alert"),
    "event-handler": Payload("<img src=x onerror=alert(1)>", "onerror"),
    "javascript-link": Payload('<a href="javascript:alert(1)">x</a>', "javascript"),
    "markdown-javascript-link": Payload("[x](javascript:alert(1))", "javascript"),
    "jinja-expression": Payload("{{ 7*7 }}"),
    "jinja-statement": Payload("{% if 1 %}"),
    "right-to-left-override": Payload("\u202etxt.exe\u202c", "txt.exe", pdf_text="exe.txt"),
    "arabic-hebrew": Payload("مرحبا بالعالم שלום עולם", "שלום"),
    "combining": Payload("Zalgo e\u0301\u0300\u0302\u0303\u0308 o\u0336\u0337\u0338\u0489", "zalgo"),
}

# Each field's value is f"{label} {payload}", the label a word found nowhere else, so a
# failure names the field, and a page that shows a label more often than the whole value
# has mangled the value somewhere.
CASE_LABELS = {
    "title": "CaseTitle",
    "summary": "CaseSummary",
    "seat": "CaseSeat",
    "setting": "CaseSetting",
    "tag": "CaseTag",
    "body": "CaseBody quokka",
    "question": "CaseQuestion",
    "notes": "CaseNotes",
    "comment": "StateComment",
    "draft": "DraftTitle",
    "renamed_tag": "RenamedTag",
}
GUIDE_LABELS = {
    "title": "GuideTitle",
    "audience": "GuideAudience",
    "objectives": "GuideObjective",
    "introduction": "GuideIntroduction",
    "ground_rules": "GuideRules",
    "opening_remarks": "GuideOpening",
    "closing_remarks": "GuideClosing",
    "own_question": "OwnQuestion",
    "own_notes": "OwnNotes",
    "how_it_went": "HowItWent",
}
# A snippet runs from a matched word to the last word at most 60 characters after it: the
# words searched for are on both sides of the payload.
SNIPPET_ENDS = {"body": "quokka", "summary": "wombat"}
PERSON_LABEL = "PersonName"
SLUG, DRAFT_SLUG = "hostile-case", "hostile-draft"
AUTHOR_EMAIL = "author@example.org"


# -- reading pages --------------------------------------------------------------------------
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
NEVER_FROM_THE_APP = {"iframe", "object", "embed", "frame", "frameset", "base", "applet"}
SCRIPT_URL_IN_A_TAG = re.compile(r"<[a-z][^<>]*\b(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """An HTML page as a browser would read it: its text (entities decoded), the values of
    its form fields, and everything in it that could run script."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.segments: list[tuple[str, tuple[str, ...]]] = []  # (text, enclosing tags and classes)
        self.stack: list[str] = []
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self.unsafe: list[str] = []
        self.feed(html)
        self.close()

    # HTMLParser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self._check(tag, values)
        if tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")
        if tag == "textarea":
            self._textarea = values.get("name", "")
            self.fields[self._textarea] = ""
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag + "".join(f".{c}" for c in values.get("class", "").split()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].split(".")[0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1].split(".")[0] == "script":
            self.unsafe.append(f"an inline script: {data[:80]!r}")
            return
        if self._textarea is not None:
            self.fields[self._textarea] += data
        self.segments.append((data, tuple(self.stack)))

    def _check(self, tag: str, attrs: dict[str, str]) -> None:
        for name, value in attrs.items():
            if name.startswith("on"):
                self.unsafe.append(f"<{tag} {name}={value!r}>: an event handler")
            squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
            if name in URL_ATTRIBUTES and squeezed.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.unsafe.append(f"<{tag} {name}={value!r}>: a script URL")
        if tag == "script" and not attrs.get("src", "").startswith("/static/"):
            self.unsafe.append(f"<script {attrs}>: not one of the app's own scripts")
        if tag in NEVER_FROM_THE_APP:
            self.unsafe.append(f"<{tag} {attrs}>")
        if tag == "img" and not attrs.get("src", "").startswith(("/static/", "data:")):
            self.unsafe.append(f"<img {attrs}>: an image from elsewhere")

    # reading
    def text(self, *, within: str | None = None, without: str | None = None) -> str:
        """The page's text; `within`/`without`: only text inside / outside elements whose
        tag or class ("del", ".app-snippet") is given."""

        def has(stack: tuple[str, ...], marker: str) -> bool:
            if marker.startswith("."):
                return any(marker[1:] in part.split(".")[1:] for part in stack)
            return any(part.split(".")[0] == marker for part in stack)

        return "".join(
            data
            for data, stack in self.segments
            if (within is None or has(stack, within)) and (without is None or not has(stack, without))
        )


@dataclass
class Report:
    """Problems found across the outputs of one test, reported together."""

    payload: Payload
    problems: list[str]

    def inert(self, where: str, page: Page) -> None:
        self.problems += [f"{where}: {problem}" for problem in page.unsafe]
        for raw in ("<script>alert", "<img src=x"):
            if raw in page.html:
                self.problems.append(f"{where}: {raw!r} in the HTML")
        if SCRIPT_URL_IN_A_TAG.search(page.html):
            self.problems.append(f"{where}: a javascript: URL in a tag")

    def intact(self, where: str, text: str, values: Iterable[str], *, pdf: bool = False) -> None:
        squeezed = " ".join(text.split()) if pdf else text
        for value in values:
            expected = value.replace(self.payload.text, self.payload.in_pdf) if pdf else value
            expected = " ".join(expected.split()) if pdf else expected
            label = value.split(self.payload.text)[0].strip()
            labels, intact = squeezed.count(label + " "), squeezed.count(expected)
            if not intact:
                self.problems.append(f"{where}: {value!r} is not there intact")
            elif f"{label} {self.payload.text}" in value and labels != intact:
                self.problems.append(f"{where}: {label} shown {labels} times, intact only {intact} times")
            if "{{" in self.payload.text and f"{label} 49" in squeezed:
                self.problems.append(f"{where}: {label!r} shows 49: the Jinja-looking text was evaluated")

    def page(self, where: str, html: str, values: Iterable[str]) -> Page:
        page = Page(html)
        self.inert(where, page)
        self.intact(where, page.text(), values)
        return page

    def field(self, where: str, page: Page, name: str, value: str) -> None:
        """A form field shows exactly what was typed (a textarea may add a final newline)."""
        shown = page.fields.get(name)
        if shown is None or shown.rstrip("\n") != value.rstrip("\n").replace("\r\n", "\n"):
            self.problems.append(f"{where}: field {name!r} shows {shown!r}, not {value!r}")

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def get(client: FlaskClient, url: str, status: int = 200, **query: str) -> str:
    response = client.get(url, query_string=query)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def snippet_html(html: str) -> str:
    return "".join(re.findall(r'class="[^"]*app-snippet[^"]*">(.*?)</p>', html, re.DOTALL))


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# -- the world of one payload ---------------------------------------------------------------
@dataclass
class World:
    payload: Payload
    case: dict[str, str]
    guide: dict[str, str]
    person: str
    admin: FlaskClient
    author: FlaskClient  # the curator with the hostile name, who wrote everything
    learner: FlaskClient
    facilitator: FlaskClient
    case_id: int
    guide_id: int
    token: str
    tag_id: int
    author_id: int
    after: list[tuple[str, str, list[str]]]  # (where, page, values its message shows)


def case_values(payload: Payload) -> dict[str, str]:
    values = {field: f"{label} {payload.text}" for field, label in CASE_LABELS.items()}
    return values | {field: f"{values[field]} {end}" for field, end in SNIPPET_ENDS.items()}


def signed_in(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    Auth(client).login(role)
    return client


def editor_form(values: dict[str, str], **overrides: str) -> dict[str, str]:
    return {
        "title": values["title"],
        "slug": SLUG,
        "summary": values["summary"],
        "seat": values["seat"],
        "setting": values["setting"],
        "tags": f"{values['tag']}, plain tag",
        "dimensions": "Engaging the team",
        "consent": "not-needed",
        "body": values["body"] + "\n",
        "q-0-text": values["question"],
        "q-0-notes": values["notes"],
        "q-0-minutes": "12",
        "action": "save",
        **overrides,
    }


def build_world(app: Flask, payload: Payload) -> World:
    p = payload.text
    case = case_values(payload)
    guide = {field: f"{label} {p}" for field, label in GUIDE_LABELS.items()}
    person = f"{PERSON_LABEL} {p}"
    after: list[tuple[str, str, list[str]]] = []

    def posted(client: FlaskClient, url: str, data: dict[str, str], flashed: list[str]) -> str:
        """Posts a form, follows the redirect and keeps the page it led to, with what its
        message should say."""
        response = client.post(url, data=data, follow_redirects=True)
        assert [r.status_code for r in response.history] == [302], (url, response.get_data(as_text=True)[:3000])
        assert response.status_code == 200, url
        after.append((f"the page after POST {url}", response.get_data(as_text=True), flashed))
        return response.request.path

    admin = signed_in(app, "admin")
    user = {"name": person, "email": AUTHOR_EMAIL, "role": "curator", "password": PASSWORD}
    posted(admin, "/admin/users/new", user, [person])
    author = app.test_client()
    assert author.post("/login", data={"email": AUTHOR_EMAIL, "password": PASSWORD}).status_code == 302
    # An account an admin created chooses its own password first.
    own = {"current_password": PASSWORD, "new_password": "the author's own passphrase", "confirm_password": ""}
    own["confirm_password"] = own["new_password"]
    assert author.post("/account/password", data=own).status_code == 302

    posted(author, "/curate/cases/new", editor_form(case), [case["title"]])
    posted(author, f"/curate/cases/{SLUG}/status", {"to": "review", "comment": case["comment"]}, [case["title"]])
    # The two-person rule: another account (the admin) publishes what the author sent for review.
    posted(admin, f"/curate/cases/{SLUG}/status", {"to": "published"}, [case["title"]])
    draft = editor_form(case, title=case["draft"], slug=DRAFT_SLUG, tags="")
    posted(author, "/curate/cases/new", draft, [case["draft"]])
    tag_id = db.session.scalar(select(Tag.id).where(Tag.key == "plain tag"))
    posted(author, f"/tags/{tag_id}/rename", {"name": case["renamed_tag"]}, [case["renamed_tag"]])

    case_id = db.session.scalar(select(Case.id).where(Case.slug == SLUG))
    details = {name: guide[name] for name in ("title", "audience", "introduction", "ground_rules")}
    details |= {"opening_remarks": guide["opening_remarks"], "closing_remarks": guide["closing_remarks"]}
    details |= {"objectives": guide["objectives"] + "\nA second objective", "duration_minutes": "90"}
    location = posted(author, "/guides/new", details, [guide["title"]])
    guide_id = int(location.rstrip("/").split("/")[-1])
    add = {"case_id": str(case_id), "guide": str(guide_id)}
    posted(author, "/guides/add-case", add, [case["title"], guide["title"]])  # "“…” added to <a>…</a>."
    posted(author, "/guides/add-case", add, [case["title"], guide["title"]])  # "“…” is already in “…”."
    item_id = db.session.scalar(select(GuideCase.id).where(GuideCase.guide_id == guide_id))
    own = {
        f"own-{item_id}-text": guide["own_question"],
        f"own-{item_id}-notes": guide["own_notes"],
        f"own-{item_id}-minutes": "5",
    }
    posted(author, f"/guides/{guide_id}/cases/{item_id}/questions/new", own, [])
    posted(author, f"/guides/{guide_id}/how-it-went", {"how_it_went": guide["how_it_went"]}, [])
    posted(author, f"/guides/{guide_id}/sharing", {"action": "share"}, [])
    db.session.expire_all()
    catch_up(app)  # everything above was typed through the pages; search follows
    token = db.session.get(Guide, guide_id).share_token
    author_id = db.session.scalar(select(User.id).where(User.email == AUTHOR_EMAIL))
    return World(
        payload=payload,
        case=case,
        guide=guide,
        person=person,
        admin=admin,
        author=author,
        learner=signed_in(app, "learner"),
        facilitator=signed_in(app, "facilitator"),
        case_id=case_id,
        guide_id=guide_id,
        token=token,
        tag_id=tag_id,
        author_id=author_id,
        after=after,
    )


@pytest.fixture(scope="module", params=list(PAYLOADS))
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, migrated_db_template: Path
) -> Iterator[World]:
    app = make_test_app(tmp_path_factory.mktemp("hostile"), migrated_db_template, WTF_CSRF_ENABLED=False)
    with app_context_for(app):
        yield build_world(app, PAYLOADS[request.param])


def report(world: World) -> Report:
    return Report(world.payload, [])


# -- case fields ----------------------------------------------------------------------------
def test_the_case_page(world: World) -> None:
    c, r = world.case, report(world)
    shown = [c["title"], c["summary"], c["seat"], c["setting"], c["tag"], c["renamed_tag"], c["body"], c["question"]]
    r.page("case page (learner)", get(world.learner, f"/cases/{SLUG}"), shown)
    r.page("case page (facilitator)", get(world.facilitator, f"/cases/{SLUG}"), [*shown, c["notes"]])
    r.check()


def test_the_library_and_home_page(world: World) -> None:
    c, r = world.case, report(world)
    listed = [c["title"], c["summary"], c["seat"], c["setting"], c["tag"], c["renamed_tag"]]
    r.page("library", get(world.learner, "/cases"), listed)
    r.page("library by tag", get(world.learner, "/cases", tag=c["renamed_tag"]), listed)
    r.page("home page", get(world.learner, "/"), [c["seat"], c["setting"]])
    r.check()


def test_search_results_and_their_snippets(world: World) -> None:
    c, r = world.case, report(world)
    listed = [c["title"], c["seat"], c["setting"], c["tag"], c["renamed_tag"]]
    words = ["quokka"] + ([world.payload.search_word] if world.payload.search_word else [])
    for word in words:
        where = f"search for {word!r}"
        page = r.page(where, get(world.learner, "/search", q=word), listed)
        snippet = page.text(within=".app-snippet")
        if "<mark" not in snippet_html(page.html):
            r.problems.append(f"{where}: no word marked in a snippet")
        r.intact(f"{where}, snippet", snippet, [c["body"]])
    # The summary makes the snippet when the body does not match.
    page = r.page("search for the summary", get(world.learner, "/search", q="casesummary wombat"), listed)
    r.intact("search for the summary, snippet", page.text(within=".app-snippet"), [c["summary"]])
    r.check()


def test_the_messages_after_each_change(world: World) -> None:
    """The page each form led to, with its "saved" message naming what was changed."""
    r = report(world)
    for where, html, flashed in world.after:
        page = Page(html)
        r.inert(where, page)
        r.intact(f"{where}, message", page.text(within=".app-flash"), flashed)
    r.check()


def test_the_curators_pages(world: World) -> None:
    c, r = world.case, report(world)
    r.page("manage", get(world.author, f"/curate/cases/{SLUG}"), [c["title"], c["comment"], world.person])
    r.page("dashboard", get(world.author, "/curate/"), [c["draft"], world.person])
    r.page("history", get(world.author, f"/curate/cases/{SLUG}/history"), [c["title"], c["comment"], c["renamed_tag"]])

    editor = r.page("editor", get(world.author, f"/curate/cases/{SLUG}/edit"), [])
    for name in ("title", "summary", "seat", "setting", "body"):
        r.field("editor", editor, name, c[name])
    r.field("editor", editor, "q-0-text", c["question"])
    r.field("editor", editor, "q-0-notes", c["notes"])
    tags = editor.fields.get("tags", "")
    if c["tag"] not in tags or c["renamed_tag"] not in tags:
        r.problems.append(f"editor: tags field shows {tags!r}")

    number = db.session.scalar(select(Case.version).where(Case.id == world.case_id))
    diff = Page(get(world.author, f"/curate/cases/{SLUG}/diff", a="1", b=str(number)))
    r.inert("diff", diff)
    r.intact("diff, the later revision", diff.text(within=".app-diff", without="del"), [c["renamed_tag"], c["tag"]])
    r.intact("diff, the earlier revision", diff.text(within=".app-diff", without="ins"), [c["tag"], "plain tag"])

    preview = world.author.post(f"/curate/cases/{SLUG}/edit", data=editor_form(c, action="preview"))
    r.page("editor preview", preview.get_data(as_text=True), [c["body"]])
    r.check()


def test_the_tag_pages(world: World) -> None:
    c, r = world.case, report(world)
    r.page("tags", get(world.author, "/tags/"), [c["tag"], c["renamed_tag"]])
    rename = r.page("rename", get(world.author, f"/tags/{world.tag_id}/rename"), [c["renamed_tag"]])
    r.field("rename", rename, "name", c["renamed_tag"])
    r.check()


def test_the_audit_log_and_the_users_pages(world: World) -> None:
    c, r = world.case, report(world)
    logged = [world.person, c["title"], c["comment"], c["renamed_tag"]]
    r.page("audit log", get(world.admin, "/audit"), logged)
    r.page("audit log by person", get(world.admin, "/audit", person=str(world.author_id)), logged)
    r.page("users", get(world.admin, "/admin/users"), [world.person])
    r.page("user", get(world.admin, f"/admin/users/{world.author_id}"), [world.person])
    r.check()


def test_case_fields_survive_a_case_file_round_trip(world: World) -> None:
    """The case as exported reads back with every field as typed, and imports as unchanged."""
    from casestudies.transfer.casefile import parse_case_file, read_bundle_from_zip_bytes
    from casestudies.transfer.services import import_cases

    c = world.case
    from casestudies.jobs import run_jobs

    following = world.author.post("/transfer/export").headers["Location"]  # the whole library: a job
    run_jobs()
    files = read_bundle_from_zip_bytes(world.author.get(following + "/download").data)
    exported = next(f for f in files if f.name == f"{SLUG}.md")
    data = parse_case_file(exported.data, exported.name)
    assert (data.title, data.summary, data.seat, data.setting) == (c["title"], c["summary"], c["seat"], c["setting"])
    assert sorted(data.tags) == sorted([c["tag"], c["renamed_tag"]])
    assert data.body == c["body"] + "\n"
    assert [(q.text, q.notes) for q in data.questions] == [(c["question"], c["notes"])]
    outcome = import_cases([exported], actor=None, dry_run=True)
    assert outcome.ok and outcome.unchanged == [exported.name], outcome.problems


# -- guide fields ---------------------------------------------------------------------------
CASE_IN_GUIDE = ("title", "seat", "setting", "question", "notes")


def test_the_guide_pages(world: World) -> None:
    g, c, r = world.guide, world.case, report(world)
    details = [g[name] for name in ("title", "audience", "objectives", "introduction", "ground_rules")]
    details += [g["opening_remarks"], g["closing_remarks"], g["own_question"], g["own_notes"]]
    in_guide = [c[name] for name in CASE_IN_GUIDE]
    r.page("guides", get(world.author, "/guides/"), [g["title"]])
    r.page("builder", get(world.author, f"/guides/{world.guide_id}"), [*details, *in_guide, g["how_it_went"]])
    r.page("shared guide", get(world.facilitator, f"/guides/shared/{world.token}"), [*details, *in_guide, world.person])

    edit = r.page("guide details form", get(world.author, f"/guides/{world.guide_id}/edit"), [g["title"]])
    for name in ("title", "audience", "introduction", "ground_rules", "opening_remarks", "closing_remarks"):
        r.field("guide details form", edit, name, g[name])
    r.field("guide details form", edit, "objectives", g["objectives"] + "\nA second objective")
    went = r.page("how it went form", get(world.author, f"/guides/{world.guide_id}/how-it-went"), [g["title"]])
    r.field("how it went form", went, "how_it_went", g["how_it_went"])
    r.check()


def print_expectations(world: World) -> dict[str, list[str]]:
    g, c = world.guide, world.case
    participant = [g["title"], g["introduction"], g["ground_rules"], g["own_question"]]
    participant += [c["title"], c["seat"], c["setting"], c["summary"], c["body"], c["question"]]
    facilitator = [*participant, g["audience"], g["objectives"], g["opening_remarks"], g["closing_remarks"]]
    return {"participant": participant, "facilitator": [*facilitator, c["notes"], g["own_notes"]]}


def test_the_print_views(world: World) -> None:
    r = report(world)
    for edition, values in print_expectations(world).items():
        r.page(f"{edition} print view", get(world.author, f"/guides/{world.guide_id}/print/{edition}"), values)
        shared = get(world.facilitator, f"/guides/shared/{world.token}/print/{edition}")
        r.page(f"shared {edition} print view", shared, values)
    r.check()


def test_the_pdfs(world: World) -> None:
    r = report(world)
    for edition, values in print_expectations(world).items():
        response = fetch_pdf(world.author, f"/guides/{world.guide_id}/pdf/{edition}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert re.fullmatch(r'attachment; filename="[a-z0-9-]+\.pdf"', response.headers["Content-Disposition"])
        r.intact(f"{edition} PDF", pdf_text(response.data), values, pdf=True)
    r.check()


def test_preformatted_lines_in_guide_texts_are_shown_as_written(app: Flask, login) -> None:
    """A Markdown code block keeps its lines and their indentation on every page."""
    code = "line one <script>alert(1)</script>\n  indented {{ 7*7 }}\n\u202etxt.exe\u202c e\u0301"
    texts = {name: f"{name}\n\n```\n{code}\n```" for name in ("introduction", "ground_rules", "opening_remarks")}
    client = login("facilitator")
    location = client.post("/guides/new", data={"title": "Code", **texts}).headers["Location"]
    guide_id = int(location.rstrip("/").split("/")[-1])
    client.post(f"/guides/{guide_id}/sharing", data={"action": "share"})
    token = db.session.get(Guide, guide_id).share_token
    pages = {f"/guides/{guide_id}": 3, f"/guides/shared/{token}": 3}
    pages |= {f"/guides/{guide_id}/print/facilitator": 3, f"/guides/{guide_id}/print/participant": 2}
    for url, count in pages.items():
        page = Page(get(client, url))
        assert not page.unsafe, url
        assert page.text(within="pre") == (code + "\n") * count, url


# -- the case-file import: the dry-run report and the imported case -------------------------
@pytest.mark.parametrize("name", list(PAYLOADS))
def test_an_imported_case_file(app: Flask, login, tmp_path: Path, name: str) -> None:
    payload = PAYLOADS[name]
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    values = case_values(payload)

    def q(text: str) -> str:  # a JSON string is a YAML double-quoted scalar: any text, escaped
        return json.dumps(text, ensure_ascii=False)

    front = [
        "---",
        f"title: {q(values['title'])}",
        "slug: imported-case",
        f"summary: {q(values['summary'])}",
        f"seat: {q(values['seat'])}",
        f"setting: {q(values['setting'])}",
        f"tags: [{q(values['tag'])}]",
        "questions:",
        f"  - text: {q(values['question'])}",
        f"    notes: {q(values['notes'])}",
        "status: published",
        "---",
    ]
    good = "\n".join(front) + "\n" + values["body"] + "\n"
    bad = good.replace("status: published", f"{q(payload.text)}: x")
    client, r = login("admin"), Report(payload, [])  # an admin, who may confirm publication

    def upload(data: str, status: int) -> str:
        response = client.post(
            "/transfer/upload",
            data={"files": [(io.BytesIO(data.encode("utf-8")), "case.md")]},
            content_type="multipart/form-data",
        )
        assert response.status_code == status, response.get_data(as_text=True)[:3000]
        return response.get_data(as_text=True)

    r.page("import report with a problem", upload(bad, 400), [f"unknown key '{payload.text}'"])
    page = upload(good, 200)
    r.page("import report", page, [])
    token = page.split('name="upload" value="')[1].split('"')[0]
    assert client.post("/transfer/import", data={"upload": token, "publish": "y"}).status_code == 302
    run_jobs()
    shown = [values[name] for name in ("title", "summary", "seat", "setting", "tag", "body", "question")]
    r.page("imported case page", get(login("facilitator"), "/cases/imported-case"), [*shown, values["notes"]])
    r.check()


# -- 50,000 words --------------------------------------------------------------------------
SENTENCE = (
    "the ward sister noticed that patients waited for hours in the discharge lounge, so she asked "
    "porters, pharmacists and the bed managers to meet at nine every morning; nobody had asked them before."
)
VOCABULARY = SENTENCE.split(" ")
WORDS = 50_000


def long_text(markers: dict[int, str]) -> str:
    """50,000 words in paragraphs of 100, with marker words at the given positions."""
    words = [VOCABULARY[i % len(VOCABULARY)] for i in range(WORDS)]
    for position, marker in markers.items():
        words[position] = marker
    return "\n\n".join(" ".join(words[i : i + 100]) for i in range(0, WORDS, 100))


# Built once: about 300,000 characters. "zebrafinch" is the very last word.
LONG = long_text({1_000: "kingfisher", WORDS // 2: "marmoset", WORDS - 1: "zebrafinch"})
LONG_LINE = " ".join(LONG.split())  # the same words on one line, for one-line fields


def count_words(page: Page, within: str) -> int:
    return len(page.text(within=within).split())


def test_a_50000_word_case_body_is_saved_shown_found_and_printed(app: Flask, login) -> None:
    curator = login("curator")
    form = {"title": "A very long case", "slug": "long-case", "summary": "Fifty thousand words.", "seat": "Porter",
            "consent": "not-needed", "body": LONG, "q-0-text": "Was it too long?", "action": "save"}  # fmt: skip
    assert curator.post("/curate/cases/new", data=form).status_code == 302
    assert curator.post("/curate/cases/long-case/status", data={"to": "review"}).status_code == 302
    # The two-person rule: another curator publishes it.
    assert login("admin").post("/curate/cases/long-case/status", data={"to": "published"}).status_code == 302
    case = db.session.scalar(select(Case).where(Case.slug == "long-case"))
    assert case is not None and case.body == LONG + "\n"

    editor = Page(get(curator, "/curate/cases/long-case/edit"))
    assert editor.fields["body"].rstrip("\n") == LONG
    learner = login("learner")
    page = Page(get(learner, "/cases/long-case"))
    assert count_words(page, ".app-case-body") == WORDS
    assert page.text(within=".app-case-body").split()[-1] == "zebrafinch"
    catch_up()
    results = get(learner, "/search", q="kingfisher")
    assert 'href="/cases/long-case"' in results and re.search(r"<mark[^>]*>kingfisher</mark>", snippet_html(results))
    # Found half way through too, and marked there (Whoosh's fragmenter stopped at 32 KB).
    halfway = get(learner, "/search", q="marmoset")
    assert 'href="/cases/long-case"' in halfway and re.search(r"<mark[^>]*>marmoset</mark>", snippet_html(halfway))

    facilitator = login("facilitator")
    location = facilitator.post("/guides/new", data={"title": "Long", "case_id": str(case.id)}).headers["Location"]
    guide_id = int(location.rstrip("/").split("/")[-1])
    for edition in ("participant", "facilitator"):
        printed = Page(get(facilitator, f"/guides/{guide_id}/print/{edition}"))
        assert count_words(printed, ".app-print-body") == WORDS, edition
    # and in the PDF (about 3 s for the 100 pages): every word, in order.
    response = fetch_pdf(facilitator, f"/guides/{guide_id}/pdf/participant")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    printed_words = " ".join(pdf_text(response.data).split())
    pages = re.findall(r" Long Page \d+ of (\d+)", printed_words)  # each page's running title
    assert len(pages) > 50 and LONG_LINE in re.sub(r" Long Page \d+ of \d+", "", printed_words)


# Right-to-left, combining and override characters: 50,000 such words take 1.8 MB once
# the form is URL-encoded (each of these characters is 6 bytes or more).
UNICODE_WORDS = ("مرحبا", "بالعالم", "שלום", "עולם", "Zalgo", "e\u0301\u0300\u0302", "\u202etxt.exe\u202c")
LONG_UNICODE = "\n\n".join(
    " ".join(UNICODE_WORDS[(i + j) % len(UNICODE_WORDS)] for j in range(100)) for i in range(0, WORDS, 100)
)


def test_a_50000_word_body_in_other_scripts_is_saved_and_shown(app: Flask, login) -> None:
    curator = login("curator")
    form = {"title": "Long in other scripts", "slug": "long-scripts", "summary": "S.", "seat": "Porter",
            "consent": "not-needed", "body": LONG_UNICODE, "action": "save"}  # fmt: skip
    response = curator.post("/curate/cases/new", data=form)
    assert response.status_code == 302, response.status_code
    assert db.session.scalar(select(Case.body).where(Case.slug == "long-scripts")) == LONG_UNICODE + "\n"
    page = Page(get(curator, "/cases/long-scripts"))
    assert page.text(within=".app-case-body").split() == LONG_UNICODE.split()
    # and it can be saved again from the editor
    editor = Page(get(curator, "/curate/cases/long-scripts/edit"))
    again = {**form, "body": editor.fields["body"], "version": editor.fields["version"], "title": "Renamed"}
    assert curator.post("/curate/cases/long-scripts/edit", data=again).status_code == 302


def limit_shown(page: Page, limit: int) -> bool:
    """Whether the error summary names the limit (200, or 20,000 or 20000)."""
    summary = page.text(within=".nhsuk-error-summary")
    return bool(re.search(rf"(?<![\d,])({limit}|{limit:,})(?![\d,])", summary))


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 200), ("summary", 600), ("seat", 80), ("setting", 80), ("tags", 50)],
)
def test_50000_words_in_a_limited_case_field_are_refused_and_kept(app: Flask, login, field: str, limit: int) -> None:
    typed = LONG if field == "summary" else LONG_LINE
    form = {"title": "Short", "summary": "Short.", "seat": "Porter", "body": "Text.", "action": "save", field: typed}
    response = login("curator").post("/curate/cases/new", data=form)
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, limit), page.text(within=".nhsuk-error-summary")
    assert page.fields[field].rstrip("\n") == typed  # what was typed, all of it, to correct
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


@pytest.mark.parametrize("field", ["q-0-text", "q-0-notes"])
def test_50000_words_in_a_question_or_its_notes_are_saved(app: Flask, login, field: str) -> None:
    """The case format sets no limit on questions and notes: the whole text is kept."""
    form = {"title": "Long question", "summary": "S.", "seat": "Porter", "body": "Text.", "q-0-text": "Why?",
            "consent": "not-needed", "action": "save", field: LONG}  # fmt: skip
    response = login("curator").post("/curate/cases/new", data=form)
    assert response.status_code == 302, Page(response.get_data(as_text=True)).text(within=".nhsuk-error-summary")
    question = db.session.scalar(select(Case).where(Case.slug == "long-question")).questions[0]
    assert (question.text if field == "q-0-text" else question.notes) == LONG
    page = Page(get(login("curator"), "/cases/long-question"))
    assert page.text().count("zebrafinch") == 1


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 200), ("audience", 200), ("objectives", 20_000), ("introduction", 20_000),
     ("ground_rules", 20_000), ("opening_remarks", 20_000), ("closing_remarks", 20_000)],
)  # fmt: skip
def test_50000_words_in_a_guide_field_are_refused_and_kept(app: Flask, login, field: str, limit: int) -> None:
    typed = LONG_LINE if field in ("title", "audience") else LONG
    response = login("facilitator").post("/guides/new", data={"title": "Short", field: typed})
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, limit), page.text(within=".nhsuk-error-summary")
    assert page.fields[field].rstrip("\n") == typed
    assert db.session.scalar(select(func.count()).select_from(Guide)) == 0


@pytest.fixture
def guide_with_a_case(app: Flask, make_case) -> tuple[int, int]:
    from casestudies.guides import editing
    from casestudies.guides.editing import GuideDetails

    from .conftest import ensure_user

    author, case = ensure_user("facilitator"), make_case()
    guide, _ = editing.create_guide(author, GuideDetails(title="Short"), first_case_id=case.id)
    db.session.commit()
    return guide.id, guide.items[0].id


@pytest.mark.parametrize(("field", "limit"), [("text", 2_000), ("notes", 2_000)])
def test_50000_words_in_an_own_question_are_refused_and_kept(login, guide_with_a_case, field: str, limit: int) -> None:
    guide_id, item_id = guide_with_a_case
    data = {f"own-{item_id}-{name}": value for name, value in {"text": "Short?", "minutes": "5", field: LONG}.items()}
    response = login("facilitator").post(f"/guides/{guide_id}/cases/{item_id}/questions/new", data=data)
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, limit), page.text(within=".nhsuk-error-summary")
    assert page.fields[f"own-{item_id}-{field}"].rstrip("\n") == LONG
    assert all(not q.is_own for q in db.session.get(Guide, guide_id).items[0].questions)


def test_a_refused_own_question_is_shown_again_exactly(login, guide_with_a_case) -> None:
    """Several lines, hostile text, refused for its minutes: the boxes hold what was typed."""
    guide_id, item_id = guide_with_a_case
    text = "First line <script>alert(1)</script>\n\n  an indented {{ 7*7 }} line\n\u202etxt.exe\u202c"
    notes = "Notes\n\ttabbed <img src=x onerror=alert(1)>\nZalgo e\u0301\u0300"
    data = {f"own-{item_id}-text": text, f"own-{item_id}-notes": notes, f"own-{item_id}-minutes": "999"}
    response = login("facilitator").post(f"/guides/{guide_id}/cases/{item_id}/questions/new", data=data)
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400 and not page.unsafe
    own = f"own-{item_id}-"
    assert (page.fields[own + "text"], page.fields[own + "notes"], page.fields[own + "minutes"]) == (text, notes, "999")


def test_50000_words_of_how_it_went_are_refused_and_kept(login, guide_with_a_case) -> None:
    guide_id, _ = guide_with_a_case
    response = login("facilitator").post(f"/guides/{guide_id}/how-it-went", data={"how_it_went": LONG})
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, 20_000), page.text(within=".nhsuk-error-summary")
    assert page.fields["how_it_went"].rstrip("\n") == LONG
    assert db.session.get(Guide, guide_id).how_it_went == ""


def test_50000_words_as_a_tag_name_are_refused_and_kept(app: Flask, login, make_case) -> None:
    make_case()
    tag = db.session.scalar(select(Tag).where(Tag.key == "flow"))
    response = login("curator").post(f"/tags/{tag.id}/rename", data={"name": LONG_LINE})
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, 50), page.text(within=".nhsuk-error-summary")
    assert f"this one has {len(LONG_LINE)})" in page.text(within=".nhsuk-error-summary")
    assert page.fields["name"] == LONG_LINE
    db.session.expire_all()
    assert db.session.get(Tag, tag.id).name == "flow"


def test_50000_words_as_a_persons_name_are_refused_and_kept(app: Flask, login) -> None:
    data = {"name": LONG_LINE, "email": "long@example.org", "role": "learner", "password": PASSWORD}
    response = login("admin").post("/admin/users/new", data=data)
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, 120), page.text(within=".nhsuk-error-summary")
    assert page.fields["name"] == LONG_LINE
    assert db.session.scalar(select(User).where(User.email == "long@example.org")) is None


def test_50000_words_as_a_workflow_comment_are_refused_and_kept(app: Flask, login, make_case) -> None:
    make_case(status="review")
    data = {"to": "draft", "comment": LONG}
    response = login("curator").post("/curate/cases/porter-discharge-lounge/status", data=data)
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert limit_shown(page, 2_000), page.text(within=".nhsuk-error-summary")
    assert page.fields["comment"].rstrip("\n") == LONG
    db.session.expire_all()
    assert db.session.scalar(select(Case.status)) == "review"
