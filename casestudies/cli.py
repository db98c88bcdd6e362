"""Command-line commands: thin wrappers over the same services the pages use."""

from __future__ import annotations

import contextlib
import functools
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from casestudies.accounts.services import AccountError, create_user
from casestudies.database import make_revision, upgrade_database
from casestudies.extensions import db
from casestudies.indexing import check_index, ensure_index, get_follower, rebuild_index, search_status
from casestudies.insights.cli import insights_cli
from casestudies.learning.collections import load_sample_collections
from casestudies.learning.notebook import reseal_everything
from casestudies.learning.sealing import (
    configured_keys,
    forget_cipher,
    new_key,
    reflection_key_file,
    write_reflection_key_file,
)
from casestudies.models import Case, Collection, Role, User
from casestudies.transfer.backup import BackupError, backup, restore
from casestudies.transfer.casefile import BundleError, bundle_names, read_bundle, read_bundle_batches
from casestudies.transfer.services import export_cases, import_cases

SAMPLE_DIR = Path(__file__).parent / "sample"
DEMO_DOMAIN = "every-seat.example"

F = TypeVar("F", bound=Callable[..., None])


def commits(command: F) -> F:
    """A command that changes data commits once, when it has done all its work; a command
    that fails (an exception, or sys.exit) commits nothing."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        command(*args, **kwargs)
        db.session.commit()

    return run


@click.command("init-db")
def init_db_command() -> None:
    """Create the database or apply pending migrations."""
    upgrade_database()
    ensure_index(current_app._get_current_object())
    click.echo("Database is up to date.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default=None, help="Display name (defaults to the part before @).")
@commits
def create_user_command(email: str, role: str, name: str | None) -> None:
    """Create an account; the password is prompted, or read from standard input."""
    try:
        user = create_user(email, role=Role(role), password=_read_password(), name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.value} {user.email}.")


IMPORT_BATCH_FILES = 1000  # a command-line import reads and writes this many files at a time


class _NoBar:
    def update(self, _steps: int) -> None:
        pass


@contextlib.contextmanager
def progress(length: int | None, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; nothing when the output goes to a file or a pipe."""
    if length and sys.stdout.isatty():
        with click.progressbar(length=length, label=label, file=sys.stdout) as bar:
            yield bar
    else:
        yield _NoBar()


@click.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="Validate and report; change nothing.")
@click.option(
    "--publish",
    is_flag=True,
    help="Keep files marked published published (recorded in the audit log); without it they arrive in review.",
)
@commits
def import_command(path: str, dry_run: bool, publish: bool) -> None:
    """Import a folder or a .zip of case files (all or nothing), of any size: a folder is
    read IMPORT_BATCH_FILES files at a time, every batch checked before any is written,
    then all written in one transaction. Files marked published arrive in review unless
    --publish is given."""
    counts = {"files": 0, "created": 0, "updated": 0, "unchanged": 0, "to_review": 0, "pending": 0, "published": 0}
    try:
        total = len(bundle_names(path)) if Path(path).is_dir() else None
        batched = total is not None and total > IMPORT_BATCH_FILES
        if batched:
            problems = []
            slugs: dict[str, str] = {}  # a slug used twice is refused across batches too
            with progress(total, "Checking") as bar:
                for files in read_bundle_batches(path, IMPORT_BATCH_FILES):
                    problems += import_cases(files, actor=None, dry_run=True, first_file_for_slug=slugs).problems
                    db.session.expunge_all()
                    bar.update(len(files))
            _refuse_if_problems(problems)
        with progress(total, "Would import" if dry_run else "Importing") as bar:
            for files in read_bundle_batches(path, IMPORT_BATCH_FILES):
                report = import_cases(files, actor=None, dry_run=dry_run, publish=publish, flag_duplicates=dry_run)
                _refuse_if_problems(report.problems)
                db.session.flush()
                db.session.expunge_all()  # flushed: written in the transaction, not kept in memory
                counts["files"] += report.file_count
                counts["created"] += len(report.created)
                counts["updated"] += len(report.updated)
                counts["unchanged"] += len(report.unchanged)
                counts["to_review"] += len(report.to_review)
                counts["pending"] += len(report.pending)
                counts["published"] += len(report.published)
                if dry_run:
                    for name, outcome in report.outcomes():
                        click.echo(f"{name}: {outcome}")
                    for name, cases in report.duplicates.items():
                        click.echo(f"{name}: possible duplicate of {'; '.join(cases)}")
                bar.update(len(files))
    except BundleError as exc:
        click.echo(f"{path}:0: {exc}", err=True)
        sys.exit(1)
    verb = "Would import" if dry_run else "Imported"
    click.echo(
        f"{verb} {counts['files']} file(s): {counts['created']} new, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged."
    )
    if counts["pending"]:
        click.echo(
            f"{counts['pending']} file(s) for live cases {'would wait' if dry_run else 'wait'} as pending changes "
            "in review: those cases stay live until another curator publishes the change."
        )
    if counts["published"]:
        click.echo(
            f"{counts['published']} live case(s) {'would be' if dry_run else 'were'} updated at once (--publish)."
        )
    if counts["to_review"]:
        click.echo(
            f"{counts['to_review']} file(s) marked published {'would arrive' if dry_run else 'arrived'} in review "
            "(give --publish to keep them published)."
        )
    if not dry_run and counts["created"] + counts["updated"] + counts["pending"] + counts["published"]:
        db.session.commit()
        # A running server's indexer follows the journal; with none running, this
        # server's index is brought up to date here, as init-db and setup-demo do.
        ensure_index(current_app._get_current_object())
        click.echo("Search follows the import; `flask --app app search-status` shows how far each server is.")


