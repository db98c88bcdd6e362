"""Schema migrations keep existing data: a library created at an older revision keeps every
case, question, tag and revision when migrated to the newest schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, select

from app import create_app
from casestudies.cli import SAMPLE_DIR
from casestudies.database import _alembic_config, upgrade_database
from casestudies.extensions import db
from casestudies.models import Case, CaseRevision, Question, case_tag
from casestudies.transfer.casefile import read_bundle


def test_upgrading_an_old_database_keeps_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    with app.app_context():
        config = _alembic_config()
        with db.engine.begin() as connection:  # the schema as it was at revision 0002
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        rows = {}
        with db.engine.begin() as connection:
            # Old rows, written with the columns revision 0002 had.
            connection.exec_driver_sql(
                'INSERT INTO "case" (id, slug, title, summary, seat, body, status, consent, created_at, '
                "updated_at, version) VALUES (1, 'old', 'Old case', 'S', 'Porter', 'Body', 'published', "
                "'obtained', '2026-01-01', '2026-01-01', 1)"
            )
            connection.exec_driver_sql("INSERT INTO question (case_id, position, text) VALUES (1, 0, 'Q?')")
            connection.exec_driver_sql("INSERT INTO tag (id, name, key) VALUES (1, 'flow', 'flow')")
            connection.exec_driver_sql("INSERT INTO case_tag (case_id, tag_id) VALUES (1, 1)")
            connection.exec_driver_sql(
                "INSERT INTO case_revision (case_id, number, content, summary, created_at) "
                "VALUES (1, 1, 'x', 'Imported', '2026-01-01')"
            )
        upgrade_database()
        for model in (Case, Question, CaseRevision):
            rows[model.__name__] = db.session.scalar(select(func.count()).select_from(model))
        rows["case_tag"] = db.session.scalar(select(func.count()).select_from(case_tag))
        assert rows == {"Case": 1, "Question": 1, "CaseRevision": 1, "case_tag": 1}
        assert db.session.get(Case, 1).deleted_at is None
        assert read_bundle(SAMPLE_DIR)  # the library still imports on the new schema
        db.engine.dispose()


def _database_at_previous_release(tmp_path: Path) -> str:
    """A new, empty database: a SQLite file, or a PostgreSQL database when the suite runs
    against PostgreSQL (TEST_DATABASE_URL)."""
    from .conftest import PG_PREFIX, PG_URL, _pg_admin, _pg_url

    if not PG_URL:
        return f"sqlite:///{tmp_path / 'previous.db'}"
    import uuid

    from sqlalchemy import text

    name = f"{PG_PREFIX}{uuid.uuid4().hex[:12]}"
    engine = _pg_admin()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return _pg_url(name)


def test_every_published_case_gets_a_live_revision_equal_to_its_current_one(tmp_path: Path) -> None:
    """Migration 0016 on a library made by the previous release's schema (0015): a published
    case's live revision is its newest; drafts and cases in review have none; the revisions
    the workflow wrote are marked, so who may publish is read from a column."""
    url = _database_at_previous_release(tmp_path)
    app = create_app({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    with app.app_context():
        config = _alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0015")
        from sqlalchemy import text

        with db.engine.begin() as connection:
            for number, (slug, status) in enumerate([("live", "published"), ("draft", "draft"), ("waiting", "review")]):
                connection.execute(
                    text(
                        'INSERT INTO "case" (id, slug, title, summary, seat, body, status, consent, created_at, '
                        "updated_at, version) VALUES (:id, :slug, 'T', 'S', 'Porter', 'Body', :status, 'obtained', "
                        "'2026-01-01', '2026-01-01', 3)"
                    ),
                    {"id": number + 1, "slug": slug, "status": status},
                )
                for revision, summary in [(1, "Created"), (2, "Submit for review"), (3, "Publish: second reader")]:
                    connection.execute(
                        text(
                            "INSERT INTO case_revision (case_id, number, content, summary, created_at) "
                            "VALUES (:case_id, :number, 'x', :summary, '2026-01-01')"
                        ),
                        {"case_id": number + 1, "number": revision, "summary": summary},
                    )
        upgrade_database()
        live = {case.slug: case.live_revision_number for case in db.session.scalars(select(Case))}
        assert live == {"live": 3, "draft": None, "waiting": None}
        assert all(case.pending_revision_number is None for case in db.session.scalars(select(Case)))
        marked = db.session.execute(
            select(CaseRevision.number, CaseRevision.is_status_change).where(CaseRevision.case_id == 1)
        ).all()
        assert sorted(marked) == [(1, False), (2, True), (3, True)]
        db.session.remove()
        db.engine.dispose()
    if url.startswith("postgresql"):
        from .conftest import _pg_admin

        engine = _pg_admin()
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        engine.dispose()
