"""The search and library pages put results first: snippets read as sentences, nothing
about unpublished cases leaks through filters, zero-result searches are counted per day,
over-long searches and URLs get a clear answer, and a page past the end shows the last one."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask

from casestudies.extensions import db
from casestudies.library.services import search_cases
from casestudies.markdown import markdown_to_text

from .conftest import ensure_user


# -- snippets read as sentences -------------------------------------------------------------------
def test_block_boundaries_end_with_a_sentence_break() -> None:
    text = markdown_to_text(
        "## The situation\n\nA young nurse\nstarted.\n\n- first point\n- second point!\n\n> Quoted\n\n"
        '```\ncode here\n```\n\nShe said: "Stop."\n'
    )
    assert text == (
        'The situation. A young nurse started. first point. second point! Quoted. code here. She said: "Stop."'
    )


def test_a_snippet_never_runs_a_heading_into_the_text(app: Flask, make_case) -> None:
    make_case(body="## The situation\n\nA young porter noticed the lounge.\n\n## What happened\n\nHe asked.\n")
    (item,) = search_cases(ensure_user("learner"), "porter lounge").items
    plain = re.sub(r"<[^>]+>", "", item.snippet)
    assert "situation A young" not in plain and "The situation. A young" in plain
    assert "lounge What happened" not in plain


# -- nothing about unpublished cases --------------------------------------------------------------
@pytest.fixture
def draft_only(make_case):
    """A published case, and a draft whose seat, setting and tag no published case has
    (spelt in capitals that only the draft holds)."""
    make_case(slug="published", title="Published story", tags=("flow",))
    make_case(
        slug="draft",
        title="Draft story",
        status="draft",
        seat="Hidden Qzseat",
        setting="Secret Qzward",
        tags=("Secret Qztag",),
    )


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        ("/search?tag=secret+qztag", "Secret Qztag"),
        ("/search?seat=hidden+qzseat", "Hidden Qzseat"),
        ("/search?setting=secret+qzward", "Secret Qzward"),
        ("/search?q=story&tag=secret+qztag", "Secret Qztag"),
        ("/search?q=story&seat=hidden+qzseat", "Hidden Qzseat"),
        ("/search?q=story&setting=secret+qzward", "Secret Qzward"),
        ("/search?q=qzseat", "Hidden Qzseat"),
        ("/search?q=qzsaet", "qzseat"),  # no "did you mean" from a draft's words
        ("/cases?tag=secret+qztag", "Secret Qztag"),
        ("/cases?seat=hidden+qzseat", "Hidden Qzseat"),
        ("/cases?setting=secret+qzward", "Secret Qzward"),
    ],
)
def test_a_filter_on_a_draft_only_value_tells_a_learner_nothing(login, draft_only, path: str, stored: str) -> None:
    html = login("learner").get(path).get_data(as_text=True)
    assert stored not in html
    assert "Draft story" not in html
    assert "(0)" not in html  # no facet entry with a count of 0
    assert "app-facet--selected" not in html  # no facet entry chosen: none is visible
    curator_html = login("curator").get(path).get_data(as_text=True)
    if "qzsaet" not in path:
        assert "Draft story" in curator_html  # the draft is there, for those who may see it


def test_a_facet_value_is_spelt_as_a_case_the_reader_may_see_spells_it(app: Flask, make_case) -> None:
    make_case(slug="draft", title="Draft story", status="draft", seat="PORTER")  # indexed first
    make_case(slug="published", title="Published story", seat="Porter")
    learner_seats = [f.value for f in search_cases(ensure_user("learner"), "story").facets["seat"]]
    assert learner_seats == ["Porter"]
    curator_seats = search_cases(ensure_user("curator"), "story").facets["seat"]
    assert [(f.value.casefold(), f.count) for f in curator_seats] == [("porter", 2)]


# -- zero-result searches, counted per query and day -----------------------------------------------
def _log_rows() -> list[tuple[str, date, int]]:
    from sqlalchemy import select

    from casestudies.models import SearchLog

    return [tuple(row) for row in db.session.execute(select(SearchLog.query, SearchLog.day, SearchLog.count))]


def test_a_learners_empty_searches_are_counted_per_normalised_query_and_day(app: Flask, login) -> None:
    app.config["GAP_MIN_SEARCHERS"] = 1  # one reader's searches, counted
    client = login("learner")
    for query in ("Gerontology  care", "gerontology care", " GERONTOLOGY CARE ", "podiatry"):
        assert client.get("/search", query_string={"q": query}).status_code == 200
    from casestudies.curation import dashboard

    assert dashboard().empty_searches == [("gerontology care", 3), ("podiatry", 1)]
    # Read from the insights' outcome rows: the old search_log is no longer written.
    assert _log_rows() == []


def test_a_search_request_writes_one_statement(app: Flask, login) -> None:
    """The insights' outcome row only: the search log's second write is gone."""
    from sqlalchemy import event

    client = login("learner")
    client.get("/search", query_string={"q": "warm up"})
    writes: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:
        if statement.split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement.split(" (")[0])

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        assert client.get("/search", query_string={"q": "gerontology"}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert [w for w in writes if "search_log" in w] == []
    assert [w for w in writes if "search_outcome" in w] == ["INSERT INTO search_outcome"]


def test_the_dashboard_lists_the_last_30_days(app: Flask) -> None:
    from casestudies.curation.dashboard import empty_searches
    from casestudies.insights.recording import Outcome, record_search

    app.config["GAP_MIN_SEARCHERS"] = 1  # one reader's searches, counted
    learner = ensure_user("learner")
    today = date.today()
    record_search(learner, "gerontology", Outcome("none"), day=today - timedelta(days=31))
    record_search(learner, "gerontology", Outcome("none"), day=today - timedelta(days=30))
    record_search(learner, "Receptionst", Outcome("replaced", replaced_by="receptionist"), day=today)
    record_search(learner, "porter bullying", Outcome("partial", missing=("bullying",)), day=today)
    record_search(learner, "porter bullying", Outcome("partial", missing=("bullying",)), day=today)
    record_search(learner, "porter discharge", Outcome("full"), day=today)
    db.session.commit()
    assert empty_searches(today - timedelta(days=30)) == [
        ("porter bullying", 2),
        ("gerontology", 1),
        ("receptionst (shown: receptionist)", 1),
    ]


def test_the_migration_carries_old_searches_over_grouped(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from app import create_app
    from casestudies.database import _alembic_config, upgrade_database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    with app.app_context():
        config = _alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        with db.engine.begin() as connection:
            for query, at in [
                ("Gerontology", "2026-11-01 09:00:00"),
                ("gerontology", "2026-11-01 17:30:00"),
                ("GERONTOLOGY ", "2026-11-02 08:00:00"),
                ("podiatry  care", "2026-11-01 10:00:00"),
            ]:
                connection.execute(
                    text("INSERT INTO search_log (query, result_count, created_at) VALUES (:q, 0, :at)"),
                    {"q": query, "at": at},
                )
        upgrade_database()
        assert sorted(_log_rows()) == [
            ("gerontology", date(2026, 11, 1), 2),
            ("gerontology", date(2026, 11, 2), 1),
            ("podiatry care", date(2026, 11, 1), 1),
        ]
        db.session.remove()
        with db.engine.begin() as connection:  # and back: a row per search again
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
            assert connection.scalar(text("SELECT count(*) FROM search_log")) == 4
        db.engine.dispose()


# -- the search page: no-results, page past the end, long searches and URLs -------------------------
@pytest.fixture
def library_client(sample_app: Flask):
    from .conftest import Auth

    client = sample_app.test_client()
    Auth(client).login("learner")
    return client


def test_no_results_drop_the_filter_heading_and_the_sort(library_client) -> None:
    html = library_client.get("/search?q=zzzzqqq&seat=Porter").get_data(as_text=True)
    assert "No cases found" in html
    assert "Filter results" not in html and 'id="sort"' not in html
    assert "Remove filter </span>Seat: " in html  # the chosen filter can still be removed
    found = library_client.get("/search?q=nurse").get_data(as_text=True)
    assert "Filter results" in found and 'id="sort"' in found


def test_a_search_page_past_the_end_shows_the_last_page(library_client) -> None:
    last = library_client.get("/search?q=nurse&page=999").get_data(as_text=True)
    assert "No cases found" not in last
    assert re.search(r'<ol class="nhsuk-list app-case-list" start="\d+">\s*<li', last)
    assert 'aria-current="page"' in last  # the pager marks the last page as the current one


def test_an_over_long_search_is_cut_with_a_message(library_client) -> None:
    from casestudies.library.services import MAX_QUERY_CHARS

    html = library_client.get("/search", query_string={"q": "nurse " * 100}).get_data(as_text=True)
    assert f"longer than {MAX_QUERY_CHARS} characters" in html
    assert f'maxlength="{MAX_QUERY_CHARS}"' in html
    assert "longer than" not in library_client.get("/search?q=nurse").get_data(as_text=True)


def test_an_over_long_url_gets_the_apps_own_414_page(library_client) -> None:
    response = library_client.get("/search", query_string={"q": "x" * 9000})
    assert response.status_code == 414
    html = response.get_data(as_text=True)
    assert "The web address is too long" in html and "Every Seat" in html
    assert library_client.get("/search", query_string={"q": "x" * 7000}).status_code == 200


def _make_run_gunicorn_command(port: int) -> list[str]:
    """The gunicorn command `make run` runs (read from `make -n`), on another port."""
    import shlex
    import subprocess

    from .conftest import ROOT

    out = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.1", f"PORT={port}", "WORKERS=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if "bin/gunicorn " in line)
    return shlex.split(line)


@pytest.mark.slow
def test_gunicorn_as_make_run_starts_it_lets_the_app_answer_long_urls(tmp_path: Path, migrated_db_template) -> None:
    import os
    import subprocess
    import time
    import urllib.error
    import urllib.request

    from .conftest import ROOT, _database_for_test, _free_port

    port = _free_port()
    command = _make_run_gunicorn_command(port)
    env = {
        **os.environ,
        "DATABASE_URL": _database_for_test(tmp_path, migrated_db_template),
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "EVERY_SEAT_INSTANCE": str(tmp_path / "instance"),
    }
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        with urllib.request.urlopen(f"{base}/search?q={'x' * 5_000}", timeout=10) as response:
            assert response.status == 200 and "/login" in response.url  # the app answered: sign in first
        for length in (9_000, 100_000):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{base}/search?q={'x' * length}", timeout=10)
            body = refused.value.read().decode("utf-8", "replace")
            assert refused.value.code == 414, length
            assert "The web address is too long" in body and "Request Line is too large" not in body
    finally:
        server.terminate()
        server.wait(10)


def test_the_dashboard_lists_a_search_only_once_enough_people_made_it(app: Flask) -> None:
    """The Search gaps page's rule (GAP_MIN_SEARCHERS people on one day, 2 by default)
    holds on the dashboard too: one reader's words are never shown."""
    from casestudies.curation.dashboard import empty_searches
    from casestudies.insights.recording import Outcome, record_search

    first, second = ensure_user("learner"), ensure_user("learner", email="another-learner@example.org")
    today = date.today()
    record_search(first, "my manager shouts", Outcome("none"), day=today)
    record_search(first, "my manager shouts", Outcome("none"), day=today)
    record_search(first, "gerontology", Outcome("none"), day=today)
    record_search(second, "gerontology", Outcome("none"), day=today)
    db.session.commit()
    assert empty_searches(today - timedelta(days=30)) == [("gerontology", 2)]
