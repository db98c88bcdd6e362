"""Reliability: backup and restore, a process killed in the middle of an import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies.cli import SAMPLE_DIR
from casestudies.extensions import db
from casestudies.indexing import check_index, ensure_index
from casestudies.models import Case
from casestudies.transfer.casefile import CaseData, dump_case_file

ROOT = Path(__file__).resolve().parent.parent


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case)) or 0


@pytest.mark.sqlite_only  # backup uses SQLite's online backup; PostgreSQL has pg_dump
def test_backup_and_restore_round_trip(app: Flask, runner, tmp_path: Path) -> None:
    assert runner.invoke(args=["import", str(SAMPLE_DIR)]).exit_code == 0
    before = sorted(db.session.scalars(select(Case.slug)))
    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "backup" / "cases").glob("*.md"))) == len(before)
    # Damage the library after the backup.
    db.session.execute(Case.__table__.delete().where(Case.slug == before[0]))
    db.session.execute(Case.__table__.update().values(title="Overwritten"))
    db.session.commit()
    result = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert sorted(db.session.scalars(select(Case.slug))) == before
    assert "Overwritten" not in set(db.session.scalars(select(Case.title)))
    assert check_index().is_clean


def test_backup_refuses_a_folder_that_is_not_empty(runner, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = runner.invoke(args=["backup", str(tmp_path / "full")])
    assert result.exit_code == 1 and "not empty" in result.output
    assert runner.invoke(args=["restore", str(tmp_path / "full"), "--yes"]).exit_code == 1


def _write_cases(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        data = CaseData(
            title=f"Generated case {n}",
            slug=f"generated-{n}",
            summary="A generated case for the crash test.",
            seat="Porter",
            body=("Words about leadership and patients. " * 60) + "\n",
            tags=("crash", f"tag{n % 7}"),
            status="published",
        )
        (folder / f"generated-{n}.md").write_text(dump_case_file(data), "utf-8")


@pytest.mark.parametrize("delay", [0.4, 1.2, 2.5])
def test_a_process_killed_mid_import_leaves_everything_consistent(app: Flask, tmp_path: Path, delay: float) -> None:
    """SIGKILL at some point of an import: afterwards (and after the start-up replay) the
    database holds all of the import or none of it, and the index matches the database."""
    folder = tmp_path / "cases"
    _write_cases(folder, 400)
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        "SECRET_KEY": "test",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "import", str(folder)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    app.extensions["search_index"].close()
    db.session.remove()
    ensure_index(app)  # what the next start of the app does
    assert _count() in (0, 400)
    report = check_index()
    assert report.is_clean, report
