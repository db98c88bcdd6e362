"""A warm PDF renderer: one child process started ahead of time, waiting for its job.

A new `python -m casestudies.guides.pdf_worker` spends seconds importing WeasyPrint and
parsing the site stylesheet before it can render anything. The background process
(casestudies/background/process.py) therefore keeps one child that has done both and
blocks on its standard input; a render hands it the page and, once it is done (or killed
for running past its budget), starts the next one. A child serves one render only, so a
render never inherits another's state. Renders that overlap (RENDER_CONCURRENCY above 1)
find no warm child and start one as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]


def worker_command(static_dir: Path) -> list[str]:
    return [sys.executable, "-m", "casestudies.guides.pdf_worker", str(static_dir.resolve())]


def spawn(static_dir: Path) -> subprocess.Popen[bytes]:
    """A renderer child: it prepares (imports, stylesheet), then waits for its job on stdin."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        worker_command(static_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
        cwd=ROOT,
    )


class WarmRenderer:
    def __init__(self, static_dir: Path) -> None:
        self.static_dir = static_dir
        self._mutex = threading.Lock()
        self._ready: subprocess.Popen[bytes] | None = None
        self._closed = False

    def take(self) -> tuple[subprocess.Popen[bytes], bool]:
        """A child for one render and whether it was warm (started ahead of time)."""
        with self._mutex:
            ready, self._ready = self._ready, None
        if ready is not None and ready.poll() is None:
            return ready, True
        return spawn(self.static_dir), False

    def refill(self) -> None:
        """Start the next warm child (after a render, or at start)."""
        with self._mutex:
            if self._closed or (self._ready is not None and self._ready.poll() is None):
                return
            self._ready = spawn(self.static_dir)

    @property
    def ready_pid(self) -> int | None:
        with self._mutex:
            return self._ready.pid if self._ready is not None else None

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            ready, self._ready = self._ready, None
        if ready is not None:
            with contextlib.suppress(OSError):
                ready.kill()
            ready.wait(5)


_renderer: WarmRenderer | None = None


def enable(static_dir: Path) -> WarmRenderer:
    """Keep a warm child in this process from now on (the background process)."""
    global _renderer
    if _renderer is None:
        _renderer = WarmRenderer(static_dir)
        _renderer.refill()
        log.info("warm PDF renderer ready (pid %s)", _renderer.ready_pid)
    return _renderer


def disable() -> None:
    global _renderer
    renderer, _renderer = _renderer, None
    if renderer is not None:
        renderer.close()


def current() -> WarmRenderer | None:
    return _renderer
