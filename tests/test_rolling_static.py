"""A rolling upgrade behind deploy/nginx-every-seat.conf: while one server has the new
build and the other the old, a page from either can name static files by hashes only its
own server has. nginx tries a 404 under /static/build/ on the other server, so both
versions' files are found. Runs Debian's nginx in front of two plain file servers."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _file_server(folder: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def two_versions_behind_nginx(tmp_path: Path) -> Iterator[str]:
    if not os.access(NGINX, os.X_OK):
        pytest.fail("needs Debian's nginx: apt-get install -y nginx (.ci/run does)", pytrace=False)
    servers = []
    for version in ("old", "new"):
        build = tmp_path / version / "static" / "build" / "css"
        build.mkdir(parents=True)
        (build / f"main.{version}.css").write_text(f"/* {version} */")
        if version == "old":
            (tmp_path / version / "page").write_text(version)
        servers.append(_file_server(tmp_path / version))
    nginx_port = _free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    site = (ROOT / "deploy" / "nginx-every-seat.conf").read_text()
    site = site.replace("127.0.0.1:5001", f"127.0.0.1:{servers[0].server_port}")
    site = site.replace("127.0.0.1:5002", f"127.0.0.1:{servers[1].server_port}")
    site = site.replace("listen 127.0.0.1:8080", f"listen 127.0.0.1:{nginx_port}")
    temp_kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temps = "".join(f"{kind}_temp_path {prefix / kind};\n" for kind in temp_kinds)
    user = "user www-data;\n" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    config.write_text(
        f"worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n{user}"
        f"events {{ worker_connections 64; }}\nhttp {{\naccess_log off;\n{temps}{site}\n}}\n"
    )
    nginx = subprocess.Popen(
        [NGINX, "-e", str(prefix / "error.log"), "-c", str(config), "-p", str(prefix), "-g", "daemon off;"]
    )
    base = f"http://127.0.0.1:{nginx_port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", nginx_port), timeout=0.2).close()
                break
            except OSError:
                assert nginx.poll() is None, (prefix / "error.log").read_text()
                time.sleep(0.05)
        yield base
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for server in servers:
            server.shutdown()


def test_both_versions_static_files_are_found_during_a_rolling_upgrade(two_versions_behind_nginx: str) -> None:
    base = two_versions_behind_nginx
    # Round robin sends every other request to the server without the file.
    for version in ("old", "new"):
        statuses = [_get(f"{base}/static/build/css/main.{version}.css") for _ in range(6)]
        assert statuses == [200] * 6, (version, statuses)
    # A file no server has is still a 404; outside /static/build/ a 404 is the answer
    # (the app's own "not found" page), not tried on the other server.
    assert _get(f"{base}/static/build/css/main.gone.css") == 404
    assert sorted({_get(f"{base}/page") for _ in range(4)}) == [200, 404]
