"""`flask jobs work`: this server's job runner in the foreground (a process of its own,
instead of the threads gunicorn's workers start); `flask jobs run-due`: do the due jobs
once and exit; `flask jobs list`: the newest jobs."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from casestudies.jobs import queue

jobs_cli = AppGroup("jobs", help="Slow work off the request path (casestudies/jobs/).")


@jobs_cli.command("work")
def work() -> None:
    """Run this server's job runner until stopped (SIGTERM or Ctrl+C)."""
    from casestudies.jobs import get_runner

    app: Flask = current_app._get_current_object()
    runner = get_runner(app)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    runner.start()
    click.echo(f"job runner {runner.name}: waiting for the lock in {runner.directory}, then for jobs")
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    runner.stop()


@jobs_cli.command("run-due")
def run_due() -> None:
    """Do every due job here, then exit."""
    from casestudies.jobs import run_jobs

    click.echo(f"{run_jobs()} jobs done")


@jobs_cli.command("list")
@click.option("--state", type=click.Choice(["queued", "running", "failed", "refused", "finished"]))
def list_jobs(state: str | None) -> None:
    """The newest 100 jobs (of one state)."""
    for job in queue.jobs_in(state):
        error = (job.error or "").strip().splitlines()[-1:] or [""]
        click.echo(f"{job.id}\t{job.state}\t{job.attempts}/{job.max_attempts}\t{job.label or job.kind}\t{error[0]}")
