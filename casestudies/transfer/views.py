"""Import (upload, dry-run report, confirm) and export (.zip download) for curators."""

from __future__ import annotations

from contextlib import suppress

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, MultipleFileField

from casestudies.indexing import indexing_progress
from casestudies.library.services import LibraryFilters
from casestudies.models import Role
from casestudies.policy import requires
from casestudies.transfer import export_jobs, import_jobs
from casestudies.transfer import uploads as transfer_web
from casestudies.transfer.uploads import UploadError, UploadGone

bp = Blueprint("transfer", __name__, url_prefix="/transfer")


class UploadForm(FlaskForm):
    files = MultipleFileField("Case files")


class UploadTokenForm(FlaskForm):
    upload = HiddenField()


class ConfirmImportForm(UploadTokenForm):
    publish = BooleanField("Publish the files marked published")


def _megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def _index(error: str | None = None, status: int = 200):
    # formdata=None: the form must not read a request body that was refused as too large.
    return (
        render_template(
            "transfer/index.html",
            form=UploadForm(formdata=None),
            error=error,
            limit=_megabytes(current_app.config["MAX_CONTENT_LENGTH"]),
            indexing=indexing_progress(),
        ),
        status,
    )


def _report(check: transfer_web.ImportCheck, *, status: int = 200):
    return render_template("transfer/report.html", check=check), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge):
    # The refused body must not be read again: any form built while rendering the page
    # (the header's sign-out form too) would raise 413 a second time, ending in a 500.
    refused = request._get_current_object()
    refused.form, refused.files = ImmutableMultiDict(), ImmutableMultiDict()
    limit = _megabytes(current_app.config["MAX_CONTENT_LENGTH"])
    return _index(
        f"The upload is too large: the limit is {limit} in one go (and at most 1,000 files). "
        "Nothing was imported. Upload fewer files at a time, or split the zip into smaller ones.",
        413,
    )


@bp.get("/")
@requires(Role.CURATOR)
def index():
    return _index()


@bp.get("/progress")
@requires(Role.CURATOR)
def progress() -> Response:
    """How far this server's indexer is behind, for the import page's script."""
    now = indexing_progress()
    return jsonify(pending=now.pending, oldest_seconds=round(now.oldest_seconds, 1))


@bp.post("/upload")
@requires(Role.CURATOR)
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _index("The form had expired. Choose the files again and upload them.", 400)
    uploads = [(f.filename or "", f.read()) for f in request.files.getlist("files")]
    try:
        check = transfer_web.check_upload(uploads, current_user)
    except UploadError as exc:
        return _index(str(exc), 400)
    return _report(check, status=200 if check.ok else 400)


@bp.post("/import")
@requires(Role.CURATOR)
def confirm():
    form = ConfirmImportForm()
    publish = bool(form.publish.data)
    if publish and not current_user.can_confirm_publication_on_import():
        abort(403)
    try:
        if not form.validate_on_submit():
            raise UploadGone(None)
        job = import_jobs.start_import(form.upload.data or "", current_user, publish=publish)
    except UploadGone as gone:
        return _index(str(gone), gone.status)
    return redirect(url_for("transfer.import_status", job_token=job.token))


@bp.get("/imports/<job_token>")
@requires(Role.CURATOR)
def import_status(job_token: str):
    """The import's progress (followed by job-progress.js, or "Check again"), then its outcome."""
    job = import_jobs.import_job(job_token, current_user)
    outcome = import_jobs.outcome_of(job)
    status = 409 if outcome is not None and not outcome["ok"] else 200
    page = render_template("transfer/import_job.html", job=job, outcome=outcome)
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/discard")
@requires(Role.CURATOR)
def discard() -> Response:
    form = UploadTokenForm()
    if form.validate_on_submit():
        with suppress(UploadGone):  # already gone: the outcome is the same
            transfer_web.discard_upload(form.upload.data or "", current_user)
    flash("The upload was discarded. Nothing was imported.")
    return redirect(url_for("transfer.index"))


def _arg(name: str, limit: int = 200) -> str | None:
    return request.args.get(name, "").strip()[:limit] or None


@bp.get("/export")
@requires(Role.CURATOR)
def export() -> Response:
    """A search's results as a .zip (capped at EXPORT_LIMIT cases), answered at once; the
    whole library is a job (export_library below), asked for from the import page."""
    filters = LibraryFilters(
        seat=_arg("seat"), setting=_arg("setting"), dimension=_arg("dimension"), tag=_arg("tag"), status=_arg("status")
    )
    query = _arg("q") or ""
    if transfer_web.is_whole_library(query, filters):
        return redirect(url_for("transfer.index", _anchor="export"), 303)
    result = transfer_web.export_cases_for(current_user, query, filters, exact=request.args.get("exact") == "1")
    return Response(
        transfer_web.zip_chunks(result.entries),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )


@bp.post("/export")
@requires(Role.CURATOR)
def export_library() -> Response:
    """Start the whole library's export (the app-wide CSRFProtect has checked the form's token)."""
    job = export_jobs.start_export(current_user)
    return redirect(url_for("transfer.export_status", export_token=job.token))


@bp.get("/exports/<export_token>")
@requires(Role.CURATOR)
def export_status(export_token: str):
    """The export's progress (followed by job-progress.js, or "Check again"), then its
    download."""
    job = export_jobs.export_job(export_token, current_user)
    page = render_template("transfer/export_job.html", job=job, filename=export_jobs.filename_of(job))
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("/exports/<export_token>/download")
@requires(Role.CURATOR)
def export_download(export_token: str) -> Response:
    job = export_jobs.export_job(export_token, current_user)
    filename, data = export_jobs.download(job, current_user)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
