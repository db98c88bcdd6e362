"""Backup and restore: a consistent copy of the database (SQLite's online backup, safe
while the app runs) plus the library as case files, which any editor can read."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from casestudies.extensions import db
from casestudies.indexing import rebuild_index
from casestudies.transfer.services import export_cases

DATABASE_FILE = "every-seat.sqlite3"
CASES_DIR = "cases"
MANIFEST = "backup.json"


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


def backup(target: str | Path) -> dict[str, object]:
    """Write DATABASE_FILE, the case files and a manifest into the folder target."""
    folder = Path(target)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: choose a new folder for the backup")
    folder.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(_sqlite_path())
    try:
        destination = sqlite3.connect(folder / DATABASE_FILE)
        with destination:
            source.backup(destination)  # a consistent snapshot, even with writers running
        destination.close()
    finally:
        source.close()
    cases = export_cases(folder / CASES_DIR)
    manifest = {"created_at": datetime.now(UTC).isoformat(), "cases": len(cases), "database": DATABASE_FILE}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return manifest


def restore(source: str | Path) -> int:
    """Replace the live database with the backup's, then rebuild the search index.
    Returns the number of cases indexed."""
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
            backup_db.backup(live)  # page by page, under SQLite's own locking
        live.close()
    finally:
        backup_db.close()
    return rebuild_index() or 0
