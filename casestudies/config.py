"""The one place for configuration: defaults in code, then environment variables,
then `instance/config.py`, then the dict a test passes to create_app()."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

# Production refuses a shorter SECRET_KEY; `make run` makes one this long (see instance_secret).
MIN_SECRET_KEY_BYTES = 32
# ...and one with fewer different characters: "k" * 32 is long but guessable. Random hex
# of 32 bytes has about 16; a passphrase of 32 characters rarely fewer than 10.
MIN_SECRET_KEY_DISTINCT = 10
SECRET_KEY_FILE = "secret-key"  # noqa: S105 - a file name

# Environment variables read by the app, the command line, `make run` and gunicorn alike.
ENV_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "SEARCH_INDEX_DIR",
    "SESSION_IDLE_HOURS",
    "SESSION_MAX_DAYS",
    "AUDIT_RETENTION_DAYS",
    "EVERY_SEAT_ENV",
    "TRUSTED_PROXIES",
    "SEARCH_NODE_NAME",
    "SEARCH_JOURNAL_RETENTION_HOURS",
    "SERVER_NAME_LABEL",
    "ACADEMY_NAME",
    "TWO_PERSON_REVIEW",
    "REFLECTION_KEYS",
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_GROUPS_CLAIM",
    "OIDC_ROLE_GROUPS",
    "OIDC_CLOCK_SKEW_SECONDS",
    "OIDC_REQUIRE_VERIFIED_EMAIL",
    "LOCAL_LOGIN_ENABLED",
    "AUTO_RETURN_OVERDUE",
    "JOBS_DIR",
    "JOB_THREADS",
    "RENDER_CONCURRENCY",
    "SITE_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "MAIL_DIR",
    "MAIL_TLS_CA_FILE",
    "REVIEW_NOTICE_DAYS",
    "NOTIFICATION_KEEP_READ_DAYS",
    "GAP_MIN_SEARCHERS",
    "INSIGHTS_MAX_QUERIES_PER_DAY",
    "INSIGHTS_RAW_DAYS",
)


def default_config(instance_path: str) -> dict[str, Any]:
    instance = Path(instance_path)
    return {
        # None: from instance/secret-key, made on first run (see secret_key_for); production
        # refuses to start without one set.
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{instance / 'every-seat.db'}",
        "SEARCH_INDEX_DIR": str(instance / "search-index"),
        "EVERY_SEAT_ENV": "development",
        "SESSION_IDLE_HOURS": 8,
        # However busy, a session ends this long after sign-in (casestudies/accounts/sessions.py).
        "SESSION_MAX_DAYS": 7,
        # Audit events older than this are deleted by `flask prune` (default: two years).
        "AUDIT_RETENTION_DAYS": 730,
        "CASES_PER_PAGE": 10,
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; idle timeout ends both
        # How many proxies in front of the app set X-Forwarded-For/-Proto. 0: the headers
        # are ignored (anyone could send them), so throttling uses the connection's address.
        "TRUSTED_PROXIES": 0,
        # Werkzeug's method for new password hashes. scrypt is memory-hard; the test suite
        # may choose a cheap one for speed, production refuses anything else.
        "PASSWORD_HASH_METHOD": "scrypt",
        # This server's indexer (see casestudies/indexing/): its name in search_node
        # (default: host name and index folder), how often it polls the journal when no
        # PostgreSQL NOTIFY wakes it, how long it waits for a journal id that a slower
        # transaction took, and how long journal entries are kept for servers that lag.
        "SEARCH_NODE_NAME": "",
        "SEARCH_POLL_SECONDS": 0.1,
        "SEARCH_GAP_TIMEOUT_SECONDS": 60.0,
        "SEARCH_JOURNAL_RETENTION_HOURS": 24.0,
        # Sent as X-Served-By on every response when set, so that behind a load balancer
        # one can tell which server answered (the cluster demo names its two "a" and "b").
        "SERVER_NAME_LABEL": "",
        # The two-person rule: a curator can't publish a case whose current revision they
        # wrote or sent for review (an admin may override, with a recorded reason). Turn it
        # off (False, or TWO_PERSON_REVIEW=0) for a team of one.
        "TWO_PERSON_REVIEW": True,
        # Fernet keys of the reflection notebook, comma-separated, newest first; empty:
        # instance/reflection-keys, generated when first needed (casestudies/learning/sealing.py).
        "REFLECTION_KEYS": "",
        # Single sign-on with OpenID Connect (casestudies/accounts/oidc.py): on when
        # OIDC_ISSUER is set. OIDC_ROLE_GROUPS maps groups to roles:
        # "admin=grp-admins,curator=grp-curators,facilitator=grp-facilitators,learner=grp-staff".
        "OIDC_ISSUER": "",
        "OIDC_CLIENT_ID": "",
        "OIDC_CLIENT_SECRET": "",
        "OIDC_GROUPS_CLAIM": "groups",
        "OIDC_ROLE_GROUPS": "",
        "OIDC_CLOCK_SKEW_SECONDS": 60,
        # An account is made (or linked, or its address changed) only for an email address
        # the provider says is verified; switch off (0) for a provider that never sends
        # `email_verified` and verifies every address itself.
        "OIDC_REQUIRE_VERIFIED_EMAIL": True,
        # Sign-in with an email address and a password here; switch off (0) to allow
        # single sign-on only.
        "LOCAL_LOGIN_ENABLED": True,
        # Published cases whose review date has passed go back to review (when a curator
        # opens the dashboard, and by `flask return-overdue`). Off by default.
        "AUTO_RETURN_OVERDUE": False,
        # Printed guides: the academy named on their covers; how long one PDF may take to
        # render (in a child process, killed after that: below gunicorn's 30 s worker
        # timeout); where rendered PDFs are kept, keyed by their content (default: beside
        # the search index).
        "ACADEMY_NAME": "NHS Leadership Academy",  # as the site footer names it
        "PDF_RENDER_SECONDS": 20.0,
        "PDF_CACHE_DIR": "",
        # The background process keeps one PDF renderer started (WeasyPrint imported, the
        # stylesheet parsed) so a first PDF doesn't wait for a new Python process.
        "PDF_WARM_RENDERER": True,
        # Jobs (casestudies/jobs/): this server's folder for its runner's lock (default:
        # beside the search index), how many jobs it runs at once, how many of those may
        # be PDF renders, how long a claimed job's lease lasts without a heartbeat (a
        # runner that dies loses its jobs to another after this), how often an idle runner
        # looks for work, and the first wait before a failed job is tried again (doubled
        # after each failure).
        "JOBS_DIR": "",
        "JOB_THREADS": 2,
        "RENDER_CONCURRENCY": 1,
        "JOB_LEASE_SECONDS": 60.0,
        "JOB_POLL_SECONDS": 0.5,
        "JOB_RETRY_BASE_SECONDS": 30.0,
        # Finished jobs (a PDF's result among them) are deleted after this many days;
        # failed and refused ones (a refused PDF is remembered that long) after this many.
        "JOB_KEEP_FINISHED_DAYS": 7.0,
        "JOB_KEEP_FAILED_DAYS": 30.0,
        # Email (casestudies/mail/): the site's address for links in messages (production
        # must set it when MAIL_SERVER is set; else links take the request's address). With
        # MAIL_SERVER set, mail goes over SMTP: STARTTLS on MAIL_PORT (MAIL_USE_TLS) or TLS
        # from the start (MAIL_USE_SSL, usually port 465), signing in when a user is set.
        # Without it, each message is written to a file in MAIL_DIR (default instance/mail/).
        # A message is tried MAIL_MAX_ATTEMPTS times, waits doubling from JOB_RETRY_BASE_SECONDS.
        "SITE_URL": "",
        "MAIL_SERVER": "",
        "MAIL_PORT": 587,
        "MAIL_USE_TLS": True,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_DEFAULT_SENDER": "Every Seat <every-seat@localhost>",
        "MAIL_TIMEOUT": 30.0,
        "MAIL_DIR": "",
        "MAIL_MAX_ATTEMPTS": 12,
        # The certificate authorities trusted for the SMTP server's certificate (a PEM
        # file); empty: the system's.
        "MAIL_TLS_CA_FILE": "",
        # Curators are told once when a published case's review date is this many days away
        # or nearer, and once when it has passed (`flask notifications send-due`).
        "REVIEW_NOTICE_DAYS": 7,
        # `flask prune` deletes notifications read and made more than this many days ago.
        "NOTIFICATION_KEEP_READ_DAYS": 90,
        # Curators' insights (casestudies/insights/): a query is shown once this many
        # different people searched it on one day; a day keeps at most this many different
        # queries (more count together); daily rows older than INSIGHTS_RAW_DAYS are
        # merged into monthly ones by `flask insights aggregate`.
        "GAP_MIN_SEARCHERS": 2,
        "INSIGHTS_MAX_QUERIES_PER_DAY": 2000,
        "INSIGHTS_RAW_DAYS": 90,
    }


def environment_overrides(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name in ENV_SETTINGS:
        value = environ.get(name)
        if value:
            overrides[name] = value
    for name in ("SESSION_IDLE_HOURS", "SESSION_MAX_DAYS"):
        if name in overrides:
            overrides[name] = float(overrides[name])
    for name in ("AUDIT_RETENTION_DAYS", "REVIEW_NOTICE_DAYS", "NOTIFICATION_KEEP_READ_DAYS"):
        if name in overrides:
            overrides[name] = int(overrides[name])
    if "SEARCH_JOURNAL_RETENTION_HOURS" in overrides:
        overrides["SEARCH_JOURNAL_RETENTION_HOURS"] = float(overrides["SEARCH_JOURNAL_RETENTION_HOURS"])
    for name in SWITCHES:
        if name in overrides:
            overrides[name] = switch_value(name, overrides[name])
    if "OIDC_CLOCK_SKEW_SECONDS" in overrides:
        overrides["OIDC_CLOCK_SKEW_SECONDS"] = int(overrides["OIDC_CLOCK_SKEW_SECONDS"])
    for name in (
        "TRUSTED_PROXIES",
        "JOB_THREADS",
        "RENDER_CONCURRENCY",
        "MAIL_PORT",
        "GAP_MIN_SEARCHERS",
        "INSIGHTS_MAX_QUERIES_PER_DAY",
        "INSIGHTS_RAW_DAYS",
    ):
        if name in overrides:
            overrides[name] = int(overrides[name])
    return overrides


# Settings that are on or off, read from the environment as 1/0, true/false, yes/no, on/off.
SWITCHES = (
    "TWO_PERSON_REVIEW",
    "LOCAL_LOGIN_ENABLED",
    "AUTO_RETURN_OVERDUE",
    "OIDC_REQUIRE_VERIFIED_EMAIL",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
)


def switch_value(name: str, text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name} must be on or off (1/0, true/false, yes/no, on/off), not {text!r}.")


def finalise(config: dict[str, Any]) -> None:
    """Derive settings that follow from others, after every override has been applied."""
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(config["SESSION_IDLE_HOURS"]))
    if not config.get("PDF_CACHE_DIR"):
        config["PDF_CACHE_DIR"] = str(Path(config["SEARCH_INDEX_DIR"]).parent / "pdf-cache")
    if not config.get("MAIL_DIR"):
        config["MAIL_DIR"] = str(Path(config["SEARCH_INDEX_DIR"]).parent / "mail")
    if not config.get("SEARCH_NODE_NAME"):
        config["SEARCH_NODE_NAME"] = f"{socket.gethostname()}:{Path(config['SEARCH_INDEX_DIR']).resolve()}"
    production = config["EVERY_SEAT_ENV"] == "production"
    # Secure cookies whenever the app is served as production (behind HTTPS).
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


def private_folder(path: str | Path) -> Path:
    """Create a folder readable by its owner only (0700), with its parents."""
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def private_file(path: str | Path) -> Path:
    """Create an empty file readable by its owner only (0600), unless it exists. SQLite gives
    a database's journal and WAL files the database file's own permissions."""
    file = Path(path)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return file


def make_private(*paths: str | Path) -> list[str]:
    """Take group and other permissions off each path that exists and, for a folder, off
    everything in it: files an earlier release made under instance/ (a 0644 database, say)
    become owner-only like new ones. Returns what changed, "<path> 0644 -> 0600", for the log."""
    changed = []
    for root in paths:
        top = Path(root)
        if not top.exists() or top.is_symlink():
            continue
        found = [top, *top.rglob("*")] if top.is_dir() else [top]
        for path in found:
            if path.is_symlink():
                continue
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                path.chmod(mode & 0o700)
                changed.append(f"{path} {mode:04o} -> {mode & 0o700:04o}")
    return changed


def make_data_private(app: Flask) -> None:
    """At start-up: the instance folder, the SQLite database and the search index are the
    owner's only (make_private), whichever release made them; each change is logged once."""
    paths: list[str | Path] = [app.instance_path, app.config["SEARCH_INDEX_DIR"], app.config["PDF_CACHE_DIR"]]
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        database = uri.removeprefix("sqlite:///")
        paths += [database, f"{database}-wal", f"{database}-shm"]
    for change in make_private(*paths):
        logging.getLogger(__name__).warning("made owner-only: %s", change)


