"""An export of the whole library runs as a job: the request that asks for it answers at
once with a page that follows the job, and the .zip is downloaded from that page when it
is ready. The zip is the one the streamed download gave (uploads.zip_chunks of the same
case files, in the same order); it is kept as the job's result, in the shared database,
so whichever server answers the download has it. It is its owner's alone; the download is
what the audit log records, each time. (An export of a search's results is capped at
EXPORT_LIMIT cases and is still answered in its request.)"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

from sqlalchemy import update

from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.jobs.queue import JobRefused, enqueue, handler, job_by_token, latest_with_key
from casestudies.models import User
from casestudies.models.jobs import FINISHED, QUEUED, RUNNING, Job
from casestudies.transfer.uploads import export_of, record_export, zip_chunks

KIND = "export_library"
LABEL = "Export of the whole library"
_DONE_LABEL = "Export "  # then the file's name, set when the job has made it


class ExportNotReady(Refused):
    pass


def start_export(user: User) -> Job:
    """Queue an export of the whole library for user; one still queued or running is
    followed instead of starting a second."""
    key = f"export:{user.id}"
    earlier = latest_with_key(key)
    if earlier is not None and earlier.owner_id == user.id and earlier.state in (QUEUED, RUNNING):
        return earlier
    return enqueue(KIND, {}, key=key, owner=user, label=LABEL)


@handler(KIND, max_attempts=3)
def run_export(job: Job, payload: dict[str, Any]) -> bytes:
    user = db.session.get(User, job.owner_id) if job.owner_id is not None else None
    if user is None or not user.is_active or not user.can_curate():
        raise JobRefused("The account that asked for this export can no longer export the library.")
    result = export_of(user)
    db.session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(label=f"{_DONE_LABEL}{result.filename}")
        .execution_options(synchronize_session=False)
    )
    return b"".join(zip_chunks(result.entries))


def export_job(token: str, user: User) -> Job:
    """The user's own export job with this token."""
    job = job_by_token(token)
    if job is None or job.kind != KIND or job.owner_id != user.id:
        raise NotFound()
    return job


def filename_of(job: Job) -> str:
    if job.label.startswith(_DONE_LABEL) and job.label.endswith(".zip"):
        return job.label.removeprefix(_DONE_LABEL)
    return f"every-seat-library-{date.today().isoformat()}.zip"


def download(job: Job, user: User) -> tuple[str, bytes]:
    """The finished export's file name and zip, recorded in the audit log as downloaded."""
    if job.state != FINISHED or job.result is None:
        raise ExportNotReady("The export is not ready yet.", status=409)
    with zipfile.ZipFile(io.BytesIO(job.result)) as archive:
        count = len(archive.infolist())
    filename = filename_of(job)
    record_export(user, filename, count)
    return filename, job.result


__all__ = ["KIND", "download", "export_job", "filename_of", "run_export", "start_export"]
