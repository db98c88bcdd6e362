"""A minimal signed-in HTTP client for the app on 127.0.0.1 (http.client, no dependencies)."""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urlencode

CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
TIMEOUT_S = 60.0


class AppClient:
    """Holds the session cookie; safe to share between threads once signed in (each
    request opens its own connection: gunicorn's sync workers close them anyway)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, list[str]]:
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "every-seat-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, data, response.headers.get_all("Set-Cookie") or []
        finally:
            connection.close()

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, path: str) -> tuple[int, bytes]:
        status, data, _ = self.request("GET", path)
        return status, data

    def login(self, email: str, password: str) -> None:
        status, page, cookies = self.request("GET", "/login")
        self._keep_cookies(cookies)
        match = CSRF_RE.search(page)
        if status != 200 or match is None:
            raise RuntimeError(f"GET /login gave {status} without a CSRF token")
        token = (match.group(1) or match.group(2)).decode()
        form = urlencode({"csrf_token": token, "email": email, "password": password, "next": ""}).encode()
        status, _, cookies = self.request("POST", "/login", form)
        self._keep_cookies(cookies)
        if status != 302:
            raise RuntimeError(f"signing in failed: POST /login gave {status}")

    def wait_until_up(self, deadline_s: float, path: str = "/login") -> None:
        end = time.monotonic() + deadline_s
        while True:
            try:
                if self.get(path)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > end:
                raise RuntimeError(f"the app did not answer on port {self.port} within {deadline_s:.0f} s")
            time.sleep(0.2)
