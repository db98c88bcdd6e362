"""`make loadtest`: gunicorn with 4 workers, 60 seconds of mixed searches, page views and
edits from 16 clients on 127.0.0.1; then checks that no request failed with a 5xx, that
every acknowledged edit is in the database and in the index, and that search-check is clean.

Traffic goes to 127.0.0.1 only, and every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

from bench.client import CSRF_RE, AppClient

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load test password 1"
QUERIES = ["leadership", "porter", "A&E", "raising concerns", "whistelblowing", "patient safety", "GP",
           "team", '"social care"', "nurse -district", "lead*", "culture OR finance"]  # fmt: skip
VERSION_RE = re.compile(rb'name="version" value="(\d+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "app", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode not in (0,) and args[0] != "search-check":
        raise RuntimeError(f"flask {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout + result.stderr


class Worker(threading.Thread):
    def __init__(self, number: int, port: int, slug: str, deadline: float, stats: Counter, lock: threading.Lock):
        super().__init__(daemon=True)
        self.number, self.slug, self.deadline = number, slug, deadline
        self.stats, self.lock = stats, lock
        self.client = AppClient(port)
        self.acknowledged: str | None = None  # the last title the server confirmed saving
        self.random = random.Random(number)
        self.latencies: list[float] = []

    def _count(self, key: str) -> None:
        with self.lock:
            self.stats[key] += 1

    def _get(self, path: str) -> tuple[int, bytes]:
        started = time.perf_counter()
        status, body = self.client.get(path)
        self.latencies.append(time.perf_counter() - started)
        self._count(f"{status // 100}xx")
        return status, body

    def _edit(self) -> None:
        # The form's CSRF secret lives in the session cookie this page sets: keep it.
        started = time.perf_counter()
        status, page, cookies = self.client.request("GET", f"/curate/cases/{self.slug}/edit")
        self.latencies.append(time.perf_counter() - started)
        self._count(f"{status // 100}xx")
        self.client._keep_cookies(cookies)
        token, version = CSRF_RE.search(page), VERSION_RE.search(page)
        if status != 200 or token is None or version is None:
            self._count("edit-form-unreadable")
            return
        fields = self._form_fields(page)
        title = f"Loadtest {self.number} edit {self.random.randrange(10**9)} zqx{self.number}q"
        fields.update({"csrf_token": (token.group(1) or token.group(2)).decode(), "version": version.group(1).decode(),
                       "title": title, "action": "save"})  # fmt: skip
        started = time.perf_counter()
        status, answer, _ = self.client.request(
            "POST", f"/curate/cases/{self.slug}/edit", urlencode(fields, doseq=True).encode()
        )
        self.latencies.append(time.perf_counter() - started)
        self._count(f"{status // 100}xx")
        if status == 302:
            self.acknowledged = title
            self._count("edits-acknowledged")
        else:
            self._count(f"edit-{status}")
            if os.environ.get("LOADTEST_DEBUG"):
                print(status, re.findall(rb"<h1>.*?</h1>|<p>.*?</p>", answer)[:3])

    @staticmethod
    def _form_fields(page: bytes) -> dict[str, object]:
        text = page.decode("utf-8")
        fields: dict[str, object] = {}
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', text):
            if name not in ("q", "csrf_token"):
                fields[name] = html.unescape(value)
        for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', text, flags=re.S):
            fields[name] = html.unescape(value.lstrip("\n"))
        fields["dimensions"] = re.findall(r'name="dimensions"[^>]*value="([^"]+)"[^>]*checked', text)
        consent = re.search(r'name="consent"[^>]*value="([^"]+)"[^>]*checked', text)
        fields["consent"] = consent.group(1) if consent else "not-needed"
        return fields

    def run(self) -> None:
        self.client.login(f"load{self.number}@example.org", PASSWORD)
        while time.monotonic() < self.deadline:
            roll = self.random.random()
            try:
                if roll < 0.6:
                    self._get("/search?q=" + quote(self.random.choice(QUERIES)))
                elif roll < 0.85:
                    self._get(self.random.choice(["/", "/cases", f"/cases/{self.slug}", "/cases?seat=Porter"]))
                else:
                    self._edit()
            except OSError as exc:
                self._count(f"connection-error:{type(exc).__name__}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="every-seat-load-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'load.db'}", "SEARCH_INDEX_DIR": str(folder / "index"),
           "SECRET_KEY": "load-test-only", "EVERY_SEAT_ENV": "development"}  # fmt: skip
    server = None
    try:
        _flask(env, "init-db")
        _flask(env, "import", str(ROOT / "casestudies" / "sample"))
        for n in range(args.clients):
            _flask(env, "create-user", f"load{n}@example.org", "--role", "curator", stdin=PASSWORD + "\n")
        slugs = sorted(p.stem for p in (ROOT / "casestudies" / "sample").glob("*.md"))
        port = _free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
             "--timeout", "60", "app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "gunicorn.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        AppClient(port).wait_until_up(60)
        stats: Counter[str] = Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        workers = [Worker(n, port, slugs[n % len(slugs)], deadline, stats, lock) for n in range(args.clients)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(args.seconds + 120)
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    # Every acknowledged edit must be in the database and findable in the index.
    check = _flask(env, "search-check")
    lost = []
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    from app import create_app
    from casestudies.curation import get_case_for_curator
    from casestudies.library.services import search_cases
    from casestudies.models import Role, User

    app = create_app()
    with app.app_context():
        viewer = User(role=Role.CURATOR, email="x", name="x", password_hash="x")
        for worker in workers:
            if worker.acknowledged is None:
                continue
            case = get_case_for_curator(worker.slug)
            found = [i.case.slug for i in search_cases(viewer, f'"{worker.acknowledged}"', exact=True).items]
            if case.title != worker.acknowledged and not any(
                w.acknowledged == case.title for w in workers if w.slug == worker.slug
            ):
                lost.append(f"{worker.slug}: database has {case.title!r}, last acknowledged {worker.acknowledged!r}")
            elif case.title == worker.acknowledged and worker.slug not in found:
                lost.append(f"{worker.slug}: {worker.acknowledged!r} not found by search")
    latencies = sorted(t for w in workers for t in w.latencies)
    requests = len(latencies)
    print(f"Load test: {args.clients} clients, {args.workers} gunicorn workers, {elapsed:.0f} s on 127.0.0.1")
    print(f"  requests          {requests}  ({requests / elapsed:.1f}/s)")
    if latencies:
        p50, p95 = latencies[requests // 2] * 1000, latencies[int(requests * 0.95)] * 1000
        print(f"  latency p50/p95   {p50:.0f} / {p95:.0f} ms")
    for key in sorted(stats):
        print(f"  {key:<19} {stats[key]}")
    print(f"  {'lost edits':<19} {len(lost)}")
    for line in lost:
        print(f"    {line}")
    print(f"  {'search-check':<19} " + check.strip().splitlines()[-1])
    failed = stats["5xx"] or lost or "matches" not in check or any(k.startswith("connection-error") for k in stats)
    shutil.rmtree(folder, ignore_errors=True) if not failed else print(f"  kept for inspection: {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
