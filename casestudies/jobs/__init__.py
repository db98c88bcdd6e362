"""Slow work as jobs: PDF renders, imports, exports, mail. A request enqueues a job in its
own transaction and answers at once; each server's runner (runner.py) does the work.
The queue is the app's own `job` table (see README, "Jobs", for why not huey,
procrastinate, dramatiq or RQ)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app

from casestudies.jobs import queue
from casestudies.jobs.queue import JobRefused, enqueue, handler
from casestudies.jobs.runner import Runner

__all__ = [
    "JobRefused",
    "Runner",
    "enqueue",
    "get_runner",
    "handler",
    "init_app",
    "queue",
    "run_jobs",
    "start_runner",
    "start_runner_under_flask_run",
    "stop_runner",
]


def init_app(app: Flask) -> None:
    if not app.config.get("JOBS_DIR"):
        app.config["JOBS_DIR"] = str(Path(app.config["SEARCH_INDEX_DIR"]).parent / "jobs")
    app.extensions["job_render_slots"] = threading.BoundedSemaphore(int(app.config["RENDER_CONCURRENCY"]))
    app.extensions["job_runner"] = Runner(app)
    from casestudies.jobs import renders  # noqa: F401 - registers the render handlers
    from casestudies.jobs.cli import jobs_cli

    app.cli.add_command(jobs_cli)


def get_runner(app: Flask | None = None) -> Runner:
    app = app or current_app._get_current_object()
    return app.extensions["job_runner"]


def start_runner(app: Flask) -> None:
    """Start this process's runner (it runs jobs only while it holds the server's lock)."""
    get_runner(app).start()


def stop_runner(app: Flask) -> None:
    get_runner(app).stop()


def start_runner_under_flask_run(app: Flask) -> bool:
    from casestudies.indexing import _serves_under_flask_run

    if app.testing or not _serves_under_flask_run():
        return False
    start_runner(app)
    logging.getLogger(__name__).info("job runner started for %s", app.config["JOBS_DIR"])
    return True


def run_jobs(app: Flask | None = None) -> int:
    """Do every due job in this thread, as this server's runner would (commands, tests)."""
    return get_runner(app).run_until_empty()
