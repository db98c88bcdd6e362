"""gunicorn's arbiter keeps one background process (process.py) beside its web workers.

gunicorn.conf.py's `when_ready` starts it and `on_exit` stops it, so one command (`make
run`, each server of `make cluster-demo`) still serves everything. A thread in the arbiter
waits for the process and starts another when it dies (`kill -9` included), after a pause
that grows while it keeps dying at once. The process runs in its own session, so a Ctrl+C
meant for the server reaches it only through the arbiter's stop; it also stops by itself
when the arbiter is gone (`--parent`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESTART_PAUSE_S = 1.0
RESTART_PAUSE_MAX_S = 30.0
STEADY_S = 30.0  # a process that lived this long starts the pauses over
STOP_WAIT_S = 20.0


class Supervisor:
    def __init__(self, app_uri: str, log: Any) -> None:
        self.app_uri = app_uri
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()  # no new process once stop() has begun
        self.restarts = 0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "casestudies.background", "--app", self.app_uri, "--parent", str(os.getpid())]

    def _spawn(self) -> subprocess.Popen[bytes]:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
        process = subprocess.Popen(self.command(), env={**os.environ, "PYTHONPATH": path}, start_new_session=True)
        self.log.info("Started the background process (pid: %s)", process.pid)
        return process

    def start(self) -> None:
        self.process = self._spawn()
        self._thread = threading.Thread(target=self._keep, name="background-supervisor", daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        pause = RESTART_PAUSE_S / 2
        while not self._stopping.is_set():
            process = self.process
            assert process is not None  # noqa: S101 - set by start() before this thread
            started = time.monotonic()
            # The arbiter reaps every child (waitpid(-1)), so the status may be lost: wait()
            # then reports 0. Either way the process has ended.
            process.wait()
            if self._stopping.is_set():
                return
            pause = RESTART_PAUSE_S if time.monotonic() - started > STEADY_S else min(pause * 2, RESTART_PAUSE_MAX_S)
            self.log.warning("The background process (pid: %s) ended; starting another in %.0f s", process.pid, pause)
            if self._stopping.wait(pause):
                return
            with self._mutex:
                if self._stopping.is_set():
                    return
                self.process = self._spawn()
                self.restarts += 1

    def restart(self) -> None:
        """A new process with the code and settings as they are now (gunicorn's reload)."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()  # the supervising thread starts the next one

    def stop(self) -> None:
        with self._mutex:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        self.log.info("Stopped the background process (pid: %s)", process.pid)