def _refuse_if_problems(problems: list[Any]) -> None:
    if not problems:
        return
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found; nothing was imported.", err=True)
    db.session.rollback()
    sys.exit(1)


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--slug", "slugs", multiple=True, help="Export only this case (repeatable).")
@commits  # the export is recorded in the audit log
def export_command(directory: str, slugs: tuple[str, ...]) -> None:
    """Write the library (or the named cases) as case files into DIRECTORY."""
    try:
        written = export_cases(directory, list(slugs) or None)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Exported {len(written)} case(s) to {directory}.")


@click.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index from the database (searches keep working meanwhile)."""
    total = db.session.scalar(select(func.count()).select_from(Case).where(Case.deleted_at.is_(None))) or 0
    with progress(total, "Indexing") as bar:
        count = rebuild_index(progress=bar.update)
    click.echo(f"Indexed {count} case(s).")


@click.command("search-status")
def search_status_command() -> None:
    """List each server's indexer: cursor, lag, last error, last rebuild."""
    newest, nodes = search_status()
    click.echo(f"Newest journal entry: {newest}")
    if not nodes:
        click.echo("No server has indexed yet.")
    for node in nodes:
        click.echo(f"{node.name}")
        click.echo(f"  index:        {node.index_dir}")
        click.echo(f"  cursor:       {node.cursor}")
        click.echo(f"  lag:          {node.lag_entries} entries, {node.lag_seconds:.1f} s")
        click.echo(f"  heartbeat:    {_when(node.heartbeat_at)}")
        requested = " (one requested)" if node.rebuild_requested else ""
        click.echo(f"  last rebuild: {_when(node.last_rebuild_at)}{requested}")
        error = f"{node.last_error} ({_when(node.last_error_at)})" if node.last_error else "none"
        click.echo(f"  last error:   {error}")


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else "never"


@click.command("search-follow")
def search_follow_command() -> None:
    """Run this server's search indexer in the foreground (as the server's thread does):
    it waits for the indexer lock, then follows the search journal until interrupted."""
    follower = get_follower(current_app._get_current_object())
    click.echo(f"Search indexer {follower.name}: following the journal (Ctrl+C to stop).")
    try:
        follower.run()
    except KeyboardInterrupt:
        follower.stop()


@click.command("search-check")
def search_check_command() -> None:
    """List every difference between the database and the search index."""
    report = check_index()
    for label, ids in (("missing", report.missing), ("stale", report.stale), ("extra", report.extra)):
        for case_id in ids:
            click.echo(f"{label}: case {case_id}")
    if not report.is_clean:
        click.echo("The search index differs from the database: run `flask --app app reindex`.", err=True)
        sys.exit(1)
    click.echo("Search index matches the database.")


@click.command("backup")
@click.argument("path", type=click.Path(file_okay=False))
def backup_command(path: str) -> None:
    """Write a consistent copy of the database and the case files into PATH (a new folder)."""
    try:
        with progress(100, "Copying the database") as bar:
            manifest = backup(path, progress=_percent(bar))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the database and {manifest['cases']} case file(s) to {path}.")


def _percent(bar: Any) -> Callable[[int, int, int], None]:
    """SQLite's backup progress (status, pages left, pages in all) as percent steps of bar."""
    done = [0]

    def step(_status: int, remaining: int, total: int) -> None:
        percent = 100 if total == 0 else (total - remaining) * 100 // total
        bar.update(percent - done[0])
        done[0] = percent

    return step


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: str, yes: bool) -> None:
    """Replace the database with a backup made by `backup`, then rebuild the search index."""
    if not yes and sys.stdin.isatty():
        click.confirm("This replaces every case, user and guide with the backup's. Continue?", abort=True)
    try:
        with progress(100, "Restoring the database") as bar:
            count = restore(path, progress=_percent(bar))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {path}; the search index was rebuilt with {count} case(s).")


@click.command("purge-bin")
@commits
def purge_bin_command() -> None:
    """Delete for good the cases that have been in the bin for more than 30 days."""
    from casestudies.curation.bin import purge_expired

    count = purge_expired()
    click.echo(f"Deleted {count} case(s) for good.")


@click.command("return-overdue")
@commits
def return_overdue_command() -> None:
    """With AUTO_RETURN_OVERDUE on, send published cases whose review date has passed back
    to review (meant for cron, daily)."""
    from casestudies.curation.overdue import auto_return_enabled, return_overdue_to_review

    if not auto_return_enabled():
        click.echo("AUTO_RETURN_OVERDUE is off: no case was moved.")
        return
    moved = return_overdue_to_review()
    click.echo(f"{len(moved)} case(s) went back to review: their review date had passed.")
    for case in moved:
        click.echo(f"  {case.slug} (review by {case.review_by})")


