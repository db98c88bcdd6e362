"""Several servers, one database: each server's indexer follows the search journal into
its own index. Two app instances here share one database and have an index folder each,
as two servers would; their indexer threads run as in production (gunicorn.conf.py)."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, update

from casestudies.cases.revisions import save_case_data
from casestudies.curation import change_status, pending
from casestudies.extensions import db
from casestudies.indexing import (
    catch_up,
    check_index,
    get_follower,
    get_search_index,
    indexing_progress,
    prune_journal,
    search_status,
    start_follower,
    stop_follower,
)
from casestudies.indexing.follower import read_state
from casestudies.jobs import run_jobs
from casestudies.models import Role, SearchJournal, SearchNode, utcnow
from casestudies.transfer.casefile import dump_case_file
from search import SearchIndex, SearchRequest, SearchUnavailable

from .conftest import PASSWORD, PG_URL, ROOT, axe_violations, case_data, ensure_user, sign_in, with_default_signals

STATUSES = ("draft", "review", "published")


def search_ids(app: Flask, text: str, statuses: tuple[str, ...] = STATUSES) -> list[int]:
    with app.app_context():
        request = SearchRequest(text, statuses=statuses, exact=True, per_page=1000)
        return [hit.id for hit in get_search_index().search(request).hits]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until condition() held (fails after timeout)."""
    start = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - start
        except SearchUnavailable:  # a server whose indexer has not built its index yet
            pass
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.02)


