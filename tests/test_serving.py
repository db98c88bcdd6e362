"""Serving well: long-lived, content-hashed, precompressed static files; compressed pages;
a stylesheet of only what the pages use; no script that blocks rendering in <head>."""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, ROOT, app_context_for, make_test_app

BUILD = ROOT / "static" / "build"
YEAR = 365 * 24 * 3600


def _signed_in(app: Flask, role: str = "curator") -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD})
    assert response.status_code == 302
    return client


def _static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def _max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else 0


def test_the_build_lists_a_hashed_copy_of_every_file() -> None:
    manifest = json.loads((BUILD / "static-manifest.json").read_text())
    for name in ("css/main.css", "js/app.js", "js/supported.js", "js/nhsuk-frontend.min.js"):
        hashed = manifest[name]
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", hashed), hashed
        assert (BUILD / hashed).read_bytes() == (BUILD / name).read_bytes()
    # app.js imports every module by its hashed name, so a new one is never mixed with an old app.js
    app_js = (BUILD / manifest["js/app.js"]).read_text()
    imports = re.findall(r"""from\s+['"]\./([^'"]+)['"]""", app_js)
    assert len(imports) == 4 and Path(manifest["js/nhsuk-frontend.min.js"]).name in imports, imports
    for name in imports:
        assert re.search(r"\.[0-9a-f]{12}\.js$", name), f"app.js imports {name} by a name without its hash"
        assert (BUILD / "js" / name).exists(), name
    # the stylesheet's images are the hashed copies too
    for url in re.findall(r"url\(\"?(/static/build/assets/[^\")]+)", (BUILD / "css" / "main.css").read_text()):
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url) and (ROOT / url.lstrip("/")).exists(), url


def test_pages_link_static_files_by_content_hash_with_long_cache(sample_app: Flask) -> None:
    client = _signed_in(sample_app)
    html = client.get("/").get_data(as_text=True)
    links = _static_links(html)
    assert any(re.search(r"/css/main\.[0-9a-f]{12}\.css$", link) for link in links), links
    assert any(re.search(r"/js/app\.[0-9a-f]{12}\.js$", link) for link in links), links
    # the bundle app.js imports is preloaded by the very name app.js imports it by
    bundle = json.loads((BUILD / "static-manifest.json").read_text())["js/nhsuk-frontend.min.js"]
    assert f'<link rel="modulepreload" href="/static/build/{bundle}">' in html
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        cache = response.headers["Cache-Control"]
        assert "public" in cache and _max_age(cache) >= YEAR and "immutable" in cache, (link, cache)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


