"""Import and export in the browser, around the services of transfer.py.

An import takes two requests: the upload, which is checked with a dry run and, if every
file is valid, kept on the server; then the confirmation, which imports the kept files
all or nothing. Between the two, the files wait under `<instance>/uploads/<token>/`,
where the token is random, the folder belongs to the user who uploaded it, and it
expires after an hour. The browser only ever sends the token back, never a path.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.cases.revisions import case_to_data
from casestudies.errors import Refused
from casestudies.extensions import db
from casestudies.library.services import LibraryFilters, search_cases
from casestudies.models import Case, User
from casestudies.slugs import slugify
from casestudies.transfer.casefile import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    BundleError,
    BundleFile,
    dump_case_file,
    read_zip_batches,
)
from casestudies.transfer.services import ImportReport, import_batches

UPLOAD_TTL_SECONDS = 3600
UPLOAD_BATCH_FILES = 1000  # an uploaded zip is checked and imported this many files at a time
MAX_NAME_LENGTH = 200
EXPORT_LIMIT = 10_000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
_META = "upload.json"


class UploadError(Refused):
    """The upload can't be used; the message is for the user."""


class UploadGone(Refused):
    """No upload with that token for this user (never made, someone else's, expired or used)."""

    status = 410

    def __init__(self, token: str | None) -> None:
        super().__init__("That upload is no longer here: uploads are kept for an hour, once. Upload the files again.")
        self.token = token


# -- reading what was uploaded ---------------------------------------------------------------------
def _display_name(filename: str) -> str:
    """The last part of a name the browser sent, for reports only: never used as a path."""
    name = re.split(r"[/\\]", filename)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_NAME_LENGTH]


Batches = Callable[[], Iterator[list[BundleFile]]]


def _zip_batches(name: str, data: bytes) -> Batches:
    """The case files of an uploaded zip, UPLOAD_BATCH_FILES at a time, each time called."""

    def batches() -> Iterator[list[BundleFile]]:
        try:
            yield from read_zip_batches(data, UPLOAD_BATCH_FILES)
        except BundleError as exc:
            raise UploadError(f"{name} can't be imported: {exc}") from None

    return batches


def bundle_from_uploads(uploads: list[tuple[str, bytes]]) -> tuple[str, Batches]:
    """("zip" or "md", the case files in batches) from what the form sent: one .zip (of
    any number of files within the size limits, read a batch at a time), or .md files."""
    uploads = [(_display_name(name), data) for name, data in uploads if name]
    if not uploads:
        raise UploadError("Choose a .zip file or one or more .md files to upload")
    zips = [name for name, _ in uploads if name.lower().endswith(".zip")]
    if zips:
        if len(uploads) > 1:
            raise UploadError("Upload one .zip file on its own, or several .md files, not both at once")
        batches = _zip_batches(*uploads[0])
        if next(batches(), None) is None:
            raise UploadError(f"{uploads[0][0]} holds no .md case files")
        return "zip", batches
    others = [name for name, _ in uploads if not name.lower().endswith(".md")]
    if others:
        raise UploadError(f"“{others[0]}” is not a .md or .zip file. Upload case files (.md) or a .zip of them")
    if len(uploads) > DEFAULT_MAX_FILES:
        raise UploadError(f"Upload at most {DEFAULT_MAX_FILES:,} files at a time")
    names = [name for name, _ in uploads]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UploadError(f"Two of the files are both called “{duplicates[0]}”: rename one and upload again")
    for name, data in uploads:
        if len(data) > DEFAULT_MAX_FILE_BYTES:
            raise UploadError(f"“{name}” is larger than the limit of {DEFAULT_MAX_FILE_BYTES // (1024 * 1024)} MB")
    files = sorted((BundleFile(name, data) for name, data in uploads), key=lambda f: f.name)
    return "md", lambda: iter([files])


# -- the dry-run report ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FileOutcome:
    name: str
    # "new", "update", "unchanged", "pending", "published", "valid" (others have problems), "problems"
    outcome: str
    problems: list[str] = field(default_factory=list)  # "FILE:LINE: message"
    duplicates: list[str] = field(default_factory=list)  # cases it may duplicate, for a new case


