"""Following a job (its status, for the progress page's script) and the admins' job list."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casestudies.errors import NotFound
from casestudies.jobs import queue
from casestudies.jobs.renders import may_follow, status_of
from casestudies.models import Role
from casestudies.models.jobs import STATES
from casestudies.policy import requires

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<token>/status")
@requires(Role.LEARNER)
def status(token: str) -> Response:
    job = queue.job_by_token(token)
    if job is None or not may_follow(job):
        raise NotFound()
    response = jsonify(status_of(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/jobs")
@requires(Role.ADMIN)
def admin() -> str:
    state = request.args.get("state", "")
    if state not in STATES:
        state = ""
    return render_template(
        "jobs/admin.html", jobs=queue.jobs_in(state or None), counts=queue.counts(), states=STATES, state=state
    )


@bp.post("/admin/jobs/<int:job_id>/retry")
@requires(Role.ADMIN)
def retry(job_id: int) -> Response:
    job = queue.retry(job_id)
    flash(f"Job {job.id} is queued again.")
    return redirect(url_for("jobs.admin", state="queued"))