@pytest.mark.parametrize(("accept", "encoding"), [("gzip", "gzip"), ("gzip, deflate, br", "br"), ("", None)])
def test_static_files_are_sent_precompressed_when_asked(sample_app: Flask, accept: str, encoding: str | None) -> None:
    client = sample_app.test_client()
    link = next(x for x in _static_links(client.get("/login").get_data(as_text=True)) if x.endswith(".css"))
    response = client.get(link, headers={"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    body = response.get_data()
    if encoding == "gzip":
        body = gzip.decompress(body)
    if encoding != "br":
        assert body == (ROOT / link.lstrip("/")).read_bytes()
    response.close()


def test_static_files_without_a_hash_are_still_cached_publicly(sample_app: Flask) -> None:
    response = sample_app.test_client().get("/static/build/css/main.css")
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert "public" in cache and 0 < _max_age(cache) < YEAR and "immutable" not in cache
    response.close()


def test_pages_are_gzipped_when_the_client_accepts_it(sample_app: Flask) -> None:
    client = _signed_in(sample_app)
    plain = client.get("/cases")
    assert plain.headers.get("Content-Encoding") is None
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/cases", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.status_code == 200 and zipped.mimetype == "text/html"
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data) / 3
    # the same page, but for the CSRF token in the sign-out form
    assert len(gzip.decompress(zipped.data)) == len(plain.data)
    # the login page (anonymous) and an error page too
    anonymous = sample_app.test_client()
    assert anonymous.get("/login", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    missing = client.get("/no-such-page", headers={"Accept-Encoding": "gzip"})
    assert missing.status_code == 404 and missing.headers["Content-Encoding"] == "gzip"


def test_a_refused_encoding_is_respected(sample_app: Flask) -> None:
    response = sample_app.test_client().get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert response.headers.get("Content-Encoding") is None
    assert "<html" in response.get_data(as_text=True)


# The budget for the built main.css: about 1.25 times its size when it was last cut down.
# If a change to the templates or Sass needs more, check with `make lighthouse` that the
# pages are still fast, then raise the budget here (say so in the commit message).
MAIN_CSS_BUDGET_BYTES = 163_500
MAIN_CSS_BUDGET_GZIP_BYTES = 20_400


def test_main_css_stays_within_its_budget() -> None:
    css = (BUILD / "css" / "main.css").read_bytes()
    how = "see MAIN_CSS_BUDGET_BYTES in tests/test_serving.py for how to update the budget"
    # All of nhsuk-frontend is about 295 KB (31 KB gzipped); this app uses a part of it.
    assert len(css) <= MAIN_CSS_BUDGET_BYTES, f"main.css is {len(css)} bytes; {how}"
    gzipped = len(gzip.compress(css, 9))
    assert gzipped <= MAIN_CSS_BUDGET_GZIP_BYTES, f"main.css is {gzipped} bytes gzipped; {how}"
    assert len((BUILD / "css" / "main.css.br").read_bytes()) < gzipped


class _HeadScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.blocking: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
        elif tag == "script" and self.in_head:
            found = dict(attrs)
            if not ({"defer", "async"} & found.keys()) and found.get("type") != "module":
                self.blocking.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False


@pytest.mark.parametrize("path", ["/login", "/", "/cases", "/search?q=nurse", "/curate/"])
def test_no_script_in_head_blocks_rendering(sample_app: Flask, path: str) -> None:
    client = sample_app.test_client() if path == "/login" else _signed_in(sample_app)
    parser = _HeadScripts()
    parser.feed(client.get(path).get_data(as_text=True))
    assert parser.blocking == []


FULL_CSS = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk" / "nhsuk-frontend.css"


def _split_selector_list(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _selectors(css: str) -> dict[str, frozenset[str]]:
    """Each selector of a style sheet (whitespace normalised), with the nhsuk- classes an
    element must have for it to match (those inside :not() do not count)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found: dict[str, frozenset[str]] = {}
    for prelude in re.findall(r"([^{};]+)\{", css):
        prelude = prelude.strip()
        if prelude.startswith("@") or re.fullmatch(r"[\d.]+%|from|to", prelude):
            continue
        for selector in _split_selector_list(prelude):
            selector = re.sub(r"\s*([>+~])\s*", r"\1", " ".join(selector.split()))
            positive = re.sub(r":not\((?:[^()]|\([^()]*\))*\)", "", selector)
            found[selector] = frozenset(re.findall(r"\.(nhsuk-[\w-]+)", positive))
    return found


def _page_kind(path: str) -> str:
    """One page of each kind is enough: /cases/a-slug and /cases/another-slug are alike."""
    path = path.split("?")[0]
    path = re.sub(r"/\d+", "/N", path)
    return re.sub(r"^/cases/[a-z0-9-]+", "/cases/S", path)


@pytest.mark.parametrize("role", ["learner", "facilitator", "admin"])
def test_every_nhsuk_class_on_a_page_keeps_its_styles(sample_app: Flask, role: str) -> None:
    """The build drops the rules no page can use (assets/purge.mjs): none a page shows.
    Visits one page of each kind reachable by links from the start pages, and forms sent
    back with errors. A class listed here as lost needs a line in
    assets/scss/macro-modifiers.txt (or a name in a template)."""
    full = _selectors(FULL_CSS.read_text())
    ours = _selectors((BUILD / "css" / "main.css").read_text())
    client = _signed_in(sample_app, role)
    if role != "learner":  # a guide with a case in it, for the builder
        slug = re.findall(r'href="/cases/([a-z0-9-]+)"', client.get("/cases").get_data(as_text=True))[0]
        case_id = re.search(r'name="case" value="(\d+)"', client.get(f"/cases/{slug}").get_data(as_text=True))
        client.post("/guides/new", data={"title": f"Styles {role}", "case_id": case_id.group(1) if case_id else ""})
    start = ["/", "/cases", "/search?q=nurse", "/search?q=zzzzqqqq", "/search?q=team&page=2", "/guides/"]
    start += ["/curate/", "/admin/users", "/no-such-page"]
    skip = re.compile(r"^/static/|/pdf/|/export|/logout|/print/")
    bodies: dict[str, str] = {}
    kinds: set[str] = set()
    queue = list(start)
    while queue and len(bodies) < 80:
        path = queue.pop(0)
        if _page_kind(path) in kinds:
            continue
        kinds.add(_page_kind(path))
        response = client.get(path)
        if response.mimetype != "text/html":
            continue
        bodies[path] = response.get_data(as_text=True)
        for link in re.findall(r'href="(/[^"#]*)"', bodies[path]):
            link = link.replace("&amp;", "&")
            if not skip.search(link) and _page_kind(link) not in kinds:
                queue.append(link)
    assert len(bodies) >= {"learner": 10, "facilitator": 15, "admin": 30}[role], sorted(bodies)
    if role == "admin":  # refused forms: the error summary and error messages
        bodies["POST /curate/cases/new"] = client.post("/curate/cases/new", data={"title": ""}).get_data(as_text=True)
        assert "nhsuk-error-summary" in bodies["POST /curate/cases/new"]
    if role == "facilitator":
        bodies["POST /guides/new"] = client.post("/guides/new", data={"title": ""}).get_data(as_text=True)
        assert "nhsuk-error-message" in bodies["POST /guides/new"]
    missing: dict[str, set[str]] = {}
    for path, body in bodies.items():
        on_page = {c for attr in re.findall(r'class="([^"]*)"', body) for c in attr.split() if c.startswith("nhsuk-")}
        # nhsuk-frontend's selectors that can match on this page, as far as classes go
        applicable = {sel for sel, classes in full.items() if classes and classes <= on_page}
        lost = applicable - ours.keys()
        if lost:
            missing[path] = lost
    assert missing == {}


def test_the_responding_server_names_itself_when_configured(tmp_path: Path, migrated_db_template: Path) -> None:
    app = make_test_app(tmp_path, migrated_db_template, SERVER_NAME_LABEL="server-a")
    with app_context_for(app):
        client = app.test_client()
        assert client.get("/login").headers["X-Served-By"] == "server-a"
        css = next(x for x in _static_links(client.get("/login").get_data(as_text=True)) if x.endswith(".css"))
        response = client.get(css)
        assert response.headers["X-Served-By"] == "server-a"
        response.close()


def test_no_server_name_by_default(sample_app: Flask) -> None:
    assert "X-Served-By" not in sample_app.test_client().get("/login").headers