def instance_secret_file(app: Flask, filename: str, make: Callable[[], str]) -> Path:
    """A file of secrets in the app's instance folder, holding make()'s text when it is first
    needed. The folder is 0700 and the file 0600. Several processes starting at once agree
    on one secret: it is written to a temporary file, then linked into place only if no
    other process got there first."""
    folder = private_folder(app.instance_path)
    path = folder / filename
    if not path.exists():
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{filename}.")  # 0600
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(make() + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(temporary)
    return path


def instance_secret(app: Flask, filename: str, nbytes: int) -> str:
    """A random secret (hex of `nbytes` random bytes) kept in the app's instance folder:
    made on first use, the same afterwards."""
    path = instance_secret_file(app, filename, lambda: secrets.token_hex(nbytes))
    secret = path.read_text("ascii").strip()
    if len(secret) < 2 * nbytes:
        raise RuntimeError(f"{path} holds a secret shorter than {nbytes} bytes: delete it to make a new one.")
    return secret


def secret_key_for(app: Flask, *, from_test: bool) -> None:
    """SECRET_KEY when none was set: a throwaway one for a test app, else the instance
    folder's (made on first run). Production must set its own (the same on every server)."""
    if app.config.get("SECRET_KEY") or app.config["EVERY_SEAT_ENV"] == "production":
        return
    if from_test:
        app.config["SECRET_KEY"] = secrets.token_hex(MIN_SECRET_KEY_BYTES)
    else:
        app.config["SECRET_KEY"] = instance_secret(app, SECRET_KEY_FILE, MIN_SECRET_KEY_BYTES)


def check_production_config(config: dict[str, Any]) -> None:
    if config["EVERY_SEAT_ENV"] != "production":
        return
    key = config.get("SECRET_KEY") or ""
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_SECRET_KEY_BYTES or len(set(raw)) < MIN_SECRET_KEY_DISTINCT:
        raise RuntimeError(
            f"Refusing to start in production without a SECRET_KEY of at least {MIN_SECRET_KEY_BYTES} bytes "
            f"and {MIN_SECRET_KEY_DISTINCT} different characters: "
            "set SECRET_KEY (the same on every server), e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    if config["MAIL_SERVER"] and not config["SITE_URL"]:
        raise RuntimeError(
            "Refusing to send mail in production without SITE_URL (the site's address, e.g. "
            "https://every-seat.example.org): links in messages are built from it, never from a request."
        )
    if config["PASSWORD_HASH_METHOD"] != "scrypt":  # noqa: S105 - a method name, not a password
        raise RuntimeError("Refusing to start in production with a password hash other than scrypt.")