@dataclass(frozen=True)
class ImportCheck:
    report: ImportReport
    files: list[FileOutcome]
    general: list[str]  # problems that belong to no single file
    token: str | None = None  # set when the files are kept for the confirmation

    @property
    def ok(self) -> bool:
        return self.report.ok


def _check(files: list[BundleFile], report: ImportReport) -> tuple[list[FileOutcome], list[str]]:
    by_file: dict[str, list[str]] = {}
    for problem in report.problems:
        by_file.setdefault(problem.file, []).append(str(problem))
    names = {f.name for f in files}
    general = [line for name, lines in by_file.items() if name not in names for line in lines]
    outcome = {
        **dict.fromkeys(report.created, "new"),
        **dict.fromkeys(report.updated, "update"),
        **dict.fromkeys(report.unchanged, "unchanged"),
        **dict.fromkeys(report.pending, "pending"),
        **dict.fromkeys(report.published, "published"),
    }
    rows = []
    for f in files:
        if f.name in by_file:
            rows.append(FileOutcome(f.name, "problems", by_file[f.name]))
        else:
            rows.append(FileOutcome(f.name, outcome.get(f.name, "valid"), duplicates=report.duplicates.get(f.name, [])))
    return rows, general


class FileOutcomes:
    """Each file's outcome, gathered batch by batch (import_batches' reports)."""

    def __init__(self) -> None:
        self.rows: list[FileOutcome] = []
        self.general: list[str] = []

    def add(self, files: list[BundleFile], report: ImportReport) -> None:
        rows, general = _check(files, report)
        self.rows += rows
        self.general += general


def check_upload(uploads: list[tuple[str, bytes]], user: User) -> ImportCheck:
    """Read the upload, dry-run the import (a batch at a time) and, if it would succeed,
    keep the files for the confirmation. Raises UploadError when the upload itself can't
    be read."""
    purge_expired_uploads()
    uploads = [(name, data) for name, data in uploads if name]
    kind, batches = bundle_from_uploads(uploads)
    outcomes = FileOutcomes()
    report = import_batches(batches, actor=user, dry_run=True, reports=outcomes.add, flag_duplicates=True)
    token = _store(user, kind, uploads if kind == "md" else uploads[:1]) if report.ok else None
    return ImportCheck(report, outcomes.rows, outcomes.general, token)


def confirm_import(token: str, user: User, *, publish: bool = False) -> ImportCheck:
    """Import the files kept under token, all or nothing, a batch at a time in one
    transaction. The upload is removed when the import succeeds; if the files have
    become invalid meanwhile, the report says why. Files marked published arrive in
    review unless an admin confirms their publication (`publish`; recorded in the audit
    log)."""
    batches = load_upload(token, user)
    outcomes = FileOutcomes()
    try:
        report = import_batches(batches, actor=user, publish=publish, reports=outcomes.add)
    except UploadError:
        raise UploadGone(token) from None
    if report.ok:
        discard_upload(token, user)
        return ImportCheck(report, outcomes.rows, outcomes.general, None)
    return ImportCheck(report, outcomes.rows, outcomes.general, token)


# -- keeping an upload between the two steps -------------------------------------------------------
def uploads_root() -> Path:
    return Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")


def _store(user: User, kind: str, uploads: list[tuple[str, bytes]]) -> str:
    token = secrets.token_urlsafe(32)
    root = uploads_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = root / token
    folder.mkdir(mode=0o700)
    names = []
    for index, (name, data) in enumerate(uploads):
        stored = f"{index}.{kind}"  # our own name: the browser's name is never a path
        path = folder / stored
        path.write_bytes(data)
        path.chmod(0o600)
        names.append({"name": _display_name(name), "stored": stored})
    meta = {"user_id": user.id, "created": time.time(), "kind": kind, "files": names}
    (folder / _META).write_text(json.dumps(meta), "utf-8")
    return token


def _folder(token: str, user: User) -> tuple[Path, dict]:
    if not _TOKEN.fullmatch(token or ""):
        raise UploadGone(token)
    folder = uploads_root() / token
    try:
        meta = json.loads((folder / _META).read_text("utf-8"))
    except (OSError, ValueError):
        raise UploadGone(token) from None
    if meta.get("user_id") != user.id:
        raise UploadGone(token)  # someone else's: as if it did not exist
    if time.time() - float(meta.get("created", 0)) > UPLOAD_TTL_SECONDS:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadGone(token)
    return folder, meta


