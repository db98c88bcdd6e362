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
