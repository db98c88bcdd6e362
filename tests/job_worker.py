"""A job runner in a process of its own, as `flask jobs work` runs one, with a test job
kind: `python -m tests.job_worker DATABASE_URL SERVER_DIR LABEL`. Jobs of kind
"test_record" append "start|end <job id> <label>" lines to payload["log"] (sleeping
payload["seconds"] between); "test_fail" raises. Stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from app import create_app
from casestudies.jobs import get_runner, handler


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as log:  # one write of one line: atomic with O_APPEND
        log.write(line + "\n")


def register(label: str) -> None:
    @handler("test_record", max_attempts=5)
    def record(job, payload):
        _append(payload["log"], f"start {job.id} {label}")
        time.sleep(float(payload.get("seconds", 0)))
        _append(payload["log"], f"end {job.id} {label}")
        return None


def main() -> None:
    database_url, server_dir, label = sys.argv[1:4]
    server = Path(server_dir)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SEARCH_INDEX_DIR": str(server / "index"),
            "JOBS_DIR": str(server / "jobs"),
            "SECRET_KEY": "test-secret",
            "REFLECTION_KEYS": os.environ["TEST_REFLECTION_KEY"],
            "SERVER_NAME_LABEL": label,
            "JOB_LEASE_SECONDS": float(os.environ.get("JOB_LEASE_SECONDS", "2")),
            "JOB_POLL_SECONDS": 0.05,
            "JOB_THREADS": int(os.environ.get("JOB_THREADS", "2")),
        }
    )
    register(label)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    runner = get_runner(app)
    runner.start()
    print("ready", flush=True)
    stopped.wait()
    runner.stop()


if __name__ == "__main__":
    main()
