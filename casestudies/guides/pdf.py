"""PDFs within a time budget: every guide or case PDF is rendered by WeasyPrint in a child
process that is killed when it runs past PDF_RENDER_SECONDS, so a huge document is refused
with a message instead of holding a web worker until gunicorn kills it. Rendered PDFs are
kept on disk, keyed by a hash of what they are made from, so asking again costs nothing.

The child is `python -m casestudies.guides.pdf_worker`: the job and its HTML on stdin, the
PDF on stdout; the background process keeps one started ahead of time (guides/warm.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from casestudies.errors import Refused
from casestudies.guides import warm
from casestudies.guides.render import STYLESHEET

# Above this much HTML a PDF is not even tried: it could not finish within the budget.
HTML_MAX_CHARS = 3_000_000
CACHE_MAX_FILES = 500  # the least recently written PDFs beyond this are removed
PDF_VARIANT = "pdf/ua-1"  # tagged: a structure tree, the title shown by viewers


class PdfRefused(Refused):
    """The PDF can't be made within the budget; the message is for the user (422: work
    refused on its size; the guides blueprint answers it with its own page)."""

    status = 422


REFUSAL = (
    "This document is too large to make into a PDF in time. Use the print view and your "
    "browser’s Print command instead, or shorten the guide (fewer cases or shorter texts)."
)


def _key(html: str, static_dir: Path) -> str:
    stylesheet = (static_dir / STYLESHEET).stat()
    digest = hashlib.sha256()
    for part in (PDF_VARIANT, str(stylesheet.st_mtime_ns), str(stylesheet.st_size), html):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def content_key(html: str, static_dir: Path) -> str:
    """The cache key of a print view's PDF: its HTML, the stylesheet and the PDF variant."""
    return _key(html, static_dir)


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.pdf"


def read_cached(cache_dir: Path, key: str) -> bytes | None:
    cached = cache_path(cache_dir, key)
    try:
        return cached.read_bytes() if cached.is_file() else None
    except FileNotFoundError:  # removed by another worker's trim meanwhile
        return None


def store_cached(cache_dir: Path, key: str, pdf: bytes) -> None:
    cached = cache_path(cache_dir, key)
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed: a reader never sees half a file.
    with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False, suffix=".part") as handle:
        handle.write(pdf)
    os.replace(handle.name, cached)
    trim_cache(cache_dir)


def render_in_child(html: str, *, base_url: str, static_dir: Path, seconds: float) -> bytes:
    """The PDF made by a child process given `seconds`; PdfRefused when too large or slow.
    The child is the warm one if this process keeps one (casestudies/guides/warm.py)."""
    if len(html) > HTML_MAX_CHARS:
        raise PdfRefused(REFUSAL)
    renderer = warm.current()
    child = renderer.take()[0] if renderer is not None else warm.spawn(static_dir)
    job = json.dumps({"base_url": base_url, "static_dir": str(static_dir.resolve())}).encode("utf-8")
    try:
        stdout, stderr = child.communicate(job + b"\n" + html.encode("utf-8"), timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise PdfRefused(REFUSAL) from None
    finally:
        if renderer is not None:
            renderer.refill()  # the next render's child, warm by the time it comes
    if child.returncode != 0 or not stdout.startswith(b"%PDF"):
        raise RuntimeError(f"the PDF renderer failed: {stderr.decode('utf-8', 'replace')[-2000:]}")
    return stdout


def render_within_budget(html: str, *, base_url: str, static_dir: Path, cache_dir: Path, seconds: float) -> bytes:
    """The PDF of a print view's HTML (rendered with for_pdf=True), from the cache or from a
    child process given `seconds`; PdfRefused when it is too large or too slow."""
    if len(html) > HTML_MAX_CHARS:
        raise PdfRefused(REFUSAL)
    key = _key(html, static_dir)
    cached = read_cached(cache_dir, key)
    if cached is not None:
        return cached
    pdf = render_in_child(html, base_url=base_url, static_dir=static_dir, seconds=seconds)
    store_cached(cache_dir, key, pdf)
    return pdf


def trim_cache(cache_dir: Path, keep: int = CACHE_MAX_FILES) -> None:
    files = sorted(cache_dir.glob("*/*.pdf"), key=lambda file: file.stat().st_mtime_ns, reverse=True)
    for file in files[keep:]:
        file.unlink(missing_ok=True)


__all__ = [
    "HTML_MAX_CHARS",
    "PDF_VARIANT",
    "REFUSAL",
    "PdfRefused",
    "pdf_download",
    "render_within_budget",
    "trim_cache",
]


def pdf_download(html: str, filename: str):
    """The PDF of `html` (a print view rendered for_pdf) if it is made already, or a page
    following the job that makes it (casestudies/jobs/renders.py): no request waits on a
    render. PdfRefused propagates (the guides blueprint answers it with a page)."""
    from casestudies.jobs.renders import pdf_response

    return pdf_response(html, filename)
