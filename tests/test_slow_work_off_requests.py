"""No request waits on slow work or holds the database while it runs (issue 24's load
probe): sign-ins made while the largest handout PDF renders all succeed at once; a
notebook of 40 long reflections answers at once and renders within the PDF budget.

The one-second and five-second bounds are generous correctness bounds, not performance
targets: the bugs they catch are sign-ins failing after SQLite's 10 s busy timeout and a
notebook PDF rendered for a minute inside the web worker."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask

from casestudies.extensions import db
from casestudies.jobs import run_jobs, start_runner, stop_runner
from casestudies.learning import notebook
from casestudies.models.jobs import FINISHED, REFUSED, RUNNING, Job

from .conftest import PASSWORD, ensure_user
from .test_guide_pdfs import largest_guide

pytestmark = [pytest.mark.pdf, pytest.mark.slow]


def _render_state() -> str | None:
    db.session.expire_all()
    job = db.session.query(Job).order_by(Job.id.desc()).first()
    return job.state if job is not None else None


def test_twenty_sign_ins_succeed_at_once_while_the_largest_handout_pdf_renders(app: Flask, login, make_case) -> None:
    guide = largest_guide(make_case)
    guide.handout_token, guide.is_handout_on = "large-handout", True
    people = [ensure_user("learner", email=f"learner{n}@example.org") for n in range(20)]
    db.session.commit()
    reader = login("learner")
    start_runner(app)  # this server's runner, as each gunicorn worker starts it
    answers = []
    asking = threading.Thread(target=lambda: answers.append(reader.get("/guides/handout/large-handout/pdf")))
    asking.start()
    # The render is under way, as a job of this server's runner.
    deadline = time.monotonic() + 30
    while _render_state() != RUNNING:
        assert time.monotonic() < deadline, _render_state()
        time.sleep(0.05)
    try:
        timings = []
        for person in people:
            client = app.test_client()
            started = time.monotonic()
            response = client.post("/login", data={"email": person.email, "password": PASSWORD})
            timings.append(time.monotonic() - started)
            assert response.status_code == 302 and response.headers["Location"] == "/", response.status_code
        assert max(timings) < 1.0, timings
    finally:
        asking.join(60)
        stop_runner(app)
    # The visit was recorded and committed with the request that asked for the PDF.
    assert answers and answers[0].status_code == 200
    from casestudies.models import HandoutVisit

    assert db.session.query(HandoutVisit).filter_by(guide_id=guide.id).count() == 1


def test_a_notebook_of_forty_long_reflections_answers_at_once_and_renders_within_the_budget(app: Flask) -> None:
    owner = ensure_user("learner", email="writer@example.org")
    long_text = "I noticed how the porters led the change before anyone asked them to. " * 140  # ~10,000
    for n in range(40):
        notebook.save_reflection(
            owner,
            notebook.ReflectionInput(
                "nmc", f"Reflection {n}", nature=long_text, learned=long_text, changed=long_text, relevance=long_text
            ),
        )
    db.session.commit()
    app.config["PDF_RENDER_SECONDS"] = 5.0
    client = app.test_client()
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    started = time.monotonic()
    response = client.get("/my/notebook/reflective-accounts.pdf")
    answered = time.monotonic() - started
    assert response.status_code == 200 and "data-app-job-status" in response.get_data(as_text=True)
    assert answered < 5.0, answered
    # The render: a child process within the budget (made, or refused as too large), never a 500.
    started = time.monotonic()
    assert run_jobs(app) == 1
    assert time.monotonic() - started < 5.0 + 5.0  # the budget, and the child's start and stop
    assert _render_state() in (FINISHED, REFUSED)
    answer = client.get("/my/notebook/reflective-accounts.pdf")
    assert (answer.status_code, answer.mimetype) in ((200, "application/pdf"), (422, "text/html"))
