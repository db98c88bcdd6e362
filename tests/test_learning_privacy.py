"""The reflection notebook is private: generated from the URL map like the role walk,
every route, for every other role (admins included), never shows or exports another
user's reflection or CPD log; the database file, the search index and the log hold none of
its words in plain text; the owner's exports read back with pypdf and python-docx."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.models import CpdEntry, Reflection, User

from .conftest import ensure_user, fetch_pdf
from .test_access import SAMPLE_ARGS

# Words that appear nowhere else in the app, one for each field the owner writes.
SECRETS = {
    "title": "Zephyrquill handover",
    "nature": "marrowfen nature",
    "learned": "quillbrook learning",
    "changed": "tansyvale change",
    "relevance": "orrelwick relevance",
    "body": "brindlemoss free text",
    "topic": "quokkalantern topic",
    "notes": "halcyrook notes",
}
WORDS = [value.split()[0] for value in SECRETS.values()]
OTHERS = ["learner", "facilitator", "curator", "admin"]  # "learner" is a second learner


def _leaks(data: bytes, content_type: str, asked: str = "") -> list[str]:
    """The secret words found in an answer, reading PDFs and .docx files as text too; a
    word the request itself carried (a search's echo) is not counted."""
    texts = [data.decode("utf-8", "replace").casefold()]
    if content_type.startswith("application/pdf"):
        from pypdf import PdfReader

        texts.append(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).casefold())
    elif "wordprocessingml" in content_type:
        texts.append(_docx_text(data).casefold())
    return [
        word
        for word in WORDS
        if word.casefold() not in asked.casefold() and any(word.casefold() in text for text in texts)
    ]


def _docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _write_notebook(client, case_id: int) -> None:
    """The owner writes through the pages: an NMC account, a free-form one, a CPD entry."""
    response = client.post(
        "/my/notebook/reflections/new",
        data={
            "kind": "nmc",
            "title": SECRETS["title"],
            "nature": SECRETS["nature"],
            "learned": SECRETS["learned"],
            "changed": SECRETS["changed"],
            "relevance": SECRETS["relevance"],
            "themes": ["safety"],
            "activity_month": "3",
            "activity_year": "2026",
            "case_id": str(case_id),
            "keep_case": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(
        "/my/notebook/reflections/new", data={"kind": "free", "title": "Second account", "body": SECRETS["body"]}
    )
    assert response.status_code == 302
    response = client.post(
        "/my/notebook/cpd/new",
        data={
            "day": "4",
            "month": "3",
            "year": "2026",
            "method": "reading",
            "hours": "1.5",
            "topic": SECRETS["topic"],
            "notes": SECRETS["notes"],
            "is_participatory": "yes",
            "reflections": ["1"],
        },
    )
    assert response.status_code == 302


@pytest.fixture
def owner_notebook(app: Flask, login, make_case, caplog):
    """The learner-owner's notebook, written through the pages; the log is captured."""
    case = make_case()
    owner = ensure_user("learner", email="owner@example.org")
    caplog.set_level(logging.DEBUG)
    from .conftest import PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    _write_notebook(client, case.id)
    assert fetch_pdf(client, "/my/notebook/reflective-accounts.pdf").status_code == 200
    catch_up(app)
    return owner, client, case


def _query_for(endpoint: str, owner: User) -> dict[str, object]:
    """Sensible query strings: searches for one secret word (a hit would show the title,
    another), filters on the owner."""
    return {
        "library.search": {"q": WORDS[1]},
        "library.cases": {"tag": WORDS[1]},
        "audit.log": {"person": owner.id},
        "audit.export_csv": {"person": owner.id},
        "curate.diff": {"a": 1, "b": 1},
        "learning.new_reflection": {"case": 1, "form": "nmc"},
        "admin.user": {},
    }.get(endpoint, {})


def _args(rule, owner: User) -> dict[str, object]:
    args = dict(SAMPLE_ARGS)
    args["user_id"] = owner.id  # an admin looking at the owner's account
    return {name: args[name] for name in rule.arguments}


@pytest.mark.slow
@pytest.mark.parametrize("who", OTHERS)
def test_no_route_shows_or_exports_another_users_notebook(app: Flask, owner_notebook, login, who: str) -> None:
    owner, _, _ = owner_notebook
    sealed_before = db.session.execute(select(Reflection.id, Reflection.sealed)).all()
    client = login(who)
    visited = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.logout"):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **_args(rule, owner), **_query_for(rule.endpoint, owner))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code < 500, (rule.endpoint, method, response.status_code)
            leaked = _leaks(response.get_data(), response.content_type or "", asked=url)
            assert not leaked, (who, rule.endpoint, method, leaked)
            visited += 1
    assert visited >= 100
    # The notebook's own pages and exports, by id, answer "not found" to everyone else.
    for path in ("/my/notebook/reflections/1", "/my/notebook/reflections/1/edit", "/my/notebook/cpd/1/edit"):
        assert client.get(path).status_code == 404
    db.session.expire_all()
    assert db.session.execute(select(Reflection.id, Reflection.sealed)).all() == sealed_before


def test_the_owner_reads_and_exports_their_own_notebook(app: Flask, owner_notebook) -> None:
    _, client, _ = owner_notebook
    page = client.get("/my/notebook/reflections/1").get_data(as_text=True)
    assert SECRETS["learned"] in page
    assert SECRETS["topic"] in client.get("/my/notebook").get_data(as_text=True)
    csv_text = client.get("/my/notebook/cpd-log.csv").get_data(as_text=True)
    assert SECRETS["topic"] in csv_text and SECRETS["notes"] in csv_text and ",yes," in csv_text
    data = client.get("/my/data.json").get_data(as_text=True)
    assert all(word in data for word in WORDS)


@pytest.mark.pdf
def test_the_pdf_has_one_account_a_page_laid_out_like_the_nmc_form_then_the_cpd_log(app: Flask, owner_notebook) -> None:
    from pypdf import PdfReader

    _, client, case = owner_notebook
    response = fetch_pdf(client, "/my/notebook/reflective-accounts.pdf")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.get_data())).pages]
    accounts = [i for i, text in enumerate(pages) if "Reflective account" in text]
    assert len(accounts) == 2 and accounts[0] != accounts[1]  # one account a page
    first = pages[accounts[0]]
    for question in (
        "What was the nature of the CPD activity",
        "What did you learn",
        "How did you change or improve your practice",
        "How is this relevant to the Code",
    ):
        assert question in first
    assert SECRETS["learned"] in first and case.title in first and "March 2026" in first
    assert SECRETS["body"] in pages[accounts[1]]
    assert any("CPD log" in text and SECRETS["topic"] in text for text in pages)


