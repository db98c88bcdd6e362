"""The job runner's promises (casestudies/jobs/): a job enqueued with a change exists only
if the change commits; a failing job is retried with growing waits, then shown as failed
with its error; a job whose runner dies is taken over when its lease runs out (also after
a `kill -9` of a runner process, and across a restart); with two runners each job runs
once; renders run at most RENDER_CONCURRENCY at a time per server; the admins' page lists
jobs and tries a failed one again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from casestudies.extensions import db
from casestudies.jobs import enqueue, get_runner, handler, queue, run_jobs
from casestudies.models import utcnow
from casestudies.models.jobs import FAILED, FINISHED, QUEUED, RUNNING, Job

from .conftest import TEST_REFLECTION_KEY, ensure_user

ROOT = Path(__file__).resolve().parents[1]
CALLS: list[tuple[int, str]] = []


@handler("test_boom", max_attempts=3)
def _boom(job: Job, payload: dict) -> None:
    raise ValueError(f"boom on attempt {job.attempts}")


@handler("test_record", max_attempts=5)
def _record(job: Job, payload: dict) -> None:
    CALLS.append((job.id, threading.current_thread().name))
    time.sleep(float(payload.get("seconds", 0)))


def _job(job_id: int) -> Job:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None
    return job


def test_a_job_exists_only_if_the_change_that_enqueued_it_commits(app: Flask) -> None:
    enqueue("test_record", {})
    db.session.rollback()
    assert db.session.query(Job).count() == 0 and run_jobs(app) == 0
    job_id = enqueue("test_record", {}).id
    db.session.commit()
    assert run_jobs(app) == 1 and _job(job_id).state == FINISHED


def test_a_failing_job_is_retried_with_growing_waits_then_shown_failed_with_its_error(app: Flask) -> None:
    app.config["JOB_RETRY_BASE_SECONDS"] = 10.0
    job_id = enqueue("test_boom", label="Always fails").id
    db.session.commit()
    for wait in (10, 20):
        before = utcnow()
        assert run_jobs(app) == 1
        after = utcnow()
        job = _job(job_id)
        assert job.state == QUEUED and f"boom on attempt {job.attempts}" in (job.error or "")
        # The wait counts from the failure, somewhere between before and after (a loaded
        # machine may take a while to run the job).
        assert before + timedelta(seconds=wait) <= job.run_after <= after + timedelta(seconds=wait)
        assert run_jobs(app) == 0  # not due yet
        job.run_after = utcnow() - timedelta(seconds=1)  # the wait has passed
        db.session.commit()
    assert run_jobs(app) == 1
    job = _job(job_id)
    assert job.state == FAILED and job.attempts == 3 and "ValueError: boom on attempt 3" in (job.error or "")
    assert run_jobs(app) == 0  # failed jobs stay failed until someone retries them


def test_a_job_whose_runner_died_is_taken_over_once_its_lease_runs_out(app: Flask) -> None:
    job_id = enqueue("test_record", {}).id
    db.session.commit()
    assert queue.claim("dead-runner", lease_seconds=60) == job_id  # and then it died
    assert run_jobs(app) == 0  # its lease still holds
    # Its lease runs out (moved, not waited for: a 0.2 s lease ran out before the check on a
    # loaded machine).
    db.session.get(Job, job_id).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert run_jobs(app) == 1
    job = _job(job_id)
    assert job.state == FINISHED and job.attempts == 2 and job.locked_by != "dead-runner"
    # Had the first runner come back, its outcome would be discarded.
    assert queue._end(job_id, "dead-runner", FAILED, error="late") == "lost"
    assert _job(job_id).state == FINISHED


def test_a_runner_never_takes_over_a_job_it_is_still_running(app: Flask) -> None:
    """Its heartbeat stalled (a loaded machine) and the lease lapsed: another runner may take
    the job over, but not this runner's own next thread (found by the kill -9 test on a
    loaded machine: the job ran twice in one runner, the first outcome counted)."""
    runner = get_runner(app)
    job_id = enqueue("test_record", {}).id
    db.session.commit()
    assert queue.claim(runner.name, lease_seconds=0.1) == job_id
    runner._running.add(job_id)  # as run_one does while the job runs
    time.sleep(0.2)  # the lease has lapsed
    try:
        assert runner.run_one() is False and _job(job_id).attempts == 1
    finally:
        runner._running.discard(job_id)
    assert queue.claim("another-runner", lease_seconds=30) == job_id


def test_two_runners_claiming_at_once_run_each_job_once(app: Flask) -> None:
    CALLS.clear()
    ids = [enqueue("test_record", {}).id for _ in range(40)]
    db.session.commit()

    def drain(name: str) -> None:
        with app.app_context():
            while (job_id := queue.claim(name, 30)) is not None:
                queue.execute(job_id, name, retry_base_seconds=1)
            db.session.remove()

    threads = [threading.Thread(target=drain, args=(f"runner-{i}",), name=f"runner-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ran = Counter(job_id for job_id, _ in CALLS)
    assert sorted(ran) == ids and set(ran.values()) == {1}
    assert {job.state for job in db.session.query(Job)} == {FINISHED}


def test_renders_run_at_most_render_concurrency_at_a_time_per_server(app: Flask, monkeypatch) -> None:
    from casestudies.guides import pdf as pdfs

    active, most = 0, 0
    lock = threading.Lock()

    def slow_render(html: str, **_: object) -> bytes:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.3)
        with lock:
            active -= 1
        return b"%PDF-1.7 " + html.encode()

    monkeypatch.setattr(pdfs, "render_in_child", slow_render)
    for limit in (1, 2):
        active, most = 0, 0
        app.config.update(JOB_THREADS=3, RENDER_CONCURRENCY=limit, JOB_POLL_SECONDS=0.02)
        from casestudies.jobs import init_app  # a runner with this configuration

        init_app(app)
        ids = [
            enqueue("render_pdf", {"html": f"<p>{limit} {n}</p>", "base_url": "http://x/", "content": f"{limit}{n}"}).id
            for n in range(4)
        ]
        db.session.commit()
        runner = get_runner(app)
        runner.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and {_job(i).state for i in ids} != {FINISHED}:
            time.sleep(0.05)
        runner.stop()
        assert {_job(i).state for i in ids} == {FINISHED}
        assert most == limit


def test_the_admins_page_lists_jobs_by_state_and_tries_a_failed_one_again(app: Flask, login) -> None:
    app.config["JOB_RETRY_BASE_SECONDS"] = 0.0
    failed = enqueue("test_boom", label="Doomed export", max_attempts=1).id
    waiting = enqueue("test_record", label="Waiting job").id
    db.session.commit()
    get_runner(app).run_one()  # the failing job first
    admin = login("admin")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert "Doomed export" in page and "Waiting job" in page and "ValueError: boom on attempt 1" in page
    failed_page = admin.get("/admin/jobs?state=failed").get_data(as_text=True)
    assert "Doomed export" in failed_page and "Waiting job" not in failed_page
    assert admin.get("/admin/jobs?state=nonsense").status_code == 200  # an unknown state: all jobs
    # Only a failed (or refused) job can be tried again.
    assert admin.post(f"/admin/jobs/{waiting}/retry").status_code == 409
    response = admin.post(f"/admin/jobs/{failed}/retry")
    assert response.status_code == 302
    job = _job(failed)
    assert job.state == QUEUED and job.attempts == 0
    assert admin.post("/admin/jobs/999/retry").status_code == 404
    assert login("curator").get("/admin/jobs").status_code == 403


def test_the_admins_page_lists_queued_running_failed_and_finished_jobs(app: Flask, login) -> None:
    ids = {
        state: enqueue("test_record", label=f"Sample {state} work").id for state in (QUEUED, RUNNING, FAILED, FINISHED)
    }
    db.session.commit()
    for state, job_id in ids.items():
        job = db.session.get(Job, job_id)
        job.state, job.error = state, ("ValueError: it broke" if state == FAILED else None)
        job.locked_by = "server-a:42" if state == RUNNING else None
    db.session.commit()
    admin = login("admin")
    everything = admin.get("/admin/jobs").get_data(as_text=True)
    assert all(f"Sample {state} work" in everything for state in ids)
    for state in ids:
        page = admin.get(f"/admin/jobs?state={state}").get_data(as_text=True)
        assert [f"Sample {other} work" in page for other in ids] == [other == state for other in ids], state
        assert f"{state.capitalize()} (1)" in page
    assert "server-a:42" in admin.get("/admin/jobs?state=running").get_data(as_text=True)
    failed = admin.get("/admin/jobs?state=failed").get_data(as_text=True)
    assert f'action="/admin/jobs/{ids[FAILED]}/retry"' in failed and "ValueError: it broke" in failed
    finished = admin.get("/admin/jobs?state=finished").get_data(as_text=True)
    assert "/retry" not in finished  # only a failed (or refused) job is offered again


def test_a_pdf_already_rendered_for_the_same_content_is_served_at_once(
    app: Flask, login, make_case, monkeypatch
) -> None:
    """Made once, then served at once to anyone asking for the same content: from this
    server's cache, or (another server, whose cache lacks it) from the finished job's
    result. Changed content is a new render."""
    from casestudies.cases.revisions import case_to_data, save_case_data
    from casestudies.guides import pdf as pdfs

    renders: list[str] = []

    def render(html: str, **_: object) -> bytes:
        renders.append(html)
        return b"%PDF-1.7 " + str(len(renders)).encode()

    monkeypatch.setattr(pdfs, "render_in_child", render)
    case = make_case(slug="porter-lounge")
    first, second = login("learner"), login("learner")
    asked = first.get("/cases/porter-lounge/pdf")
    assert asked.mimetype == "text/html" and "data-app-job-status" in asked.get_data(as_text=True)
    assert run_jobs(app) == 1 and len(renders) == 1
    made = second.get("/cases/porter-lounge/pdf")
    assert (made.status_code, made.mimetype, made.data) == (200, "application/pdf", b"%PDF-1.7 1")
    # Another server: its own cache is empty; the job's result, kept in the database, answers.
    cache = Path(app.config["PDF_CACHE_DIR"])
    for file in cache.rglob("*.pdf"):
        file.unlink()
    again = first.get("/cases/porter-lounge/pdf")
    assert (again.mimetype, again.data) == ("application/pdf", b"%PDF-1.7 1")
    assert len(list(cache.rglob("*.pdf"))) == 1  # kept on this server from now on
    assert db.session.query(Job).count() == 1 and run_jobs(app) == 0 and len(renders) == 1
    # The case changes (published directly, as the workflow does): its PDF is made again.
    data = case_to_data(case)
    save_case_data(replace(data, summary=data.summary + " Changed."), actor=None, case=case, direct=True)
    db.session.commit()
    changed = first.get("/cases/porter-lounge/pdf")
    assert changed.mimetype == "text/html" and run_jobs(app) == 1 and len(renders) == 2


def test_a_private_jobs_status_is_its_owners_only(app: Flask, login) -> None:
    owner = ensure_user("learner")
    private = enqueue("test_record", owner=owner)
    shared = enqueue("test_record")
    db.session.commit()
    learner, other = login("learner"), login("facilitator")
    assert learner.get(f"/jobs/{private.token}/status").json == {"state": "queued", "done": False, "attempts": 0}
    assert other.get(f"/jobs/{private.token}/status").status_code == 404
    assert other.get(f"/jobs/{shared.token}/status").status_code == 200
    assert other.get("/jobs/not-a-token/status").status_code == 404


# -- runners in processes of their own -----------------------------------------------------
def _start_runner(app: Flask, tmp_path: Path, label: str, **env: str) -> subprocess.Popen[str]:
    server = tmp_path / f"server-{label}"
    server.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.job_worker", app.config["DATABASE_URL"], str(server), label],
        cwd=ROOT,
        env={**os.environ, "TEST_REFLECTION_KEY": TEST_REFLECTION_KEY, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _wait(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_job_survives_a_restart_and_a_kill_9_of_its_runner(app: Flask, tmp_path: Path) -> None:
    log = tmp_path / "log"
    job_id = enqueue("test_record", {"log": str(log), "seconds": 3}).id
    db.session.commit()  # queued while no runner runs: kept until one starts
    first = _start_runner(app, tmp_path, "a", JOB_LEASE_SECONDS="1")
    try:
        _wait(lambda: f"start {job_id} a" in _lines(log))
        assert _job(job_id).state == RUNNING
        first.send_signal(signal.SIGKILL)  # mid-job: no chance to record anything
        first.wait(10)
    finally:
        first.kill()
    assert _job(job_id).state == RUNNING and f"end {job_id} a" not in _lines(log)
    second = _start_runner(app, tmp_path, "a", JOB_LEASE_SECONDS="1")  # the same server, restarted
    try:
        _wait(lambda: _job(job_id).state == FINISHED)
    finally:
        second.terminate()
        second.wait(10)
    job = _job(job_id)
    assert job.attempts == 2 and _lines(log)[-1] == f"end {job_id} a"


@pytest.mark.slow
def test_with_two_servers_each_job_runs_once(app: Flask, tmp_path: Path) -> None:
    log = tmp_path / "log"
    servers = [_start_runner(app, tmp_path, label, JOB_LEASE_SECONDS="30") for label in ("a", "b")]
    try:
        ids = [enqueue("test_record", {"log": str(log), "seconds": 0.02}).id for _ in range(60)]
        db.session.commit()
        _wait(lambda: len([line for line in _lines(log) if line.startswith("end")]) >= len(ids))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    started = Counter(int(line.split()[1]) for line in _lines(log) if line.startswith("start"))
    assert sorted(started) == ids and set(started.values()) == {1}
    by = Counter(line.split()[2] for line in _lines(log) if line.startswith("start"))
    assert set(by) == {"a", "b"}, by  # both servers took part
    assert {_job(i).state for i in ids} == {FINISHED}


def test_a_finished_job_keeps_no_input_and_old_jobs_are_pruned(app: Flask) -> None:
    done = enqueue("test_record", {"secret": "x" * 1000}).id
    failed = enqueue("test_boom", {"secret": "y"}, max_attempts=1).id
    db.session.commit()
    assert run_jobs(app) == 2
    assert _job(done).payload == "{}" and _job(failed).payload == '{"secret": "y"}'  # to be retried
    assert queue.prune(7, 30) == 0  # both are new
    db.session.query(Job).update({Job.finished_at: utcnow() - timedelta(days=8)})
    db.session.commit()
    assert queue.prune(7, 30) == 1  # the finished one; the failure is kept for 30 days
    assert db.session.get(Job, failed) is not None and db.session.get(Job, done) is None


def test_the_page_following_a_pdf_job_checks_again_at_the_same_address(app: Flask, login, make_case) -> None:
    case = make_case()
    client = login("learner")
    page = client.get(f"/cases/{case.slug}/pdf").get_data(as_text=True)
    assert "Making your PDF" in page and f'href="/cases/{case.slug}/pdf"' in page and "Check again" in page
    # Asked again before it is made: the same job, not a second one.
    client.get(f"/cases/{case.slug}/pdf")
    assert db.session.query(Job).count() == 1
