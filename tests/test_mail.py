"""Mail delivery's promises, against a real SMTP server on loopback (aiosmtpd): a message
goes out with its text and HTML parts and its headers; it exists only if the transaction
that queued it commits; while the server is down or answers "try later" the job waits and
is tried again with backoff, and is delivered once when the server is back; a permanent
refusal is not retried; with two runners on one database each message is sent once. And
the one window where a message can go twice, named in the README ("Email")."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from casestudies.extensions import db
from casestudies.jobs import get_runner, queue, run_jobs, start_runner, stop_runner
from casestudies.mail import queue_mail, render_mail
from casestudies.mail.delivery import send
from casestudies.models import utcnow
from casestudies.models.jobs import FINISHED, QUEUED, REFUSED, Job

from .conftest import TEST_REFLECTION_KEY
from .smtp_fixtures import SmtpServer

MESSAGE = {"to": "reader@example.org", "subject": "Your report was resolved", "text": "Plain words.\n"}


def _job(job_id: int) -> Job:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None
    return job


def _due_now(job_id: int) -> None:
    """The job's wait has passed (rather than sleeping through it)."""
    job = _job(job_id)
    job.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_a_message_goes_out_with_text_and_html_parts_and_its_headers(app: Flask, smtp_server: SmtpServer) -> None:
    app.config.update(smtp_server.settings(), MAIL_DEFAULT_SENDER="Every Seat <library@academy.example>")
    rendered = render_mail("test", subject="A test & more")
    job = queue_mail(
        to="reader@example.org",
        subject="A test & more",
        text=rendered.text,
        html=rendered.html,
        kind="test",
        unsubscribe_url="https://seat.example/unsubscribe/abc?kind=test",
    )
    db.session.commit()
    assert run_jobs(app) == 1 and _job(job.id).state == FINISHED
    [(sender, recipients, _)] = smtp_server.inbox.received
    assert sender == "library@academy.example" and recipients == ["reader@example.org"]
    [message] = smtp_server.inbox.messages()
    assert message["Subject"] == "A test & more" and message["To"] == "reader@example.org"
    assert message["Message-ID"] == f"<{job.token}.mail@academy.example>"
    assert message["List-Unsubscribe"] == "<https://seat.example/unsubscribe/abc?kind=test>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert "can send mail" in parts["text/plain"] and "<p" not in parts["text/plain"]
    assert '<html lang="en-GB">' in parts["text/html"] and "A test &amp; more" in parts["text/html"]


def test_no_unsubscribe_headers_unless_asked_and_no_post_header_when_switched_off(
    app: Flask, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.settings())
    queue_mail(**MESSAGE, kind="password-reset")
    queue_mail(**MESSAGE, kind="digest", unsubscribe_url="https://seat.example/u", unsubscribe_post=False)
    db.session.commit()
    assert run_jobs(app) == 2
    plain, digest = smtp_server.inbox.messages()
    assert plain["List-Unsubscribe"] is None and plain["List-Unsubscribe-Post"] is None
    assert plain.get_content_type() == "text/plain"  # no HTML part was given
    assert digest["List-Unsubscribe"] == "<https://seat.example/u>" and digest["List-Unsubscribe-Post"] is None


def test_a_message_is_sent_only_if_the_transaction_that_queued_it_commits(app: Flask, smtp_server: SmtpServer) -> None:
    app.config.update(smtp_server.settings())
    queue_mail(**MESSAGE, kind="test")
    db.session.rollback()
    assert run_jobs(app) == 0 and smtp_server.inbox.received == []


def test_one_address_and_one_line_subject_only(app: Flask) -> None:
    for to in ("", "a@example.org, b@example.org", "a@example.org\r\nBcc: c@example.org", "nobody"):
        with pytest.raises(ValueError):
            queue_mail(to=to, subject="s", text="t", kind="test")
    with pytest.raises(ValueError):
        queue_mail(to="a@example.org", subject="s\r\nBcc: c@example.org", text="t", kind="test")