@pytest.fixture
def second_server(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another server: the same DATABASE_URL, its own SEARCH_INDEX_DIR and name."""
    other = _second_app(app, tmp_path)
    yield other
    stop_follower(other)
    with other.app_context():
        other.extensions["search_index"].close()
        db.engine.dispose()


def _second_app(app: Flask, tmp_path: Path) -> Flask:
    from app import create_app

    from .conftest import IsolatedClient

    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SEARCH_INDEX_DIR": str(tmp_path / "second-index"),
            "SEARCH_NODE_NAME": "second",
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
        }
    )
    other.test_client_class = IsolatedClient
    return other


def test_an_edit_through_one_server_is_found_through_the_other(app: Flask, second_server: Flask, make_case) -> None:
    curator = ensure_user("curator")
    case = make_case(body="Nothing special yet.\n")
    start_follower(app)
    start_follower(second_server)
    wait_for(lambda: search_ids(second_server, "porter") == [case.id])

    # An edit through the first server (its service, its request's one commit).
    # A pending change: learners read it once a second curator has published it.
    save_case_data(case_data(body="The wallabyesque discharge lounge.\n"), actor=curator, case=case)
    pending.act(case, pending.SUBMIT, curator)
    pending.act(case, pending.PUBLISH, ensure_user("curator", email="second-curator@example.org"))
    db.session.commit()
    # A bound for correctness, not speed (that is bench's cross_node_edit_p95_ms).
    wait_for(lambda: search_ids(second_server, "wallabyesque") == [case.id], timeout=10)
    wait_for(lambda: search_ids(app, "wallabyesque") == [case.id], timeout=5)

    # Unpublished through the first server: gone from learners' search on the second.
    learner = second_server.test_client()
    assert learner.post("/login", data={"email": ensure_user("learner").email, "password": PASSWORD}).status_code == 302
    assert "wallabyesque" in learner.get("/search?q=wallabyesque").get_data(as_text=True).lower()
    change_status(case, "draft", curator, comment="Consent withdrawn")
    db.session.commit()
    wait_for(lambda: search_ids(second_server, "wallabyesque", ("published",)) == [], timeout=5)
    page = learner.get("/search?q=wallabyesque").get_data(as_text=True)
    assert case.title not in page

    # Both servers list themselves with their cursors.
    with second_server.app_context():
        newest, nodes = search_status()
        assert {n.name for n in nodes} == {app.config["SEARCH_NODE_NAME"], "second"}
        wait_for(lambda: all(n.cursor == newest for n in search_status()[1]), timeout=10)
        assert check_index().is_clean
    assert check_index().is_clean


@pytest.mark.slow  # starts other processes: in `make test`, not test-fast
def test_a_flask_command_change_is_found_through_a_running_server(app: Flask, tmp_path: Path) -> None:
    start_follower(app)
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "quagga.md").write_text(dump_case_file(case_data(slug="quagga", body="Quaggaform notes.\n")), "utf-8")
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SEARCH_INDEX_DIR": str(tmp_path / "cli-ix")}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "import", str(folder)], cwd=ROOT, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    wait_for(lambda: len(search_ids(app, "quaggaform")) == 1, timeout=5)


def test_a_server_whose_index_is_not_built_yet_says_so_and_still_lists_the_library(
    app: Flask, second_server: Flask, make_case
) -> None:
    case = make_case(title="Porters at night", body="The okapiform rota.\n")
    learner = second_server.test_client()  # its indexer has not run: no index on its disk yet
    assert learner.post("/login", data={"email": ensure_user("learner").email, "password": PASSWORD}).status_code == 302

    response = learner.get("/search?q=okapiform")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "The search index is being built; results will appear in a moment." in page
    assert 'role="search"' in page  # the search form is still there
    assert learner.get("/cases").status_code == 200
    assert case.title in learner.get("/cases").get_data(as_text=True)
    assert learner.get(f"/cases/{case.slug}").status_code == 200  # no related cases, no error

    curator = second_server.test_client()
    assert curator.post("/login", data={"email": ensure_user("curator").email, "password": PASSWORD}).status_code == 302
    export = curator.get("/transfer/export?q=okapiform")
    assert export.status_code == 503
    assert "results will appear in a moment" in export.get_data(as_text=True)

    catch_up(second_server)  # its indexer builds the index: search answers as usual
    response = learner.get("/search?q=okapiform")
    assert response.status_code == 200
    assert case.title in response.get_data(as_text=True)


@pytest.mark.slow  # starts other processes: in `make test`, not test-fast
@pytest.mark.parametrize("reloader", [False, True], ids=["plain", "debug-reloader"])
def test_flask_run_starts_an_indexer_that_follows_changes_made_elsewhere(
    app: Flask, tmp_path: Path, make_case, reloader: bool
) -> None:
    first = make_case(title="Night porters", body="The numbatform rota.\n")
    run_index = tmp_path / "flask-run-index"
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SEARCH_INDEX_DIR": str(run_index),
        "SEARCH_NODE_NAME": "flask-run",
        "EVERY_SEAT_INSTANCE": str(tmp_path / "instance"),
    }
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)]
    command += ["--debug"] if reloader else ["--no-reload"]
    server = subprocess.Popen(
        with_default_signals(command),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run_server = SearchIndex(run_index)  # what the development server's index holds, read here
    try:
        # Its indexer builds its index from the database, then follows the journal.
        wait_for(
            lambda: [hit.id for hit in run_server.search(SearchRequest("numbatform", STATUSES)).hits] == [first.id],
            timeout=30,
        )
        curator = ensure_user("curator")
        save_case_data(case_data(slug="second", body="The dugongish handover.\n"), actor=curator)
        db.session.commit()
        wait_for(lambda: len(run_server.search(SearchRequest("dugongish", STATUSES)).hits) == 1, timeout=5)
        with app.app_context():
            assert "flask-run" in {n.name for n in search_status()[1]}
    finally:
        run_server.close()
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # A server that ignores Ctrl+C must not outlive the test (the reloader's child too).
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate()
            raise
    assert b"search indexer started" in output
    if reloader:  # only the serving child follows, not the reloader's watching parent
        assert output.count(b"search indexer started") == 1


def _rows(count: int, word: str) -> list[int]:
    ids = [
        save_case_data(case_data(slug=f"{word}-{n}", body=f"{word} notes.\n"), actor=None)[0].id for n in range(count)
    ]
    db.session.commit()
    return ids


FOLLOWER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from contextlib import contextmanager
    import casestudies.indexing.follower as follower_module
    from app import create_app
    from casestudies.indexing import get_follower
    follower_module.MAX_BATCH_DOCS = 10  # small passes, slow commits: easy to kill mid-pass
    app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "SEARCH_INDEX_DIR": sys.argv[2], "SECRET_KEY": "x"})
    index = app.extensions["search_index"]
    real = index.writing
    @contextmanager
    def slow(expected=1):
        with real(expected) as batch:
            yield batch
            time.sleep(0.15)
    index.writing = slow
    get_follower(app).run()
    """
)


