"""The background process (casestudies/background/): one per server, beside the web
workers. It follows the search journal and runs jobs; gunicorn's arbiter starts it and
starts it again after a `kill -9`; web workers never index; an idle one rests; its
bookkeeping writes give way to a busy database; it keeps a warm PDF renderer."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from casestudies.background.lock import ServerLock
from casestudies.background.watch import DatabaseWatch
from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.guides import pdf as guide_pdf
from casestudies.guides import warm
from casestudies.indexing import get_follower
from casestudies.indexing.follower import LOCK_FILE
from casestudies.jobs import enqueue, handler
from casestudies.jobs.runner import LOCK_FILE as RUNNER_LOCK_FILE
from casestudies.models import SearchNode
from search import SearchIndex, SearchRequest, SearchUnavailable

from .conftest import ROOT, _free_port, case_data

STATUSES = ("draft", "review", "published")
IDLE_CPU_BUDGET_MS_PER_S = 5.0  # README, "Running on several servers": an idle server rests


def wait_for(condition: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (SearchUnavailable, FileNotFoundError, ProcessLookupError):
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def found(index_dir: Path, word: str) -> int:
    index = SearchIndex(index_dir)
    try:
        return len(index.search(SearchRequest(word, statuses=STATUSES, per_page=1000)).hits)
    finally:
        index.close()


def edit(slug: str, body: str) -> None:
    save_case_data(case_data(slug=slug, body=body), actor=None)
    db.session.commit()


def server_env(app: Flask, tmp_path: Path) -> dict[str, str]:
    """A second server's settings on the test's database: its own index, jobs folder, name."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SEARCH_INDEX_DIR": str(tmp_path / "bg-index"),
        "JOBS_DIR": str(tmp_path / "bg-jobs"),
        "SEARCH_NODE_NAME": "background-test",
        "EVERY_SEAT_INSTANCE": str(tmp_path / "instance"),
    }


