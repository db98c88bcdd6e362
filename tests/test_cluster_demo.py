"""`make cluster-demo` (deploy/cluster-demo.sh): two servers, one PostgreSQL database, nginx
in front. Started in the background as a newcomer would, used through nginx, stopped as
with Ctrl+C. Needs Debian's nginx and postgresql (`.ci/run` installs them): without them
this test fails, saying what to install."""

from __future__ import annotations

import glob
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, with_default_signals

pytestmark = pytest.mark.slow

READY_WITHIN_S = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _require_packages() -> None:
    missing = []
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        missing.append("nginx")
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        missing.append("postgresql")
    if missing:
        pytest.fail(
            f"the cluster demo needs Debian's {' and '.join(missing)}: "
            f"apt-get install -y {' '.join(missing)} (.ci/run does)",
            pytrace=False,
        )
    if os.geteuid() != 0 and not shutil.which("sudo"):
        pytest.fail("the cluster demo sets up PostgreSQL as its postgres user: run as root or with sudo", pytrace=False)


class Demo:
    def __init__(self, tmp_path: Path) -> None:
        self.nginx_port, self.port_a, self.port_b = _free_port(), _free_port(), _free_port()
        env = {
            **os.environ,
            "NGINX_PORT": str(self.nginx_port),
            "PORT_A": str(self.port_a),
            "PORT_B": str(self.port_b),
            "DEMO_DIR": str(tmp_path / "demo"),
            "DEMO_DATABASE": "every_seat_demo_test",
        }
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            with_default_signals(["bash", str(ROOT / "deploy" / "cluster-demo.sh"), "--fresh"]),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN_S
        while time.monotonic() < deadline:
            if any("cluster-demo: ready:" in line for line in self.lines):
                return
            if self.process.poll() is not None:
                self.reader.join(5)
                pytest.fail(f"the demo stopped before it was ready:\n{self.output}", pytrace=False)
            time.sleep(0.5)
        pytest.fail(f"the demo was not ready within {READY_WITHIN_S} s:\n{self.output}", pytrace=False)

    def password(self, role: str) -> str:
        for line in self.lines:
            match = re.match(rf"\s+{role}\s+(\S+@\S+)\s+(\S+)$", line)
            if match:
                return match.group(2)
        raise AssertionError(f"no sign-in printed for {role}:\n{self.output}")

    def interrupt(self) -> int:
        """What Ctrl+C does: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def test_two_servers_behind_nginx_share_sessions_and_search(tmp_path: Path) -> None:
    _require_packages()
    demo = Demo(tmp_path)
    try:
        demo.wait_until_ready()
        base = f"http://127.0.0.1:{demo.nginx_port}"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        # Sign in through nginx, like a browser: the form's CSRF token, then the POST.
        page = browser.open(f"{base}/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, page
        form = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "email": "learner@every-seat.example", "password": demo.password("learner")}
        ).encode()
        home = browser.open(f"{base}/login", data=form, timeout=30)
        assert urllib.parse.urlsplit(home.url).path == "/", home.url
        assert "Sign out" in home.read().decode()

        # Search, again and again: both servers answer, each accepting the other's session
        # and each with its own index of the one database's cases (nothing is edited).
        served_by = []
        for _ in range(12):
            response = browser.open(f"{base}/search?q=nurse", timeout=30)
            body = response.read().decode()
            assert urllib.parse.urlsplit(response.url).path == "/search", "signed out by a server"
            assert response.headers["Cache-Control"] == "no-store"
            assert "app-case-list__item" in body, body[-2000:]
            served_by.append(response.headers["X-Served-By"])
        assert set(served_by) == {"a", "b"}, served_by

        # PDFs are jobs: each server runs a job runner on the shared job table; every PDF
        # asked for through nginx is made once and then served by either server.
        slugs = list(dict.fromkeys(re.findall(r'href="/cases/([a-z0-9-]+)"', body)))[:6]
        assert len(slugs) >= 4, body[-2000:]
        for slug in slugs:
            first = browser.open(f"{base}/cases/{slug}/pdf", timeout=30)
            assert first.headers["Content-Type"].startswith("text/html") and b"data-app-job-status" in first.read()
        deadline = time.monotonic() + 240
        for slug in slugs:
            while True:
                answer = browser.open(f"{base}/cases/{slug}/pdf", timeout=30)
                if answer.headers["Content-Type"] == "application/pdf":
                    assert answer.read().startswith(b"%PDF")
                    break
                assert time.monotonic() < deadline, f"{slug}: no PDF yet"
                time.sleep(1)
        leads = set(re.findall(r"job runner ([ab]):\S+ leads", demo.output))
        assert leads == {"a", "b"}, demo.output[-3000:]
        finished = re.findall(r"job (\d+): finished \(runner ([ab]):", demo.output)
        assert sorted(int(job) for job, _ in finished) == list(range(1, len(slugs) + 1)), finished

        # Pages compressed, static files long-lived and precompressed, through nginx.
        request = urllib.request.Request(f"{base}/search?q=nurse", headers={"Accept-Encoding": "gzip"})
        assert browser.open(request, timeout=30).headers["Content-Encoding"] == "gzip"
        css = re.search(r'href="(/static/build/css/main\.[0-9a-f]{12}\.css)"', body)
        assert css, body[:2000]
        request = urllib.request.Request(base + css.group(1), headers={"Accept-Encoding": "br, gzip"})
        response = browser.open(request, timeout=30)
        assert response.headers["Content-Encoding"] == "br"
        assert "immutable" in response.headers["Cache-Control"]

        # Ctrl+C stops the servers and nginx.
        demo.interrupt()
        demo.reader.join(10)
        assert "cluster-demo: stopped" in demo.output, demo.output
        for port in (demo.nginx_port, demo.port_a, demo.port_b):
            assert not _listening(port), port
    finally:
        demo.kill()
