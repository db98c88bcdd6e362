"""PDFs as jobs. A request for a PDF answers at once: the PDF itself when it is made
already (the content-keyed cache on this server, or a finished job's result from any
server), the refusal when a render of the same content was refused (remembered: it is
not tried again), or else a page that follows the render job. Renders run in a child
process within PDF_RENDER_SECONDS and at most RENDER_CONCURRENCY at a time per server.

A private PDF (the reflection notebook's) is sealed in the job table with the notebook's
keys (casestudies/learning/sealing.py), keyed by an HMAC rather than a hash of its text,
never written to the shared cache, and served to its owner only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from flask import Response, current_app, render_template, request
from flask_login import current_user

from casestudies.database import keep_changes_on_error
from casestudies.guides import pdf as pdfs
from casestudies.jobs.queue import JobRefused, enqueue, handler, latest_with_key
from casestudies.jobs.runner import render_slots
from casestudies.models import User
from casestudies.models.jobs import FINISHED, QUEUED, REFUSED, RUNNING, Job

KIND = "render_pdf"


def _dirs() -> tuple[Path, Path]:
    return Path(current_app.static_folder or "static"), Path(current_app.config["PDF_CACHE_DIR"])


def _private_key(owner: User, content: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{owner.id}\0{content}".encode(), hashlib.sha256).hexdigest()


def _download(pdf: bytes, filename: str) -> Response:
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _result_of(job: Job) -> bytes | None:
    if job.result is None:
        return None
    if job.owner_id is None:
        return job.result
    from casestudies.learning.sealing import unseal

    return base64.b64decode(unseal(job.result.decode("ascii"))["pdf"])


def pdf_response(html: str, filename: str, *, owner: User | None = None) -> Response:
    """See the module's docstring. `owner`: the PDF is private to them."""
    if len(html) > pdfs.HTML_MAX_CHARS:
        raise pdfs.PdfRefused(pdfs.REFUSAL)
    static_dir, cache_dir = _dirs()
    content = pdfs.content_key(html, static_dir)
    if owner is None:
        key = f"pdf:{content}"
        cached = pdfs.read_cached(cache_dir, content)
        if cached is not None:
            return _download(cached, filename)
    else:
        key = f"pdf:{_private_key(owner, content)}"
    owner_id = owner.id if owner is not None else None
    job = latest_with_key(key)
    if job is not None and job.owner_id == owner_id:
        if job.state == FINISHED:
            pdf = _result_of(job)
            if pdf is not None:
                if owner is None:
                    pdfs.store_cached(cache_dir, content, pdf)  # this server's copy
                return _download(pdf, filename)
        elif job.state == REFUSED:
            keep_changes_on_error()  # e.g. the handout visit stands
            raise pdfs.PdfRefused(job.error or pdfs.REFUSAL)
        elif job.state in (QUEUED, RUNNING):
            return progress_page(job)
    if owner is None:
        payload = {"html": html}
    else:
        from casestudies.learning.sealing import seal

        payload = {"sealed": seal({"html": html})}
    payload.update(base_url=request.host_url, content=content)
    job = enqueue(KIND, payload, key=key, owner=owner, label=f"PDF {filename}")
    return progress_page(job)


def progress_page(job: Job) -> Response:
    """The page that follows a job: by itself with JavaScript (job-progress.js), with a
    "Check again" link to this same address without."""
    again = request.full_path if request.query_string else request.path
    html = render_template("jobs/progress.html", job=job, again=again)
    return Response(html, status=200, headers={"Cache-Control": "no-store"})


@handler(KIND, max_attempts=3)
def render(job: Job, payload: dict[str, object]) -> bytes:
    app = current_app
    static_dir, cache_dir = _dirs()
    if "sealed" in payload:
        from casestudies.learning.sealing import unseal

        html = str(unseal(str(payload["sealed"]))["html"])
    else:
        html = str(payload["html"])
    with render_slots(app):
        try:
            pdf = pdfs.render_in_child(
                html,
                base_url=str(payload["base_url"]),
                static_dir=static_dir,
                seconds=float(app.config["PDF_RENDER_SECONDS"]),
            )
        except pdfs.PdfRefused as refused:
            raise JobRefused(str(refused)) from None
        except RuntimeError:
            if "sealed" in payload:  # the renderer's output may quote the private text
                raise RuntimeError("the PDF renderer failed (its output withheld: a private document)") from None
            raise
    if "sealed" in payload:
        from casestudies.learning.sealing import seal

        return seal({"pdf": base64.b64encode(pdf).decode("ascii")}).encode("ascii")
    pdfs.store_cached(cache_dir, str(payload["content"]), pdf)
    return pdf


def status_of(job: Job) -> dict[str, object]:
    return {"state": job.state, "done": job.state not in (QUEUED, RUNNING), "attempts": job.attempts}


def may_follow(job: Job) -> bool:
    """Anyone signed in may follow a shared job (its token is the secret); a private one
    is its owner's."""
    return job.owner_id is None or job.owner_id == current_user.id


__all__ = ["may_follow", "pdf_response", "progress_page", "status_of"]