@click.command("prune")
@commits
def prune_command() -> None:
    """Delete audit events older than AUDIT_RETENTION_DAYS, the rows of sessions that
    ended or expired, and notifications read and older than NOTIFICATION_KEEP_READ_DAYS
    (meant for cron, daily)."""
    from casestudies.accounts.sessions import prune_sessions
    from casestudies.audit.services import prune_events
    from casestudies.notifications.services import prune_read

    events = prune_events()
    ended = prune_sessions()
    read = prune_read()
    click.echo(
        f"Deleted {events} audit event(s) older than the retention period, {ended} ended session(s) "
        f"and {read} read notification(s) older than {current_app.config['NOTIFICATION_KEEP_READ_DAYS']} days."
    )


@click.command("db-revision")
@click.argument("message")
def db_revision_command(message: str) -> None:
    """Developers: autogenerate a migration from the models."""
    make_revision(message)


def _demo_accounts_file() -> Path:
    return Path(current_app.instance_path) / "demo-accounts.txt"


@click.command("setup-demo")
@commits
def setup_demo_command() -> None:
    """Used by `make run`: migrate, load the sample library into an empty library,
    create one demo account per role (once) and print their sign-ins."""
    upgrade_database()
    ensure_index(current_app._get_current_object())
    if (db.session.scalar(select(func.count()).select_from(Case)) or 0) == 0:
        report = import_cases(read_bundle(SAMPLE_DIR), actor=None, publish=True)
        if not report.ok:
            for problem in report.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException("The sample library did not import.")
        click.echo(f"Loaded the sample library: {len(report.created)} cases.")
    if (db.session.scalar(select(func.count()).select_from(Collection)) or 0) == 0:
        created = load_sample_collections(SAMPLE_DIR / "collections.json")
        click.echo(f"Loaded the sample collections (themes): {created}.")
    # The notebook's key: generated into instance/reflection-keys the first time, unless
    # REFLECTION_KEYS is set.
    configured_keys(current_app._get_current_object())
    accounts = _demo_accounts_file()
    lines = accounts.read_text("utf-8").splitlines() if accounts.exists() else []
    known = {line.split()[1] for line in lines if line.strip()}
    for role in Role:
        email = f"{role.value}@{DEMO_DOMAIN}"
        if email in known:
            continue
        if db.session.scalar(select(User).where(User.email == email)) is not None:
            continue  # created earlier by hand: its password is not ours to print
        password = secrets.token_urlsafe(12)
        create_user(email, role=role, password=password, name=f"Demo {role.label.lower()}")
        lines.append(f"{role.value:<12} {email:<34} {password}")
    accounts.parent.mkdir(parents=True, exist_ok=True)
    accounts.write_text("\n".join(lines) + "\n", "utf-8")
    accounts.chmod(0o600)
    click.echo("Demo sign-ins (role, email, password):")
    for line in lines:
        click.echo(f"  {line}")


@click.command("rotate-reflection-key")
@click.option("--print-new-key", is_flag=True, help="Only print a new key (to put first in REFLECTION_KEYS).")
def rotate_reflection_key_command(print_new_key: bool) -> None:
    """Re-encrypt every reflection and CPD log entry under a new key. With the keys in
    instance/reflection-keys, a new key is made and the old ones are dropped once every row
    is re-encrypted; with REFLECTION_KEYS set, its first key is used (put a new one first,
    run this, then remove the old ones)."""
    app = current_app._get_current_object()
    if print_new_key:
        click.echo(new_key())
        return
    keys, source = configured_keys(app)
    if source == "file":
        # The new key goes first in the file before any row uses it, with the old keys kept
        # after it: a server reading the file meanwhile can open old and new rows alike.
        keys = [new_key(), *keys]
        write_reflection_key_file(reflection_key_file(app), keys)
    elif not keys:
        raise click.ClickException("No reflection keys are configured.")
    forget_cipher(app)
    count = reseal_everything(keys)
    db.session.commit()
    if source == "file":
        write_reflection_key_file(reflection_key_file(app), keys[:1])
        forget_cipher(app)
        click.echo(f"Re-encrypted {count} notebook entries under a new key; the old keys were removed.")
    else:
        click.echo(
            f"Re-encrypted {count} notebook entries under the first key of REFLECTION_KEYS; "
            "the other keys can now be removed from it."
        )


def init_app(app: Flask) -> None:
    from casestudies.background.cli import background_command

    for command in (
        background_command,
        init_db_command,
        create_user_command,
        import_command,
        export_command,
        reindex_command,
        search_check_command,
        search_status_command,
        search_follow_command,
        db_revision_command,
        setup_demo_command,
        backup_command,
        restore_command,
        purge_bin_command,
        rotate_reflection_key_command,
        return_overdue_command,
        prune_command,
        insights_cli,
    ):
        app.cli.add_command(command)
