"""Printing a guide (or a case): the editions' file names, and its print view's HTML made
into a tagged PDF by WeasyPrint. This is all the PDF worker (guides/pdf_worker.py) imports:
no database, no Flask, no guide rules.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from casestudies.slugs import slugify

if TYPE_CHECKING:
    from casestudies.models import Guide

# URL value -> (file-name part, heading)
EDITIONS: dict[str, tuple[str, str]] = {
    "participant": ("participant-handout", "Participant handout"),
    "facilitator": ("facilitator-edition", "Facilitator edition"),
}


FILENAME_TITLE_MAX = 80  # characters of the title's slug in a download's name


def title_for_filename(title: str, limit: int = FILENAME_TITLE_MAX) -> str:
    """The whole title as a slug; past `limit` characters, cut at the last word that fits."""
    slug = slugify(title, max_length=len(title) * 4 + 1)
    if len(slug) <= limit:
        return slug
    cut = slug[: limit + 1].rsplit("-", 1)[0] if "-" in slug[: limit + 1] else slug[:limit]
    return cut.rstrip("-")


def edition_filename(guide: Guide, edition: str) -> str:
    """E.g. "quality-improvement-afternoon-participant-handout.pdf"."""
    part, _ = EDITIONS[edition]
    return f"{title_for_filename(guide.title) or 'guide'}-{part}.pdf"


def _static_fetcher(base_url: str, static_dir: Path):
    """A WeasyPrint URL fetcher that serves the app's own static files and nothing else:
    no network, no other file. data: URLs are decoded in memory."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    prefix = base_url.rstrip("/") + "/static/"
    root = static_dir.resolve()

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = urlsplit(url).path
            if not url.startswith(prefix) or ".." in path.split("/"):
                raise ValueError(f"not one of the app's static files: {url[:200]}")
            file = (root / path.removeprefix("/static/")).resolve()
            if not file.is_relative_to(root) or not file.is_file():
                raise ValueError(f"no such static file: {url[:200]}")
            mime = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(file.suffix, "")
            return URLFetcherResponse(url, file.read_bytes(), {"Content-Type": mime} if mime else {})

    return StaticOnlyFetcher(allowed_protocols={"data"})


# The site stylesheet, parsed once per process (and again when the build changes it):
# parsing it is most of the cost of a PDF. Its url()s resolve against a fixed internal
# address, so the parsed sheet does not depend on the request's Host.
_stylesheets: dict[int, object] = {}
_stylesheets_lock = threading.Lock()
STYLESHEET = "build/css/main.css"
STYLESHEET_BASE = "https://every-seat.invalid/"


def _stylesheet(static_dir: Path):
    from weasyprint import CSS

    path = static_dir / STYLESHEET
    key = path.stat().st_mtime_ns
    with _stylesheets_lock:
        if key not in _stylesheets:
            _stylesheets.clear()
            # nhsuk-frontend's screen media queries and newer properties are unknown to
            # WeasyPrint, which would log a warning for each; they are expected, so quiet.
            logger = logging.getLogger("weasyprint")
            level = logger.level
            logger.setLevel(logging.ERROR)
            try:
                _stylesheets[key] = CSS(
                    string=path.read_text("utf-8"),
                    base_url=STYLESHEET_BASE + "static/" + STYLESHEET,
                    url_fetcher=_static_fetcher(STYLESHEET_BASE, static_dir),
                )
            finally:
                logger.setLevel(level)
        return _stylesheets[key]


def render_pdf(html: str, *, base_url: str, static_dir: Path) -> bytes:
    """The print view's HTML as a PDF. The HTML is the print view rendered with
    `for_pdf=True`, which leaves out the link to the site stylesheet: it is applied here,
    parsed once. Nothing outside the app's static folder is ever fetched."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url, url_fetcher=_static_fetcher(base_url, static_dir))
    # pdf/ua-1: a tagged PDF (structure tree, MarkInfo) whose viewers show the <title>.
    return document.write_pdf(stylesheets=[_stylesheet(static_dir)], pdf_variant="pdf/ua-1")
