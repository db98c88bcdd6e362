"""The secret key made on first run, files readable by their owner only, and what
production sends: HSTS, and no server software in the Server header."""

from __future__ import annotations

import os
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from casestudies.config import SECRET_KEY_FILE, instance_secret

from .conftest import ROOT, TEST_REFLECTION_KEY, _database_for_test, _free_port, make_test_app


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_instance_secret_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    first = instance_secret(app, "some-key", 32)
    assert len(first) == 64 and int(first, 16)
    assert instance_secret(app, "some-key", 32) == first  # the same on the next run
    assert _mode(tmp_path / "instance") == 0o700 and _mode(tmp_path / "instance" / "some-key") == 0o600
    assert instance_secret(app, "other-key", 32) != first
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == ["other-key", "some-key"]  # no leftovers


def test_a_too_short_instance_secret_is_refused(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    (tmp_path / "short").write_text("abcd\n")
    with pytest.raises(RuntimeError, match="shorter than 32 bytes"):
        instance_secret(app, "short", 32)


def test_the_app_makes_its_secret_key_on_first_run_and_keeps_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EVERY_SEAT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'instance' / 'every-seat.db'}")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "instance" / "index"))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app()
    key_file = tmp_path / "instance" / SECRET_KEY_FILE
    assert first.config["SECRET_KEY"] == key_file.read_text().strip() and len(first.config["SECRET_KEY"]) == 64
    assert _mode(key_file) == 0o600 and _mode(tmp_path / "instance") == 0o700
    assert create_app().config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert _mode(tmp_path / "instance" / "every-seat.db") == 0o600  # created by the app, not by SQLite


def test_files_an_earlier_release_left_readable_become_owner_only_at_start_up(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    # An earlier release made the database 0644 and the index folder 0755; they stayed so.
    instance = tmp_path / "instance"
    (instance / "index").mkdir(parents=True)
    database = instance / "every-seat.db"
    database.write_bytes(b"")
    (instance / "index" / "seg.toc").write_bytes(b"x")
    for path, mode in (
        (instance, 0o755),
        (database, 0o644),
        (instance / "index", 0o755),
        (instance / "index" / "seg.toc", 0o644),
    ):
        path.chmod(mode)
    monkeypatch.setenv("EVERY_SEAT_INSTANCE", str(instance))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(instance / "index"))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    create_app()
    assert _mode(instance) == 0o700 and _mode(instance / "index") == 0o700
    assert _mode(database) == 0o600 and _mode(instance / "index" / "seg.toc") == 0o600
    assert f"made owner-only: {database} 0644 -> 0600" in caplog.text


@pytest.mark.parametrize("key", [None, "", "x" * 31, "dev-only-secret-change-me"])
def test_production_refuses_a_missing_or_short_secret_key(tmp_path: Path, key: str | None) -> None:
    config = {"EVERY_SEAT_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    with pytest.raises(RuntimeError, match="SECRET_KEY of at least 32 bytes"):
        create_app({**config, "SEARCH_INDEX_DIR": str(tmp_path / "ix"), "SECRET_KEY": key})


def test_production_accepts_a_32_byte_secret_key(tmp_path: Path) -> None:
    config = {
        "EVERY_SEAT_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "SECRET_KEY": "a varied production key, 32+ bytes long!",
    }
    config["REFLECTION_KEYS"] = TEST_REFLECTION_KEY  # production also needs the notebook's keys
    assert (
        create_app({**config, "SEARCH_INDEX_DIR": str(tmp_path / "ix")}).config["SECRET_KEY"]
        == "a varied production key, 32+ bytes long!"
    )


def test_production_sends_hsts_and_development_does_not(tmp_path: Path, migrated_db_template) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "d").mkdir()
    production = make_test_app(
        tmp_path / "p",
        migrated_db_template,
        EVERY_SEAT_ENV="production",
        PASSWORD_HASH_METHOD="scrypt",
        SECRET_KEY="a varied production key, 32+ bytes long!",
    )
    development = make_test_app(tmp_path / "d", migrated_db_template)
    with production.app_context():
        hsts = production.test_client().get("/login").headers.get("Strict-Transport-Security", "")
    with development.app_context():
        assert "Strict-Transport-Security" not in development.test_client().get("/login").headers
    assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000


@pytest.mark.sqlite_only  # backup uses SQLite's online backup
def test_a_backup_is_readable_by_its_owner_only(app: Flask, tmp_path: Path) -> None:
    from casestudies.transfer.backup import DATABASE_FILE, backup

    backup(tmp_path / "backup")
    assert _mode(tmp_path / "backup") == 0o700 and _mode(tmp_path / "backup" / DATABASE_FILE) == 0o600


@pytest.mark.slow
def test_gunicorn_as_make_run_starts_it_announces_no_server_software(tmp_path: Path, migrated_db_template) -> None:
    from .test_results_first import _make_run_gunicorn_command

    tmp_path.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_for_test(tmp_path, migrated_db_template),
        "SEARCH_INDEX_DIR": str(tmp_path / "instance" / "index"),
        "EVERY_SEAT_INSTANCE": str(tmp_path / "instance"),
    }
    env.pop("SECRET_KEY", None)
    server = subprocess.Popen(
        _make_run_gunicorn_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    headers = response.headers
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
    finally:
        server.terminate()
        server.wait(10)
    assert "gunicorn" not in (headers.get("Server") or "").lower()
    assert _mode(tmp_path / "instance" / SECRET_KEY_FILE) == 0o600
    index_files = [p for p in (tmp_path / "instance" / "index").rglob("*") if p.is_file()]
    assert index_files and all(_mode(p) & 0o077 == 0 for p in index_files)  # the umask the server sets
