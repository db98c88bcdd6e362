"""Keeping each server's search index true to the database.

A change writes a search_journal row in its own transaction (journal.py); each server's
one indexer follows the journal into its own index and keeps its cursor beside it
(follower.py). No request writes the index. `catch_up(app)` runs the indexer's own pass
until this server's index has every change committed before the call (commands, tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import get_debug_flag
from sqlalchemy import func, inspect, select, update
from werkzeug.serving import is_running_from_reloader

from casestudies.extensions import db
from casestudies.indexing import journal
from casestudies.indexing.documents import all_docs, case_to_doc, check_index, get_search_index, synonym_groups
from casestudies.indexing.follower import Follower, prune_journal, read_state
from casestudies.models import SearchJournal, SearchNode, utcnow
from search import SearchIndex

__all__ = [
    "Follower",
    "NodeStatus",
    "Progress",
    "all_docs",
    "case_to_doc",
    "catch_up",
    "check_index",
    "ensure_index",
    "get_follower",
    "get_search_index",
    "indexing_progress",
    "init_app",
    "prune_journal",
    "rebuild_index",
    "search_status",
    "start_follower",
    "start_follower_under_flask_run",
    "stop_follower",
    "synonym_groups",
]


def init_app(app: Flask) -> None:
    """Open this server's index and register the journal listeners. The indexer thread
    starts with the server (gunicorn.conf.py, or start_follower), not with every app."""
    app.extensions["search_index"] = SearchIndex(app.config["SEARCH_INDEX_DIR"])
    app.extensions["search_follower"] = Follower(app)
    journal.init_app()


def get_follower(app: Flask | None = None) -> Follower:
    app = app or current_app._get_current_object()
    return app.extensions["search_follower"]


def start_follower(app: Flask) -> None:
    """Start this process's indexer thread (it follows only while it holds the lock)."""
    get_follower(app).start()


def _serves_under_flask_run() -> bool:
    """Whether this process is the one `flask run` serves from: the command is `run`, and
    with the reloader (`--debug`) only its child process serves, not the watching parent."""
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run" or context.parent is None:
        return False
    reload = context.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or is_running_from_reloader()


def start_follower_under_flask_run(app: Flask) -> bool:
    """`flask run` (the development server) has no gunicorn.conf.py hooks: start this
    server's indexer here, as each gunicorn worker does, so two development servers on
    one database (two SEARCH_INDEX_DIRs) see each other's changes. True if started."""
    if app.testing or not _serves_under_flask_run():
        return False
    start_follower(app)
    logging.getLogger(__name__).info("search indexer started for %s", app.config["SEARCH_INDEX_DIR"])
    return True


def stop_follower(app: Flask) -> None:
    get_follower(app).stop()


def catch_up(app: Flask | None = None, timeout: float = 60.0) -> None:
    """Return once this server's index holds every change committed before the call."""
    get_follower(app).catch_up(timeout)


def _has_schema() -> bool:
    return inspect(db.engine).has_table(SearchJournal.__tablename__)


def ensure_index(app: Flask) -> None:
    """For commands that prepare this server (init-db, setup-demo): build a missing index
    and apply the journal, unless a running server's indexer does that already."""
    if not _has_schema():
        return  # no database yet: init-db will come first
    follower = get_follower(app)
    if follower.leads or follower.try_lead():
        try:
            follower.catch_up()
        finally:
            if follower._thread is None:
                follower.resign()


def rebuild_index(timeout: float = 3600.0, progress: Callable[[int], None] | None = None) -> int:
    """Ask this server's indexer to build a new index from the database and swap it in
    (searches keep working meanwhile), and wait for it. Run here when no server is
    running. Returns the number of cases in the index."""
    app = current_app._get_current_object()
    follower = get_follower(app)
    requested = utcnow()
    session = db.session
    if session.get(SearchNode, follower.name) is None:
        session.add(SearchNode(name=follower.name, index_dir=str(follower.directory)))
    session.execute(update(SearchNode).where(SearchNode.name == follower.name).values(rebuild_requested_at=requested))
    session.commit()
    deadline = time.monotonic() + timeout
    if follower.leads or follower.try_lead():
        follower.progress = progress
        try:
            follower.catch_up(timeout)
        finally:
            follower.progress = None
            if follower._thread is None:
                follower.resign()
    else:
        while True:
            session.expire_all()
            node = session.get(SearchNode, follower.name)
            if node is not None and node.last_rebuild_at is not None and node.last_rebuild_at >= requested:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the running indexer did not rebuild the index in time")
            session.rollback()
            time.sleep(0.2)
        session.rollback()
    return get_search_index().doc_count()


@dataclass(frozen=True)
class NodeStatus:
    name: str
    index_dir: str
    cursor: int
    lag_entries: int
    lag_seconds: float
    last_error: str | None
    last_error_at: datetime | None
    last_rebuild_at: datetime | None
    heartbeat_at: datetime | None
    rebuild_requested: bool


def search_status() -> tuple[int, list[NodeStatus]]:
    """The journal's newest entry and every server's indexer (search-status, admin page)."""
    newest = db.session.scalar(select(func.max(SearchJournal.id))) or 0
    nodes = db.session.scalars(select(SearchNode).order_by(SearchNode.name)).all()
    return newest, [
        NodeStatus(
            name=n.name,
            index_dir=n.index_dir,
            cursor=n.cursor,
            lag_entries=n.lag_entries,
            lag_seconds=n.lag_seconds,
            last_error=n.last_error,
            last_error_at=n.last_error_at,
            last_rebuild_at=n.last_rebuild_at,
            heartbeat_at=n.heartbeat_at,
            rebuild_requested=n.rebuild_requested_at is not None,
        )
        for n in nodes
    ]


@dataclass(frozen=True)
class Progress:
    pending: int  # journal entries this server has yet to apply
    oldest_seconds: float  # how long the oldest of them has waited


def indexing_progress() -> Progress:
    """How far this server's indexer is behind the journal, read live (the import page)."""
    follower = get_follower()
    state = read_state(follower.directory)
    cursor = state.cursor if state is not None else 0
    count, oldest = db.session.execute(
        select(func.count(), func.min(SearchJournal.created_at)).where(SearchJournal.id > cursor)
    ).one()
    waited = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return Progress(pending=int(count) + (len(state.gaps) if state else 0), oldest_seconds=max(waited, 0.0))
