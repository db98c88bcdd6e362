"""The background process: this server's search indexer, job runner and warm PDF renderer.

`python -m casestudies.background` (what gunicorn's arbiter starts, supervisor.py) or
`flask --app app background` (under systemd, or by hand). It runs until SIGTERM or SIGINT,
or until the process that started it is gone (`--parent`), then stops its loops in order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path

from flask import Flask

from casestudies.background.watch import get_watch
from casestudies.guides import warm
from casestudies.indexing import get_follower
from casestudies.jobs import get_runner

log = logging.getLogger(__name__)
PARENT_CHECK_S = 1.0


def run(app: Flask, *, parent: int | None = None, stop: threading.Event | None = None) -> None:
    """Follow the search journal and run jobs here until stopped (a signal, `stop`, or the
    exit of the process `parent`, whose child this is)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    follower, runner = get_follower(app), get_runner(app)
    if app.config["PDF_WARM_RENDERER"]:
        warm.enable(Path(app.static_folder or "static"))
    follower.start()
    runner.start()
    log.info(
        "background process %s: search indexer for %s, job runner for %s (each once it holds its lock)",
        os.getpid(),
        follower.directory,
        runner.directory,
    )
    try:
        while not stop.wait(PARENT_CHECK_S):
            if parent is not None and os.getppid() != parent:
                log.warning("background process %s: its server (pid %s) is gone; stopping", os.getpid(), parent)
                break
    finally:
        runner.stop()
        follower.stop()
        warm.disable()
        with contextlib.suppress(Exception):
            get_watch(app).close()
        log.info("background process %s stopped", os.getpid())