def children(pid: int) -> list[int]:
    """Every thread's children: the arbiter's supervising thread starts the restarted one."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def lock_holders(path: Path) -> set[int]:
    """The pids /proc/locks names as holding a flock on path."""
    inode = path.stat().st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and fields[-3].endswith(f":{inode}"):
            holders.add(int(fields[-4]))
    return holders


def open_files(pid: int) -> set[str]:
    names = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            names.add(os.readlink(fd))
    return names


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process itself (not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the lock ---------------------------------------------------------------------------------
def test_the_server_lock_admits_one_holder_and_the_next_once_it_lets_go(tmp_path: Path) -> None:
    first, second = ServerLock(tmp_path / "role.lock"), ServerLock(tmp_path / "role.lock")
    assert first.acquire() and first.acquire()  # holding it already is holding it
    assert not second.acquire()
    first.release()
    assert second.acquire() and not first.acquire()
    second.release()


def test_the_indexer_and_the_job_runner_are_elected_by_the_one_lock(app: Flask) -> None:
    """No second election code: both hold a ServerLock, and one held elsewhere keeps them out."""
    from casestudies.jobs import get_runner

    follower, runner = get_follower(app), get_runner(app)
    elsewhere = [ServerLock(follower.directory / LOCK_FILE), ServerLock(runner.directory / RUNNER_LOCK_FILE)]
    assert all(lock.acquire() for lock in elsewhere)
    try:
        assert not follower.try_lead() and not runner.try_lead()
    finally:
        for lock in elsewhere:
            lock.release()
    assert follower.try_lead() and runner.try_lead()
    follower.resign()
    runner.resign()


# -- resting --------------------------------------------------------------------------------
@handler("test_background_nothing")
def _nothing(_job: object, _payload: dict[str, object]) -> None:
    return None


def test_the_database_watch_sees_a_change_or_a_new_job_committed_elsewhere_and_nothing_else(app: Flask) -> None:
    """SQLite: data_version; PostgreSQL: the journal's and the queue's NOTIFY."""
    watch = DatabaseWatch(db.engine)
    try:
        token = watch.token()
        assert not watch.wait(token, 0.3)  # nothing committed: it rests the whole time
        edit("watched", "A change.\n")
        assert watch.wait(token, 5)
        token = watch.token()
        enqueue("test_background_nothing")
        db.session.commit()
        assert watch.wait(token, 5)
    finally:
        watch.close()


@pytest.mark.sqlite_only  # SQLite's one writer at a time: what an import makes others wait for
def test_the_indexer_heartbeat_gives_way_to_a_busy_database_without_an_error(
    app: Flask, make_case, caplog: pytest.LogCaptureFixture
) -> None:
    """Found during a 10,000-case import: the heartbeat waited for the importer's write lock
    for the whole busy timeout, then the pass failed with "database is locked"."""
    follower = get_follower(app)
    make_case()
    assert follower.try_lead()
    follower._last_heartbeat = 0.0  # due now
    before = db.session.get(SearchNode, follower.name).heartbeat_at
    db.session.rollback()
    importer = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), timeout=0)
    importer.execute("BEGIN IMMEDIATE")  # a writer holds the lock, as a large import does
    try:
        with caplog.at_level(logging.INFO):
            started = time.monotonic()
            assert follower.step() == 0
            waited = time.monotonic() - started
    finally:
        importer.rollback()
        importer.close()
    assert waited < 5  # it gave way, rather than waiting out the 10 s busy timeout
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "heartbeat put off" in caplog.text
    node = db.session.get(SearchNode, follower.name)
    assert node.last_error is None and node.heartbeat_at == before
    db.session.rollback()
    follower._last_heartbeat = follower._busy_until = 0.0
    follower.step()  # the database free again: a later pass beats
    db.session.expire_all()
    assert db.session.get(SearchNode, follower.name).heartbeat_at > before
    follower.resign()


@pytest.mark.slow  # 10 s of measuring
def test_an_idle_background_process_rests_and_still_follows_an_edit(app: Flask, make_case, tmp_path: Path) -> None:
    for number in range(20):
        make_case(slug=f"idle-{number}", body=f"Quiet ward {number}.\n")
    env = server_env(app, tmp_path)
    index_dir = Path(env["SEARCH_INDEX_DIR"])
    process = subprocess.Popen([sys.executable, "-m", "casestudies.background"], cwd=ROOT, env=env)
    try:
        wait_for(lambda: found(index_dir, "quiet") == 20)
        time.sleep(2)  # past start-up: the warm PDF renderer is a child of its own
        start, before = time.monotonic(), cpu_seconds(process.pid)
        time.sleep(10)
        used_ms_per_s = (cpu_seconds(process.pid) - before) * 1000 / (time.monotonic() - start)
        assert used_ms_per_s < IDLE_CPU_BUDGET_MS_PER_S, f"{used_ms_per_s:.1f} ms of CPU per second while idle"
        edit("after-the-rest", "The okapiform rota.\n")
        wait_for(lambda: found(index_dir, "okapiform") == 1, timeout=10)
    finally:
        process.terminate()
        assert process.wait(30) == 0


# -- under gunicorn, as `make run` serves -----------------------------------------------------
@pytest.mark.slow  # a real server
def test_gunicorn_runs_one_background_process_that_follows_survives_kill_9_and_workers_never_index(
    app: Flask, make_case, tmp_path: Path
) -> None:
    from .test_results_first import _make_run_gunicorn_command

    make_case(slug="before", body="The wombatish handover.\n")
    env = server_env(app, tmp_path)
    index_dir, jobs_dir = Path(env["SEARCH_INDEX_DIR"]), Path(env["JOBS_DIR"])
    log = tmp_path / "server.log"
    with open(log, "wb") as errors:
        server = subprocess.Popen(_make_run_gunicorn_command(_free_port()), cwd=ROOT, env=env, stderr=errors)
    restarted = None

    def background() -> list[int]:
        return [pid for pid in children(server.pid) if "casestudies.background" in cmdline(pid)]

    try:
        wait_for(lambda: len(background()) == 1 and len(children(server.pid)) == 2)
        first = background()[0]
        wait_for(lambda: found(index_dir, "wombatish") == 1)  # it built the index
        edit("during", "The capybarine rota.\n")
        wait_for(lambda: found(index_dir, "capybarine") == 1, timeout=10)  # and follows

        # The locks are the background process's; the web worker holds neither and has
        # neither lock file open.
        worker = next(pid for pid in children(server.pid) if pid != first)
        wait_for(lambda: lock_holders(jobs_dir / RUNNER_LOCK_FILE) == {first})
        assert lock_holders(index_dir / LOCK_FILE) == {first}
        assert not {str(index_dir / LOCK_FILE), str(jobs_dir / RUNNER_LOCK_FILE)} & open_files(worker)

        # A second background process on the same server waits: it takes neither lock.
        second = subprocess.Popen([sys.executable, "-m", "casestudies.background"], cwd=ROOT, env=env)
        try:
            time.sleep(3)
            assert second.poll() is None
            assert lock_holders(index_dir / LOCK_FILE) == {first}
            assert lock_holders(jobs_dir / RUNNER_LOCK_FILE) == {first}
        finally:
            second.terminate()
            second.wait(30)

        os.kill(first, signal.SIGKILL)
        edit("while-down", "The axolotlish night.\n")
        wait_for(lambda: background() and background()[0] != first, timeout=30)
        restarted = background()[0]
        wait_for(lambda: found(index_dir, "axolotlish") == 1, timeout=30)  # caught up
        edit("after", "The quokkaform morning.\n")
        wait_for(lambda: found(index_dir, "quokkaform") == 1, timeout=10)
        assert lock_holders(index_dir / LOCK_FILE) == {restarted}
    finally:
        server.terminate()
        server.wait(60)
    assert "ended; starting another" in log.read_text()
    wait_for(lambda: not Path(f"/proc/{restarted}").exists(), timeout=10)  # stopped with the server


# -- the warm PDF renderer --------------------------------------------------------------------
HTML = "<!doctype html><html lang='en'><head><title>Warm</title></head><body><h1>A handout</h1></body></html>"


@pytest.mark.pdf
def test_the_warm_renderer_serves_a_render_then_a_fresh_one_waits_and_the_budget_still_holds(app: Flask) -> None:
    static_dir = Path(app.static_folder)
    renderer = warm.enable(static_dir)
    try:
        first = renderer.ready_pid
        assert first is not None
        pdf = guide_pdf.render_in_child(HTML, base_url="http://localhost/", static_dir=static_dir, seconds=60)
        assert pdf.startswith(b"%PDF")
        second = renderer.ready_pid
        assert second not in (None, first)  # the warm one rendered; another waits
        assert not Path(f"/proc/{first}").exists()

        with pytest.raises(guide_pdf.PdfRefused):  # over budget: killed, refused
            guide_pdf.render_in_child(HTML, base_url="http://localhost/", static_dir=static_dir, seconds=0.001)
        assert not Path(f"/proc/{second}").exists()
        third = renderer.ready_pid
        assert third not in (None, second) and Path(f"/proc/{third}").exists()
    finally:
        warm.disable()
    wait_for(lambda: not Path(f"/proc/{third}").exists(), timeout=10)
    assert warm.current() is None
