"""Cross-cutting web concerns: error pages, security headers, compression, static files,
template helpers."""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from cachetools import LRUCache
from flask import Flask, Request, abort, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.utils import cached_property
from werkzeug.wrappers import Response
from whitenoise import WhiteNoise

from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS
from casestudies.errors import NotFound, Refused
from casestudies.extensions import login_manager
from casestudies.models import Role
from casestudies.paging import page_numbers

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

ERROR_TITLES = {
    400: "There is a problem with your request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That could not be done",
    410: "This is no longer available",
    413: "The upload is too large",
    414: "The web address is too long",
    422: "That could not be done",
}
ERROR_MESSAGES = {
    414: "Go back and try a shorter search, or fewer filters.",
}
# The longest URL (path and query string, as sent) the app answers; longer ones get its own
# 414 page. gunicorn's own limit on the request line is lifted in the Makefile
# (--limit-request-line 0) so that such requests reach the app instead of its bare error.
MAX_URL_BYTES = 8 * 1024


def _error_page(code: int, message: str | None = None) -> tuple[str, int]:
    title = ERROR_TITLES.get(code, "Sorry, there is a problem with the service")
    message = message or ERROR_MESSAGES.get(code)
    return render_template("error.html", code=code, title=title, message=message), code


class AppRequest(Request):
    """Drops NUL characters from query and form values before any view sees them: they
    are never meaningful in this app, browsers can send them, and PostgreSQL refuses to
    store them (which would otherwise turn a typo into a 500)."""

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:
        return _without_nul(super().args)

    @cached_property
    def form(self) -> ImmutableMultiDict[str, str]:
        return _without_nul(super().form)


def _without_nul(values: ImmutableMultiDict[str, str]) -> ImmutableMultiDict[str, str]:
    if not any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
        return values
    return ImmutableMultiDict(
        (key.replace("\x00", ""), value.replace("\x00", "")) for key, value in values.items(multi=True)
    )


FRAGMENTS_KEPT = 2000  # rendered page fragments (a header is about 5 KB)
_fragments: LRUCache[tuple[Hashable, ...], Markup] = LRUCache(maxsize=FRAGMENTS_KEPT)
_fragments_lock = threading.Lock()


def cached_fragment(*key: Hashable, caller: Callable[[], Markup]) -> Markup:
    """`{% call cached_fragment(name, ...) %}...{% endcall %}`: the block's HTML, rendered
    once per key. The NHS.UK header macro took about a third of a page's rendering, for
    the same HTML on every page a person sees from one place in the menu. The key must
    name everything the block shows (the template says what)."""
    with _fragments_lock:  # cachetools' caches are not thread-safe
        found = _fragments.get(key)  # a hit counts as a use
        if found is not None:
            return found
    found = caller()  # already Markup: the block is rendered with autoescape on
    with _fragments_lock:
        _fragments[key] = found
    return found


def _url_bytes() -> int:
    """The length of the URL as the client sent it: path (percent-encoded) and query string."""
    path = len(quote(request.path.encode("utf-8"), safe="/"))
    return path + (len(request.query_string) + 1 if request.query_string else 0)


# Static files. The build (assets/build.mjs) writes a copy of each file under static/build/
# named with its content hash, listed in static-manifest.json, and .gz/.br copies of text
# files. url_for('static', filename='build/css/main.css') links to the hashed copy, which
# never changes and so is cached for a year; WhiteNoise serves it, compressed as the browser
# asks, before any of the app's request handling runs.
STATIC_MANIFEST = "build/static-manifest.json"
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
STATIC_MAX_AGE = 3600  # files without a hash in their name (favicons found by browsers, source maps)
GZIP_MIN_BYTES = 500  # smaller answers gain nothing from compression
GZIP_TYPES = ("text/html", "text/plain", "text/csv", "application/json")


def static_manifest(static_folder: str | None) -> dict[str, str]:
    """The build's map of file names under static/build/ to their content-hashed copies."""
    try:
        with open(f"{static_folder}/{STATIC_MANIFEST}", encoding="utf-8") as file:
            return dict(json.load(file))
    except (OSError, ValueError):
        return {}  # not built: url_for links to the plain names, which Flask serves


def init_static(app: Flask) -> None:
    manifest = static_manifest(app.static_folder)

    @app.url_defaults
    def _hashed_static_names(endpoint: str, values: dict[str, Any]) -> None:
        filename = values.get("filename")
        if endpoint == "static" and isinstance(filename, str) and filename.startswith("build/"):
            hashed = manifest.get(filename.removeprefix("build/"))
            if hashed:
                values["filename"] = "build/" + hashed

    label = app.config.get("SERVER_NAME_LABEL") or ""

    def _static_headers(headers: Any, _path: str, _url: str) -> None:
        headers["X-Content-Type-Options"] = "nosniff"
        if label:
            headers["X-Served-By"] = label

    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=app.static_folder,
        prefix=app.static_url_path,
        max_age=STATIC_MAX_AGE,
        allow_all_origins=False,
        immutable_file_test=lambda _path, url: bool(HASHED_NAME.search(url)),
        add_headers_function=_static_headers,
    )


def compress_response(response: Response) -> Response:
    """gzip a page (or other text answer) when the client accepts it."""
    vary = response.vary
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.mimetype not in GZIP_TYPES
        or request.method == "HEAD"
    ):
        return response
    vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0:
        return response
    data = response.get_data()
    if len(data) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def init_web(app: Flask) -> None:
    app.request_class = AppRequest
    init_static(app)

    def _refuse_long_urls() -> None:
        if _url_bytes() > MAX_URL_BYTES:
            abort(414)

    # First of all request checks: before sign-in's redirect, which would carry the URL along.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_long_urls)

    @app.errorhandler(401)
    def _unauthorised(_error: HTTPException) -> Response:
        return login_manager.unauthorized()

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[str, int]:
        return _error_page(
            400, "The form had expired or was sent from somewhere else. Go back, reload the page and try again."
        )

    # Services' errors that no view caught: the request's changes are rolled back by
    # database.commit_request, as for every error answer.
    @app.errorhandler(NotFound)
    def _not_found(_error: NotFound) -> tuple[str, int]:
        return _error_page(404)

    @app.errorhandler(Refused)
    def _refused(error: Refused) -> tuple[str, int]:
        return _error_page(error.status, str(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        return _error_page(error.code)

    @app.errorhandler(500)
    def _server_error(_error: Exception) -> tuple[str, int]:
        return _error_page(500, "Try again later. Nothing you saved before this page has been lost.")

    production = app.config["EVERY_SEAT_ENV"] == "production"
    content_security_policy = CONTENT_SECURITY_POLICY
    if app.config.get("OIDC_ISSUER"):
        # The single sign-on button's form redirects to the provider: browsers apply
        # form-action to that redirect too.
        issuer = urlsplit(app.config["OIDC_ISSUER"])
        content_security_policy = content_security_policy.replace(
            "form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}"
        )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if production:
            # Served over HTTPS only (behind the proxy): browsers remember it for two years.
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config.get("SERVER_NAME_LABEL"):
            response.headers["X-Served-By"] = app.config["SERVER_NAME_LABEL"]
        return compress_response(response)

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        def url_with(args: dict[str, str], **changes: Any) -> str:
            merged = {**args, **{k: v for k, v in changes.items() if v is not None}}
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
            return request.path + ("?" + urlencode(merged) if merged else "")

        return {
            "Role": Role,
            "LEADERSHIP_DIMENSIONS": LEADERSHIP_DIMENSIONS,
            "url_with": url_with,
            "page_numbers": page_numbers,
            "cached_fragment": cached_fragment,
        }
