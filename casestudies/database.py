"""Database set-up: engine settings and Alembic migrations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask, g
from sqlalchemy import TextClause, bindparam, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import Insert
from werkzeug.wrappers import Response

from casestudies.config import private_file, private_folder
from casestudies.extensions import db

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_database() -> None:
    """Apply every pending migration (creates the schema on an empty database)."""
    config = _alembic_config()
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A migration that rebuilds a table (Alembic's batch mode) drops the old one;
            # with foreign keys on, SQLite would cascade that drop into the child rows.
            # The pragma only takes effect outside a transaction, hence before begin().
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def make_revision(message: str) -> None:
    """Autogenerate a migration from the models (a developer tool: `flask db-revision`)."""
    config = _alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers work while a writer commits; busy_timeout waits for a lock instead of
    # failing at once when several processes write; foreign keys are off by default in SQLite.
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def dialect_insert(model) -> Insert:
    """The session's dialect's INSERT (it has ON CONFLICT), for statements built with
    SQLAlchemy, such as a daily INSERT ... SELECT; a statement run on every request uses
    insert_on_conflict, which is compiled once."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


@cache
def insert_on_conflict(
    model,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    *,
    add: tuple[str, ...] = (),
    returning: str | None = None,
    only_if: str = "",
) -> TextClause:
    """INSERT of one row (a parameter per column, named as the column) that leaves the row
    already holding its `conflict` key as it is, or adds the new row's `add` columns to it;
    `only_if` (SQL on those parameters) writes nothing when false; `returning` gives back
    that column of the row written (none when nothing was). The SQL is the same on SQLite
    and PostgreSQL and made once per call site: a dialect's INSERT ... ON CONFLICT has no
    cache key, so SQLAlchemy would compile it again at every execution, which costs more
    than running it. Parameters are typed from the columns (PostgreSQL is told each type)."""
    table = model.__table__
    for name in (*columns, *conflict, *add, *([returning] if returning else [])):
        table.c[name]  # a KeyError for a name that is not the table's column: only those reach the SQL
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) '
    # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT (its parser would read
    # ON as a join's), hence the select only when there is a condition.
    sql += f"SELECT {values} WHERE {only_if} " if only_if else f"VALUES ({values}) "
    sql += f"ON CONFLICT ({', '.join(conflict)}) "
    if add:
        # The names are the model's own columns (checked above); values are bound parameters.
        sql += "DO UPDATE SET " + ", ".join(f'"{c}" = "{table.name}"."{c}" + excluded."{c}"' for c in add)  # nosec B608
    else:
        sql += "DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def keep_changes_on_error() -> None:
    """Commit this request's changes although its answer is an error: a refused sign-in
    still records the failed attempt that throttling counts."""
    g.keep_changes_on_error = True


def discard_changes() -> None:
    """Forget this request's changes so far, so that a form shown again after a refusal
    reads the rows as they were; the one place a view undoes a service's partial work."""
    db.session.rollback()


def commit_request(response: Response) -> Response:
    """The one commit of a request. Services change the session and flush; a successful
    answer commits their work, an error answer (a refused form, a 404, a 500) rolls it back.
    A failed commit raises here, before the answer is sent, and becomes a 500."""
    keep = response.status_code < 400 or (response.status_code < 500 and g.get("keep_changes_on_error", False))
    if keep:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        # Readable by its owner only: created here, before SQLite would create it with the umask's mode.
        database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        if not database.exists():
            private_folder(database.parent)
            private_file(database)
    db.init_app(app)
    app.after_request(commit_request)