@pytest.mark.slow  # starts other processes: in `make test`, not test-fast
def test_an_indexer_killed_mid_batch_resumes_from_its_cursor(app: Flask, tmp_path: Path) -> None:
    """kill -9 of a follower process in the middle of a pass: the next one starts at the
    stored cursor; no entry is lost, none before the cursor is applied again."""
    ids = _rows(60, "kiwiform")
    directory = Path(app.config["SEARCH_INDEX_DIR"])
    before = read_state(directory)
    assert before is not None
    process = subprocess.Popen(
        [sys.executable, "-c", FOLLOWER_SCRIPT, app.config["DATABASE_URL"], str(directory)], cwd=ROOT
    )
    try:
        newest = db.session.scalar(select(func.max(SearchJournal.id)))
        wait_for(lambda: (read_state(directory) or before).cursor >= before.cursor + 20, timeout=30)
        time.sleep(0.05)  # inside a later pass
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    killed_at = read_state(directory)
    assert killed_at is not None and before.cursor < killed_at.cursor < newest

    applied: list[int] = []
    index = get_search_index()
    real = index.writing

    def counting(expected: int = 1):
        applied.append(expected)
        return real(expected)

    index.writing = counting
    try:
        catch_up(app)  # this server's indexer, restarted
    finally:
        del index.writing
    journal_after = db.session.scalar(
        select(func.count(func.distinct(SearchJournal.case_id))).where(SearchJournal.id > killed_at.cursor)
    )
    assert sum(applied) == journal_after  # only what came after the stored cursor
    assert sorted(search_ids(app, "kiwiform")) == sorted(ids)
    assert index.doc_count() == len(ids)  # nothing twice
    assert check_index().is_clean


def _journal_row(**values: object) -> None:
    db.session.execute(insert(SearchJournal).values(is_removed=False, created_at=utcnow(), **values))
    db.session.commit()


def test_an_entry_that_commits_after_a_later_one_is_still_applied(app: Flask, make_case) -> None:
    """Entry n+1 becomes visible first (its transaction committed first); entry n shows
    up a pass later. Written with explicit ids, as on SQLite one writer runs at a time."""
    first = make_case(slug="first")
    second = make_case(slug="second")
    newest = db.session.scalar(select(func.max(SearchJournal.id)))
    db.session.execute(update(first.__table__).where(first.__table__.c.id == first.id).values(title="Gnuesque one"))
    db.session.execute(update(second.__table__).where(second.__table__.c.id == second.id).values(title="Gnuesque two"))
    db.session.commit()  # plain SQL: no journal entries yet; they are written below, out of order
    follower = get_follower(app)
    assert follower.try_lead()
    try:
        _journal_row(id=newest + 2, case_id=second.id)
        follower.step()
        state = read_state(Path(app.config["SEARCH_INDEX_DIR"]))
        assert state is not None and state.cursor == newest + 2 and set(state.gaps) == {newest + 1}
        assert search_ids(app, "gnuesque") == [second.id]
        _journal_row(id=newest + 1, case_id=first.id)  # the slower transaction commits
        follower.step()
        assert sorted(search_ids(app, "gnuesque")) == sorted([first.id, second.id])
        state = read_state(Path(app.config["SEARCH_INDEX_DIR"]))
        assert state is not None and state.gaps == {}
    finally:
        follower.resign()
    assert check_index().is_clean


def test_a_missing_entry_is_given_up_after_the_gap_time_out(app: Flask, make_case) -> None:
    make_case()
    newest = db.session.scalar(select(func.max(SearchJournal.id)))
    follower = get_follower(app)
    follower.gap_timeout_s = 0.2
    assert follower.try_lead()
    try:
        _journal_row(id=newest + 2, case_id=1)  # newest + 1 was rolled back
        follower.step()
        assert set(read_state(follower.directory).gaps) == {newest + 1}
        time.sleep(0.3)
        follower.step()
        assert read_state(follower.directory).gaps == {}
    finally:
        follower.resign()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: SQLite runs one writing transaction at a time")
def test_concurrent_transactions_committing_out_of_order_on_postgresql(app: Flask, make_case) -> None:
    from sqlalchemy.orm import Session

    first, second = make_case(slug="first"), make_case(slug="second")
    slow, fast = Session(db.engine), Session(db.engine)
    try:
        slow_case = slow.get(type(first), first.id)
        slow_case.title = "Elandish slow"
        slow.add(slow_case)
        _flush_with_journal(slow)  # takes the lower journal id, does not commit yet
        fast_case = fast.get(type(second), second.id)
        fast_case.title = "Elandish fast"
        _flush_with_journal(fast)
        fast.commit()
        catch_up(app)
        assert search_ids(app, "elandish") == [second.id]
        slow.commit()
        catch_up(app)
        assert sorted(search_ids(app, "elandish")) == sorted([first.id, second.id])
    finally:
        slow.close()
        fast.close()


def _flush_with_journal(session) -> None:
    from casestudies.indexing.journal import affected_cases

    changed = affected_cases(session)
    session.flush()
    session.execute(insert(SearchJournal), [{"case_id": i, "is_removed": r} for i, r in changed.items()])


