"""Command-line commands, run as a user would (through Click), on the sample library."""

from __future__ import annotations

import filecmp
import zipfile
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from casestudies.cli import SAMPLE_DIR
from casestudies.extensions import db
from casestudies.indexing import catch_up, check_index, get_search_index
from casestudies.models import Case, CaseRevision, Role, User


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_init_db_is_repeatable(runner) -> None:
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == second.exit_code == 0
    assert "up to date" in second.output


def test_create_user_reads_the_password_from_standard_input(runner) -> None:
    result = runner.invoke(
        args=["create-user", "New.Person@Example.org", "--role", "facilitator", "--name", "New Person"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user.role is Role.FACILITATOR and user.name == "New Person"
    assert user.check_password("a long enough password")


def test_create_user_refuses_a_short_password_and_a_duplicate(runner) -> None:
    short = runner.invoke(args=["create-user", "a@example.org", "--role", "learner"], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    runner.invoke(args=["create-user", "a@example.org", "--role", "learner"], input="a long enough password\n")
    again = runner.invoke(args=["create-user", "A@example.org", "--role", "admin"], input="a long enough password\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_import_the_sample_library_then_again_changes_nothing(runner) -> None:
    first = runner.invoke(args=["import", str(SAMPLE_DIR)])
    assert first.exit_code == 0, first.output
    catch_up(runner.app)
    cases, revisions = _count(Case), _count(CaseRevision)
    assert cases >= 17
    assert get_search_index().doc_count() == cases
    second = runner.invoke(args=["import", str(SAMPLE_DIR)])
    assert second.exit_code == 0
    assert f"0 new, 0 updated, {cases} unchanged" in second.output
    assert (_count(Case), _count(CaseRevision)) == (cases, revisions)
    assert check_index().is_clean


def test_a_dry_run_changes_nothing(runner) -> None:
    result = runner.invoke(args=["import", str(SAMPLE_DIR), "--dry-run"])
    assert result.exit_code == 0 and "Would import" in result.output
    assert _count(Case) == 0
    assert get_search_index().doc_count() == 0


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, "utf-8")


GOOD = """---
title: A good case
summary: Fine.
seat: Porter
---
Body text.
"""


def test_an_invalid_file_means_nothing_is_imported(runner, tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    _write(folder, "good.md", GOOD)
    _write(folder, "bad.md", "---\ntitle: Bad\nsummary: x\nseat: Porter\ntgas: [x]\n---\nBody\n")
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    assert "bad.md:5: unknown key 'tgas'" in result.output
    assert _count(Case) == 0
    assert get_search_index().doc_count() == 0


def test_a_folder_imported_in_batches_refuses_a_slug_used_in_two_batches(runner, tmp_path: Path, monkeypatch) -> None:
    from casestudies import cli

    monkeypatch.setattr(cli, "IMPORT_BATCH_FILES", 2)
    folder = tmp_path / "cases"
    for n in range(5):
        _write(folder, f"{n}.md", GOOD.replace("A good case", f"Case {n}"))
    _write(folder, "9.md", GOOD.replace("A good case", "Case 0"))  # the same slug, in the last batch
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1, result.output
    assert "slug 'case-0' is also used by 0.md" in result.output
    assert _count(Case) == 0


def test_import_reads_a_zip(runner, tmp_path: Path) -> None:
    archive = tmp_path / "cases.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("cases/good.md", GOOD)
    result = runner.invoke(args=["import", str(archive)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Case.slug)) == "a-good-case"


def test_export_import_export_is_byte_identical(app: Flask, runner, tmp_path: Path, migrated_db_template) -> None:
    from .conftest import make_test_app

    assert runner.invoke(args=["import", str(SAMPLE_DIR)]).exit_code == 0
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["export", str(first)]).exit_code == 0
    (tmp_path / "other").mkdir()
    other = make_test_app(tmp_path / "other", migrated_db_template, WTF_CSRF_ENABLED=False)
    other_runner = other.test_cli_runner()
    assert other_runner.invoke(args=["import", str(first)]).exit_code == 0
    assert other_runner.invoke(args=["export", str(second)]).exit_code == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) >= 17
    _match, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert mismatch == [] and errors == []
    with other.app_context():
        other.extensions["search_index"].close()
        db.engine.dispose()


def test_export_of_named_slugs(runner, tmp_path: Path) -> None:
    runner.invoke(args=["import", str(SAMPLE_DIR)])
    result = runner.invoke(args=["export", str(tmp_path / "out"), "--slug", "receptionist-raising-concerns"])
    assert result.exit_code == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["receptionist-raising-concerns.md"]
    missing = runner.invoke(args=["export", str(tmp_path / "out2"), "--slug", "no-such-case"])
    assert missing.exit_code == 1 and "no-such-case" in missing.output


def test_reindex_and_search_check(runner) -> None:
    runner.invoke(args=["import", str(SAMPLE_DIR)])
    catch_up(runner.app)
    assert runner.invoke(args=["search-check"]).exit_code == 0
    db.session.execute(Case.__table__.update().values(title="changed behind the index's back"))
    db.session.commit()
    drift = runner.invoke(args=["search-check"])
    assert drift.exit_code == 1 and "stale: case" in drift.output
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and f"Indexed {_count(Case)}" in result.output
    assert runner.invoke(args=["search-check"]).exit_code == 0
