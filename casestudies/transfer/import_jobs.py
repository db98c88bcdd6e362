"""An import confirmed on the page runs as a job: the request that confirms it answers at
once with a page that follows the job, and no request holds the database while thousands
of cases are written. The job carries the staged files themselves (within the upload limit),
so any server's runner can do it, not only the one whose disk holds the upload. Like the
page's import before it, the job is all or nothing: its cases and its outcome commit
together, or nothing is written and the page lists each file's problems.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from casestudies.database import discard_changes
from casestudies.errors import NotFound
from casestudies.extensions import db
from casestudies.jobs.queue import JobRefused, enqueue, handler, job_by_token, latest_with_key
from casestudies.models import User
from casestudies.models.jobs import Job
from casestudies.transfer.services import import_batches
from casestudies.transfer.uploads import (
    FileOutcome,
    FileOutcomes,
    UploadError,
    batches_of,
    discard_upload,
    staged_files,
)

KIND = "import_cases"


def start_import(token: str, user: User, *, publish: bool) -> Job:
    """Queue the import of the files staged under token (UploadGone if they are not);
    confirming the same upload twice follows the first job."""
    key = f"import:{token}"
    earlier = latest_with_key(key)
    if earlier is not None and earlier.owner_id == user.id:
        return earlier
    kind, files = staged_files(token, user)
    payload = {
        "publish": publish,
        "kind": kind,
        "files": [{"name": name, "data": base64.b64encode(data).decode("ascii")} for name, data in files],
    }
    label = files[0][0] if kind == "zip" else f"{len(files)} case file{'s' if len(files) != 1 else ''}"
    job = enqueue(KIND, payload, key=key, owner=user, label=f"Import of {label}")
    discard_upload(token, user)  # the job holds the files now
    return job


@handler(KIND, max_attempts=3)
def run_import(job: Job, payload: dict[str, Any]) -> bytes:
    user = db.session.get(User, job.owner_id) if job.owner_id is not None else None
    if user is None or not user.is_active or not user.can_curate():
        raise JobRefused("The account that started this import can no longer import cases.")
    publish = bool(payload.get("publish")) and user.can_confirm_publication_on_import()
    files = [(entry["name"], base64.b64decode(entry["data"])) for entry in payload["files"]]
    outcomes = FileOutcomes()
    try:
        report = import_batches(
            batches_of(str(payload["kind"]), files), actor=user, publish=publish, reports=outcomes.add
        )
    except UploadError as exc:
        raise JobRefused(str(exc)) from None
    if not report.ok:
        discard_changes()  # all or nothing: the outcome below is kept, no case is
    summary = {
        "ok": report.ok,
        "file_count": report.file_count,
        "created": len(report.created),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
        "to_review": len(report.to_review),
        "pending": len(report.pending),
        "files": [asdict(row) for row in outcomes.rows if row.outcome == "problems"][:200],
        "general": outcomes.general[:50],
    }
    return json.dumps(summary).encode("utf-8")


def import_job(token: str, user: User) -> Job:
    """The user's own import job with this token."""
    job = job_by_token(token)
    if job is None or job.kind != KIND or job.owner_id != user.id:
        raise NotFound()
    return job


def outcome_of(job: Job) -> dict[str, Any] | None:
    """A finished import's summary (with its files' problems as FileOutcome), or None."""
    if job.result is None:
        return None
    summary = json.loads(job.result.decode("utf-8"))
    summary["files"] = [FileOutcome(**row) for row in summary["files"]]
    return summary


__all__ = ["KIND", "import_job", "outcome_of", "run_import", "start_import"]