def test_pruning_keeps_what_a_server_still_needs_and_a_server_past_retention_rebuilds(
    app: Flask, second_server: Flask, make_case
) -> None:
    ids = [make_case(slug=f"prune-{n}", body="Dikdikish notes.\n").id for n in range(5)]
    catch_up(second_server)
    newest = db.session.scalar(select(func.max(SearchJournal.id)))
    # The second server falls behind (as if stopped for a while): its floor is 2.
    db.session.execute(update(SearchNode).where(SearchNode.name == "second").values(floor=2, cursor=2))
    db.session.commit()
    assert prune_journal(db.session, timedelta(hours=24)) == 2  # entries 1 and 2: every server has them
    assert db.session.scalar(select(func.min(SearchJournal.id))) == 3
    assert db.session.get(SearchNode, "second").rebuild_requested_at is None

    # Past the retention period every entry but the newest goes, whoever still needs it.
    db.session.execute(update(SearchJournal).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert prune_journal(db.session, timedelta(hours=24)) == newest - 3
    assert db.session.scalar(select(func.count()).select_from(SearchJournal)) == 1
    db.session.expire_all()
    assert db.session.get(SearchNode, "second").rebuild_requested_at is not None  # it lost entries
    assert db.session.get(SearchNode, app.config["SEARCH_NODE_NAME"]).rebuild_requested_at is None

    # Its indexer rebuilds from the database, then follows.
    with second_server.app_context():
        db.session.execute(update(SearchNode).where(SearchNode.name == "second").values(last_rebuild_at=None))
        db.session.commit()
    catch_up(second_server)
    assert sorted(search_ids(second_server, "dikdikish")) == sorted(ids)
    with second_server.app_context():
        node = db.session.get(SearchNode, "second")
        assert node.last_rebuild_at is not None and node.rebuild_requested_at is None
        assert node.cursor == newest
        assert check_index().is_clean


def test_the_indexer_prunes_the_journal_as_it_goes(app: Flask, make_case) -> None:
    for n in range(3):
        make_case(slug=f"p-{n}")
    follower = get_follower(app)
    follower._last_prune = 0.0  # due
    catch_up(app)
    # One server, which has applied everything: only the newest entry is left.
    assert db.session.scalar(select(func.count()).select_from(SearchJournal)) == 1


@pytest.mark.slow  # starts other processes: in `make test`, not test-fast
def test_a_large_browser_import_returns_at_commit_and_sign_ins_are_not_slowed(app: Flask, login) -> None:
    count = 400
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(count):
            body = f"Springbokish note {n}.\n\n" + "The ward team met every morning to plan discharges. " * 60
            data = case_data(slug=f"bulk-{n}", title=f"Bulk case {n}", body=body)
            archive.writestr(f"case-{n}.md", dump_case_file(data))
    curator = login("curator")
    uploaded = curator.post(
        "/transfer/upload",
        data={"files": [(io.BytesIO(buffer.getvalue()), "bulk.zip")]},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 200, uploaded.get_data(as_text=True)[:500]
    token = uploaded.get_data(as_text=True).split('name="upload" value="')[1].split('"')[0]
    confirmed = curator.post("/transfer/import", data={"upload": token})
    assert confirmed.status_code == 302
    run_jobs(app)  # the import job (another process in production)
    # The request committed and returned; nothing of the import is in the index yet.
    assert search_ids(app, "springbokish") == []
    progress = indexing_progress()
    assert progress.pending == count
    page = curator.get("/transfer/").get_data(as_text=True)
    assert f"{count} changes" in page

    ensure_user("learner")
    user_email = f"{Role.LEARNER.value}@example.org"
    start_follower(app)
    timings = []
    busy = []
    for _ in range(5):
        client = app.test_client()
        started = time.monotonic()
        response = client.post("/login", data={"email": user_email, "password": PASSWORD})
        timings.append(time.monotonic() - started)
        assert response.status_code == 302
        busy.append(indexing_progress().pending > 0)
        db.session.rollback()
    assert busy[0], "the sign-ins should have overlapped the indexing"
    assert max(timings) < 2.0, timings
    wait_for(lambda: len(search_ids(app, "springbokish")) == count, timeout=120)
    wait_for(lambda: indexing_progress().pending == 0, timeout=10)
    assert "up to date" in curator.get("/transfer/").get_data(as_text=True)
    stop_follower(app)


@pytest.mark.browser
def test_the_search_page_of_a_server_still_building_its_index_passes_axe(live_server: Flask, page) -> None:
    stop_follower(live_server)
    with live_server.app_context():
        ensure_user("learner")
        db.session.remove()
    # As a new server before its indexer has built anything: no index on its disk.
    (Path(live_server.config["SEARCH_INDEX_DIR"]) / "CURRENT").unlink()
    live_server.extensions["search_index"].close()
    sign_in(page, "learner")
    response = page.goto("/search?q=handover")
    assert response is not None and response.status == 503
    assert "results will appear in a moment" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Search the case library").input_value() == "handover"
    assert axe_violations(page) == []
