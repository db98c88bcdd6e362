"""Backup and restore: a consistent copy of the database (SQLite's online backup, safe
while the app runs) plus the library as case files, which any editor can read."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import make_url

from casestudies.config import private_file, private_folder
from casestudies.extensions import db
from casestudies.indexing import rebuild_index
from casestudies.models import SearchNode, utcnow
from casestudies.transfer.services import export_cases

DATABASE_FILE = "every-seat.sqlite3"
CASES_DIR = "cases"
MANIFEST = "backup.json"
BACKUP_PAGES = 1024  # pages copied per step (4 MB at SQLite's default page size)


class BackupError(RuntimeError):
    pass


def _sqlite_path() -> Path:
    url = make_url(str(db.engine.url))
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError(
            "Backup copies SQLite databases. For PostgreSQL use pg_dump; the case files can still be "
            "exported with `flask --app app export DIR`."
        )
    return Path(url.database)


Progress = Callable[[int, int, int], None]  # (status, pages left, pages in all), as sqlite3 reports


def backup(target: str | Path, progress: Progress | None = None) -> dict[str, object]:
    """Write DATABASE_FILE, the case files and a manifest into the folder target."""
    folder = Path(target)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: choose a new folder for the backup")
    # The backup holds every account: readable by its owner only.
    private_folder(folder).chmod(0o700)
    source = sqlite3.connect(_sqlite_path())
    try:
        destination = sqlite3.connect(private_file(folder / DATABASE_FILE))
        with destination:
            # A consistent snapshot, even with writers running.
            source.backup(destination, pages=BACKUP_PAGES, progress=progress)
        destination.close()
    finally:
        source.close()
    cases = export_cases(folder / CASES_DIR, record=False)
    manifest = {"created_at": datetime.now(UTC).isoformat(), "cases": len(cases), "database": DATABASE_FILE}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return manifest


def restore(source: str | Path, progress: Progress | None = None) -> int:
    """Replace the live database with the backup's, then rebuild the search index: this
    server's now, every other server's as its indexer next looks (their cursors belong to
    the database that was replaced). Returns the number of cases indexed."""
    folder = Path(source)
    snapshot = folder / DATABASE_FILE
    if not (folder / MANIFEST).exists() or not snapshot.exists():
        raise BackupError(f"{folder} is not a backup made by `flask --app app backup`")
    db.session.remove()
    db.engine.dispose()
    backup_db = sqlite3.connect(snapshot)
    try:
        live = sqlite3.connect(_sqlite_path())
        with live:
            backup_db.backup(live, pages=BACKUP_PAGES, progress=progress)  # under SQLite's own locking
        live.close()
    finally:
        backup_db.close()
    db.session.execute(update(SearchNode).values(rebuild_requested_at=utcnow()))
    db.session.commit()
    return rebuild_index() or 0