def test_the_docx_reads_back_with_every_answer(app: Flask, owner_notebook) -> None:
    from docx import Document

    _, client, _ = owner_notebook
    response = client.get("/my/notebook/reflective-accounts.docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.get_data()))
    text = _docx_text(response.get_data())
    for name in ("title", "nature", "learned", "changed", "relevance", "body"):
        assert SECRETS[name] in text
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == [
        f"Reflective account 1: {SECRETS['title']}",
        "Reflective account 2: Second account",
    ]
    assert "Preserve safety" in text


def test_the_database_file_index_and_log_hold_no_words_of_the_notebook(app: Flask, owner_notebook, caplog) -> None:
    owner, _, _ = owner_notebook
    assert db.session.scalar(select(Reflection.owner_id)) == owner.id
    assert db.session.scalar(select(CpdEntry.owner_id)) == owner.id
    # Every value of every table, read back through SQL (SQLite or PostgreSQL).
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            values += [str(value) for value in row]
    dumped = "\n".join(values).casefold()
    assert "owner@example.org" in dumped  # the check reads real data
    assert not any(word.casefold() in dumped for word in WORDS)
    db.session.remove()
    db.engine.dispose()  # closes the connections, which checkpoints the write-ahead log
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        # The file itself, free pages and the write-ahead log included.
        database = Path(url.removeprefix("sqlite:///"))
        files = [database, *database.parent.glob(database.name + "-*")]
        stored = b"".join(path.read_bytes() for path in files)
        assert b"owner@example.org" in stored
        for word in WORDS:
            assert word.encode() not in stored, word
            assert word.lower().encode() not in stored.lower(), word
    index = Path(app.config["SEARCH_INDEX_DIR"])
    indexed = b"".join(path.read_bytes() for path in index.rglob("*") if path.is_file())
    assert indexed and not any(word.lower().encode() in indexed.lower() for word in WORDS)
    # The log of the requests that wrote the notebook (in the fixture, at DEBUG level).
    logged = " ".join(record.getMessage() for record in caplog.get_records("setup")).casefold()
    assert "job 1: finished" in logged  # the log was captured (the PDF job's line too)
    # The notebook's PDF is sealed in the job table (checked above with the database's
    # bytes), never written to the shared PDF cache.
    assert not list(Path(app.config["PDF_CACHE_DIR"]).rglob("*.pdf"))
    assert not any(word.casefold() in logged for word in WORDS)