def load_upload(token: str, user: User) -> Batches:
    """The files kept under token, in batches (a zip's are read again on each call)."""
    folder, meta = _folder(token, user)
    entries = meta["files"]
    try:
        if meta["kind"] == "zip":
            return _zip_batches(entries[0]["name"], (folder / entries[0]["stored"]).read_bytes())
        files = sorted(
            (BundleFile(e["name"], (folder / Path(e["stored"]).name).read_bytes()) for e in entries),
            key=lambda f: f.name,
        )
    except OSError:
        raise UploadGone(token) from None
    return lambda: iter([files])


def staged_files(token: str, user: User) -> tuple[str, list[tuple[str, bytes]]]:
    """("zip" or "md", [(name, bytes)]): the files kept under token, as uploaded."""
    folder, meta = _folder(token, user)
    try:
        files = [(e["name"], (folder / Path(e["stored"]).name).read_bytes()) for e in meta["files"]]
    except OSError:
        raise UploadGone(token) from None
    return str(meta["kind"]), files


def batches_of(kind: str, files: list[tuple[str, bytes]]) -> Batches:
    """The case files of a staged upload in batches, as load_upload reads them."""
    if kind == "zip":
        return _zip_batches(*files[0])
    bundle = sorted((BundleFile(name, data) for name, data in files), key=lambda f: f.name)
    return lambda: iter([bundle])


def discard_upload(token: str, user: User) -> None:
    folder, _ = _folder(token, user)
    shutil.rmtree(folder, ignore_errors=True)


def purge_expired_uploads(now: float | None = None) -> int:
    """Remove every kept upload older than an hour (checked at each new upload)."""
    root = uploads_root()
    if not root.is_dir():
        return 0
    now = now if now is not None else time.time()
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not _TOKEN.fullmatch(folder.name):
            continue
        try:
            created = float(json.loads((folder / _META).read_text("utf-8"))["created"])
        except (OSError, ValueError, KeyError, TypeError):
            created = folder.stat().st_mtime
        if now - created > UPLOAD_TTL_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


# -- export ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Export:
    filename: str
    entries: list[tuple[str, bytes]]  # (<slug>.md, the case file)


def is_whole_library(query: str, filters: LibraryFilters) -> bool:
    return not query.strip() and filters.is_empty


def export_cases_for(
    viewer: User, query: str = "", filters: LibraryFilters | None = None, *, exact: bool = False
) -> Export:
    """export_of, recorded in the audit log as downloaded by viewer."""
    result = export_of(viewer, query, filters, exact=exact)
    record_export(viewer, result.filename, len(result.entries))
    return result


def record_export(viewer: User, filename: str, count: int) -> None:
    audit.record(viewer, "export", detail=f"Downloaded {filename}: {count} case file(s)")


def export_of(viewer: User, query: str = "", filters: LibraryFilters | None = None, *, exact: bool = False) -> Export:
    """The whole library (every live case, any status), or the cases a search finds with
    the same words and filters as the search page."""
    filters = filters or LibraryFilters()
    today = date.today().isoformat()
    if is_whole_library(query, filters):
        ids = list(db.session.scalars(select(Case.id).where(~Case.is_deleted)))
        filename = f"every-seat-library-{today}.zip"
    else:
        results = search_cases(viewer, query, filters=filters, per_page=EXPORT_LIMIT, exact=exact)
        ids = [item.case.id for item in results.items]
        words = slugify(" ".join([query, *filters.as_args().values()]))[:40].strip("-") or "search"
        filename = f"every-seat-search-{words}-{today}.zip"
    cases = db.session.scalars(
        select(Case)
        .where(Case.id.in_(ids), ~Case.is_deleted)
        .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
        .order_by(Case.slug)
    )
    entries = [(f"{case.slug}.md", dump_case_file(case_to_data(case)).encode("utf-8")) for case in cases]
    return Export(filename, entries)


class _Sink(io.RawIOBase):
    """A write-only, unseekable buffer: zipfile then writes a streamable archive."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def zip_chunks(entries: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """The zip of the entries, produced a file at a time for a streamed download."""
    stamp = time.localtime()[:6]
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            yield sink.take()
    yield sink.take()
