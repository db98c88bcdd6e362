"""The one place for configuration: defaults in code, then environment variables,
then `instance/config.py`, then the dict a test passes to create_app()."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 - refused in production, see check_production_config

# Environment variables read by the app, the command line, `make run` and gunicorn alike.
ENV_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "SEARCH_INDEX_DIR",
    "SESSION_IDLE_HOURS",
    "EVERY_SEAT_ENV",
    "TRUSTED_PROXIES",
    "SEARCH_NODE_NAME",
    "SEARCH_JOURNAL_RETENTION_HOURS",
    "SERVER_NAME_LABEL",
    "ACADEMY_NAME",
    "TWO_PERSON_REVIEW",
)


def default_config(instance_path: str) -> dict[str, Any]:
    instance = Path(instance_path)
    return {
        "SECRET_KEY": DEFAULT_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{instance / 'every-seat.db'}",
        "SEARCH_INDEX_DIR": str(instance / "search-index"),
        "EVERY_SEAT_ENV": "development",
        "SESSION_IDLE_HOURS": 8,
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
        # Printed guides: the academy named on their covers; how long one PDF may take to
        # render (in a child process, killed after that: below gunicorn's 30 s worker
        # timeout); where rendered PDFs are kept, keyed by their content (default: beside
        # the search index).
        "ACADEMY_NAME": "NHS Leadership Academy",  # as the site footer names it
        "PDF_RENDER_SECONDS": 20.0,
        "PDF_CACHE_DIR": "",
    }


def environment_overrides(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name in ENV_SETTINGS:
        value = environ.get(name)
        if value:
            overrides[name] = value
    if "SESSION_IDLE_HOURS" in overrides:
        overrides["SESSION_IDLE_HOURS"] = float(overrides["SESSION_IDLE_HOURS"])
    if "SEARCH_JOURNAL_RETENTION_HOURS" in overrides:
        overrides["SEARCH_JOURNAL_RETENTION_HOURS"] = float(overrides["SEARCH_JOURNAL_RETENTION_HOURS"])
    if "TWO_PERSON_REVIEW" in overrides:
        switch = overrides["TWO_PERSON_REVIEW"].strip().lower()
        overrides["TWO_PERSON_REVIEW"] = switch not in ("0", "false", "no", "off")
    if "TRUSTED_PROXIES" in overrides:
        overrides["TRUSTED_PROXIES"] = int(overrides["TRUSTED_PROXIES"])
    return overrides


def finalise(config: dict[str, Any]) -> None:
    """Derive settings that follow from others, after every override has been applied."""
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(config["SESSION_IDLE_HOURS"]))
    if not config.get("PDF_CACHE_DIR"):
        config["PDF_CACHE_DIR"] = str(Path(config["SEARCH_INDEX_DIR"]).parent / "pdf-cache")
    if not config.get("SEARCH_NODE_NAME"):
        config["SEARCH_NODE_NAME"] = f"{socket.gethostname()}:{Path(config['SEARCH_INDEX_DIR']).resolve()}"
    production = config["EVERY_SEAT_ENV"] == "production"
    # Secure cookies whenever the app is served as production (behind HTTPS).
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


def check_production_config(config: dict[str, Any]) -> None:
    if config["EVERY_SEAT_ENV"] != "production":
        return
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("Refusing to start in production with the default SECRET_KEY: set SECRET_KEY.")
    if config["PASSWORD_HASH_METHOD"] != "scrypt":  # noqa: S105 - a method name, not a password
        raise RuntimeError("Refusing to start in production with a password hash other than scrypt.")