def test_while_the_server_is_down_mail_waits_and_is_delivered_once_when_it_is_back(
    app: Flask, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.settings(), JOB_RETRY_BASE_SECONDS=10.0)
    job_id = queue_mail(**MESSAGE, kind="test").id
    db.session.commit()
    smtp_server.stop()
    waits = []
    for attempt in (1, 2):
        before = utcnow()
        assert run_jobs(app) == 1
        job = _job(job_id)
        assert job.state == QUEUED and job.attempts == attempt and "ConnectionRefusedError" in (job.error or "")
        waits.append(round((job.run_after - before).total_seconds()))
        assert run_jobs(app) == 0  # not due yet
        _due_now(job_id)
    assert waits == [10, 20]  # backoff
    smtp_server.start()  # back, on the same port
    assert run_jobs(app) == 1 and _job(job_id).state == FINISHED
    _due_now(job_id)
    assert run_jobs(app) == 0
    [message] = smtp_server.inbox.messages()
    assert message["Subject"] == MESSAGE["subject"]


def test_a_try_later_answer_is_retried_and_a_permanent_refusal_is_not(app: Flask, smtp_server: SmtpServer) -> None:
    app.config.update(smtp_server.settings())
    later = queue_mail(**MESSAGE, kind="test").id
    db.session.commit()
    smtp_server.inbox.answer = "later"
    assert run_jobs(app) == 1
    job = _job(later)
    assert job.state == QUEUED and "451" in (job.error or "")
    smtp_server.inbox.answer = "accept"
    _due_now(later)
    assert run_jobs(app) == 1 and _job(later).state == FINISHED and len(smtp_server.inbox.received) == 1

    refused = queue_mail(**{**MESSAGE, "to": "gone@example.org"}, kind="test").id
    db.session.commit()
    smtp_server.inbox.answer = "reject"
    assert run_jobs(app) == 1
    job = _job(refused)
    assert job.state == REFUSED and job.attempts == 1 and "550" in (job.error or "")
    assert run_jobs(app) == 0 and len(smtp_server.inbox.received) == 1


def test_with_two_runners_on_one_database_each_message_is_sent_once(
    app: Flask, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = {**smtp_server.settings(), "JOB_POLL_SECONDS": 0.05, "JOB_THREADS": 2}
    app.config.update(settings)
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],  # the same database: another server
            "SEARCH_INDEX_DIR": str(tmp_path / "b" / "index"),
            "JOBS_DIR": str(tmp_path / "b" / "jobs"),
            "SECRET_KEY": "test-secret",
            "REFLECTION_KEYS": TEST_REFLECTION_KEY,
            "SERVER_NAME_LABEL": "b",
            **settings,
        }
    )
    # A runner reads its poll interval when create_app builds it.
    get_runner(app).poll = get_runner(other).poll = 0.05
    smtp_server.inbox.delay = 0.02  # each delivery takes a moment, so the runners interleave
    ids = [queue_mail(**{**MESSAGE, "to": f"reader{i}@example.org"}, kind="test").id for i in range(30)]
    db.session.commit()
    start_runner(app)
    start_runner(other)
    try:
        deadline = time.monotonic() + 60
        while len(smtp_server.inbox.received) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a duplicate, were there one, would arrive by now
    finally:
        stop_runner(app)
        stop_runner(other)
        with other.app_context():
            db.engine.dispose()
    sent = Counter(message["Message-ID"] for message in smtp_server.inbox.messages())
    assert len(sent) == len(ids) and set(sent.values()) == {1}
    jobs = [_job(job_id) for job_id in ids]
    assert {job.state for job in jobs} == {FINISHED}
    assert sorted(message_id.split(".")[0].strip("<") for message_id in sent) == sorted(job.token for job in jobs)
    assert len({job.locked_by for job in jobs}) >= 2, "both runners took part"


def test_the_window_where_a_message_can_go_twice_keeps_its_message_id(app: Flask, smtp_server: SmtpServer) -> None:
    """The server accepted the message, then its runner died before marking the job done:
    another runner takes the job over when the lease runs out and sends it again. The
    repeat carries the same Message-ID, so a receiving system can recognise it."""
    app.config.update(smtp_server.settings())
    job_id = queue_mail(**MESSAGE, kind="test").id
    db.session.commit()
    assert queue.claim("dying-runner", lease_seconds=0.2) == job_id
    job = _job(job_id)
    send(job, {**MESSAGE, "kind": "test"})  # delivered ... and then the runner died
    db.session.rollback()
    time.sleep(0.3)
    assert run_jobs(app) == 1 and _job(job_id).state == FINISHED
    first, second = smtp_server.inbox.messages()
    assert first["Message-ID"] == second["Message-ID"] == f"<{job.token}.mail@localhost>"


def test_without_a_mail_server_each_message_is_a_file_in_mail_dir(app: Flask, runner) -> None:
    assert not app.config["MAIL_SERVER"]
    job = queue_mail(**MESSAGE, kind="test", html="<p>Hello</p>")
    db.session.commit()
    assert run_jobs(app) == 1
    [path] = Path(app.config["MAIL_DIR"]).glob("*.eml")
    assert job.token in path.name and path.stat().st_mode & 0o077 == 0
    text = path.read_text()
    assert "Subject: Your report was resolved" in text and "text/html" in text
    result = runner.invoke(args=["mail", "where"])
    assert result.exit_code == 0 and f"written to files in {app.config['MAIL_DIR']}" in result.output


def test_production_refuses_a_mail_server_without_site_url(tmp_path: Path) -> None:
    settings = {
        "EVERY_SEAT_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "SECRET_KEY": "a varied production key, 32+ bytes long!",
        "REFLECTION_KEYS": TEST_REFLECTION_KEY,
        "MAIL_SERVER": "smtp.example.org",
    }
    with pytest.raises(RuntimeError, match="SITE_URL"):
        create_app(settings)


def test_starttls_checks_the_servers_certificate(app: Flask, starttls_server: SmtpServer) -> None:
    """A server whose certificate no trusted authority signed is not sent to (Flask-Mailman
    alone would send anyway: smtplib's STARTTLS without a context checks nothing); trusted
    (MAIL_TLS_CA_FILE), the message goes over TLS."""
    app.config.update(starttls_server.settings(), MAIL_USE_TLS=True)
    job_id = queue_mail(**MESSAGE, kind="test").id
    db.session.commit()
    assert run_jobs(app) == 1
    job = _job(job_id)
    assert job.state == QUEUED and "CERTIFICATE_VERIFY_FAILED" in (job.error or "")
    assert starttls_server.inbox.received == []
    app.config["MAIL_TLS_CA_FILE"] = str(starttls_server.certificate)
    _due_now(job_id)
    assert run_jobs(app) == 1 and _job(job_id).state == FINISHED
    assert starttls_server.inbox.over_tls == [True]


def test_mail_settings_from_the_environment() -> None:
    from casestudies.config import environment_overrides

    settings = environment_overrides(
        {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": "465", "MAIL_USE_SSL": "yes", "MAIL_USE_TLS": "0"}
    )
    assert settings == {
        "MAIL_SERVER": "smtp.example.org",
        "MAIL_PORT": 465,
        "MAIL_USE_SSL": True,
        "MAIL_USE_TLS": False,
    }


def test_one_rule_makes_every_link_in_a_mail_absolute(app: Flask) -> None:
    """SITE_URL when set; else the request's own address; else (a job, a command) where
    `make run` serves. Endpoints and paths (a notification's link) follow the same rule."""
    from casestudies.mail import absolute_path, absolute_url

    with app.app_context():  # no request: a job or a command
        assert absolute_url("auth.login") == "http://127.0.0.1:5000/login"
        assert absolute_path("/notifications") == "http://127.0.0.1:5000/notifications"
    with app.test_request_context("/", base_url="http://intranet.test:8080"):
        assert absolute_url("auth.login") == "http://intranet.test:8080/login"
        app.config["SITE_URL"] = "https://seat.example.org/"
        assert absolute_url("auth.forgot_password") == "https://seat.example.org/login/forgot"
        assert absolute_path("/cases/x") == "https://seat.example.org/cases/x"
