"""Fixtures: an app per test (its own SQLite file and search index), a client per role,
factories, and a real browser against a live server."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing.rules import Rule
from werkzeug.serving import make_server
from whitenoise import WhiteNoise

from app import create_app
from casestudies.accounts.services import create_user
from casestudies.cases.revisions import save_case_data
from casestudies.database import upgrade_database
from casestudies.extensions import db
from casestudies.indexing import catch_up, start_follower, stop_follower
from casestudies.jobs import run_jobs, start_runner, stop_runner
from casestudies.models import Case, Role, User
from casestudies.transfer.casefile import CaseData, QuestionData

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
ROLES = [role.value for role in Role]


# Werkzeug compiles two URL builders per rule (Python source built as an AST, then
# compile()) each time an app registers its routes: most of create_app's time, paid by every
# test. A builder is a plain function of the rule's text, its parsed parts and its defaults
# (bound to its rule afterwards), so a process compiles each distinct one once.
_compile_builder = Rule._compile_builder
_builders: dict[tuple[Any, ...], Any] = {}


def _cached_compile_builder(self: Rule, append_unknown: bool = True) -> Any:
    defaults = self.defaults or {}
    resolved = tuple(
        self._converters[data].to_url(defaults[data])
        for is_dynamic, data in self._trace
        if is_dynamic and data in defaults
    )
    key = (self.rule, tuple(self._trace), tuple(defaults), resolved, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


Rule._compile_builder = _cached_compile_builder


class ProcessBytecodeCache(BytecodeCache):
    """Every test builds its own app, and so its own Jinja environment, which would parse
    and compile each template it renders again (most of a simple test's time). Compiled
    templates are kept for the process instead; Jinja checks each against its source's
    checksum, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = ProcessBytecodeCache()


# WhiteNoise reads every file under static/ (about 7,000 names with the compressed copies)
# for each app it wraps, a fortieth of a second per test. Within a run the built files don't
# change, so a process reads each folder once; the key holds what the headers depend on
# (the folder, the URL prefix and the values `web.init_static`'s header function closes over).
_update_files_dictionary = WhiteNoise.update_files_dictionary
_static_tables: dict[tuple[Any, ...], dict[str, Any]] = {}


def _cached_update_files_dictionary(self: WhiteNoise, root: str, prefix: str) -> None:
    headers = self.add_headers_function
    closure = tuple(cell.cell_contents for cell in getattr(headers, "__closure__", None) or ())
    key = (root, prefix, self.max_age, getattr(headers, "__code__", None), closure)
    table = _static_tables.get(key)
    if table is None:
        before = dict(self.files)
        _update_files_dictionary(self, root, prefix)
        table = _static_tables[key] = {url: f for url, f in self.files.items() if before.get(url) is not f}
    else:
        self.files.update(table)


WhiteNoise.update_files_dictionary = _cached_update_files_dictionary


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Tests write thousands of small files (a database and an index each) and SQLite syncs
    every commit: on a memory file system (/dev/shm, when it has room) that costs nothing,
    and nothing is left behind for the next run to delete. xdist's workers inherit the folder."""
    if config.option.basetemp or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    shm = Path("/dev/shm")
    try:
        roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 * 2**30
    except OSError:
        roomy = False
    if roomy:
        config.option.basetemp = tempfile.mkdtemp(prefix="every-seat-tests-", dir=shm)
        config._every_seat_basetemp = config.option.basetemp  # removed when the run ends


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_every_seat_basetemp", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# Set TEST_DATABASE_URL (a PostgreSQL URL whose user may create databases) to run the
# suite against PostgreSQL: each test then gets a database copied from a migrated template.
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
# TEST_DATABASE_PREFIX keeps two runs on one server apart (each drops its own databases).
PG_PREFIX = os.environ.get("TEST_DATABASE_PREFIX", "every_seat_test_")
PG_TEMPLATE = f"{PG_PREFIX}template"


def _pg_admin():
    from sqlalchemy import create_engine

    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _pg_drop_test_databases() -> None:
    from sqlalchemy import text

    engine = _pg_admin()
    with engine.connect() as connection:
        names = connection.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"), {"prefix": PG_PREFIX + "%"}
        ).all()
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    """Migrate once per run, then copy for each test: fast, and still the real Alembic
    schema rather than create_all(). A file for SQLite, a template database for PostgreSQL."""
    folder = tmp_path_factory.mktemp("template")
    if PG_URL:
        from sqlalchemy import text

        _pg_drop_test_databases()
        engine = _pg_admin()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{PG_TEMPLATE}"'))
        engine.dispose()
        url: str = _pg_url(PG_TEMPLATE)
    else:
        url = f"sqlite:///{folder / 'template.db'}"
    app = create_app({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(folder / "index"), "TESTING": True})
    with app.app_context():
        upgrade_database()
        db.engine.dispose()
    template: Path | str = PG_TEMPLATE if PG_URL else folder / "template.db"
    _build_empty_index(folder, template)
    yield template
    if PG_URL:
        _pg_drop_test_databases()


# An empty library's index and journal cursor, built once per run and copied for each test:
# what a new server's indexer builds first (about a quarter of a simple test's time).
EMPTY_INDEX: list[Path] = []


def _build_empty_index(folder: Path, template: Path | str) -> None:
    scratch = folder / "empty-index-db"
    scratch.mkdir()
    app = create_app(
        {
            "DATABASE_URL": _database_for_test(scratch, template),
            "SEARCH_INDEX_DIR": str(folder / "empty-index"),
            "TESTING": True,
        }
    )
    catch_up(app)
    with app.app_context():
        app.extensions["search_index"].close()
        db.engine.dispose()
    EMPTY_INDEX[:] = [folder / "empty-index"]


def _database_for_test(tmp_path: Path, template: Path | str) -> str:
    if PG_URL:
        import uuid

        from sqlalchemy import text

        name = f"{PG_PREFIX}{uuid.uuid4().hex[:12]}"
        engine = _pg_admin()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        engine.dispose()
        return _pg_url(name)
    db_path = tmp_path / "test.db"
    shutil.copy(template, db_path)
    return f"sqlite:///{db_path}"


class IsolatedClient(FlaskClient):
    """Each request runs in an app context of its own, as in production. Without this, the
    test's long-lived app context would share `g` (and Flask-Login's cached user) and the
    database session between requests, hiding bugs such as a session that never expires."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


TEST_REFLECTION_KEY = "y7Dqs9cM3TMo0v5a0kGqmqIGdSe8gUfn2FbvxFv9sNo="  # a Fernet key for tests only

# A cheap password hash keeps the suite fast; tests marked `scrypt` get the real one.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1000"


# A process started by a test answers Ctrl+C as from a terminal: SIGINT, SIGHUP and SIGQUIT
# back at their defaults first. A test process can be ignoring them when it starts a child
# (seen in long xdist runs: the children of a worker ignored all three), and a shell can
# neither trap nor reset a signal ignored when it starts.
DEFAULT_SIGNALS = [
    sys.executable,
    "-c",
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT): signal.signal(s, signal.SIG_DFL)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])",
]


def with_default_signals(command: list[str]) -> list[str]:
    return [*DEFAULT_SIGNALS, *command]


def make_test_app(
    tmp_path: Path, template: Path | str, *, index_template: Path | None = None, **overrides: Any
) -> Flask:
    config = {
        "TESTING": True,
        "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
        "DATABASE_URL": _database_for_test(tmp_path, template),
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "SECRET_KEY": "test-secret",
        # The reflection notebook's key; without it a test app would write instance/reflection-keys.
        "REFLECTION_KEYS": TEST_REFLECTION_KEY,
        **overrides,
    }
    index_dir = Path(config["SEARCH_INDEX_DIR"])
    index_template = index_template or (EMPTY_INDEX[0] if EMPTY_INDEX else None)
    if index_template is not None and not index_dir.exists():
        shutil.copytree(index_template, index_dir)
    app = create_app(config)
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE
    app.test_client_class = IsolatedClient
    catch_up(app)  # what the server's indexer does first: build the (empty) index
    return app


# The sample library (published and indexed), imported once per process and copied for each
# test that asks for it by the `sample_library` fixture, as the empty database and index are:
# importing and indexing it costs a couple of seconds of CPU a test.
@pytest.fixture(scope="session")
def sample_library_template(
    tmp_path_factory: pytest.TempPathFactory, migrated_db_template: Path | str
) -> tuple[Path | str, Path]:
    from sqlalchemy.engine import make_url

    from casestudies.cli import SAMPLE_DIR
    from casestudies.transfer.casefile import read_bundle
    from casestudies.transfer.services import import_cases

    folder = tmp_path_factory.mktemp("sample-library")
    app = make_test_app(folder, migrated_db_template)
    with app.app_context():
        report = import_cases(read_bundle(SAMPLE_DIR), actor=None, publish=True)
        assert report.ok, report.problems
        db.session.commit()
        url = app.config["DATABASE_URL"]
    catch_up(app)
    with app.app_context():
        db.session.remove()
        app.extensions["search_index"].close()
        db.engine.dispose()
    template: Path | str = make_url(url).database if PG_URL else folder / "test.db"
    return template, folder / "index"


@pytest.fixture
def sample_library() -> None:
    """Ask for this and the test's app (`app` or `live_server`) starts with the sample
    library published and indexed (no users: `ensure_user` makes them)."""


def _templates(request: pytest.FixtureRequest, migrated_db_template: Path | str) -> dict[str, Any]:
    if "sample_library" not in request.fixturenames:
        return {"template": migrated_db_template}
    template, index = request.getfixturevalue("sample_library_template")
    return {"template": template, "index_template": index}


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path, migrated_db_template: Path) -> Iterator[Flask]:
    method = "scrypt" if request.node.get_closest_marker("scrypt") else CHEAP_PASSWORD_HASH
    app = make_test_app(
        tmp_path,
        **_templates(request, migrated_db_template),
        WTF_CSRF_ENABLED=False,
        PASSWORD_HASH_METHOD=method,
    )
    with app.app_context():
        yield app
        db.session.remove()
        stop_follower(app)
        stop_runner(app)
        app.extensions["search_index"].close()
        db.engine.dispose()


@contextmanager
def app_context_for(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()
        stop_follower(app)
        stop_runner(app)
        app.extensions["search_index"].close()
        db.engine.dispose()


@pytest.fixture(scope="module")
def sample_app(
    tmp_path_factory: pytest.TempPathFactory, sample_library_template: tuple[Path | str, Path]
) -> Iterator[Flask]:
    """One app per test module with the sample library loaded, for tests that only read."""
    template, index = sample_library_template
    app = make_test_app(tmp_path_factory.mktemp("sample"), template, index_template=index, WTF_CSRF_ENABLED=False)
    with app_context_for(app):
        for role in ROLES:
            ensure_user(role)
        yield app


@pytest.fixture
def csrf_app(tmp_path: Path, migrated_db_template: Path) -> Iterator[Flask]:
    """An app with CSRF protection on, as in production."""
    app = make_test_app(tmp_path, migrated_db_template)
    with app.app_context():
        yield app
        db.session.remove()
        stop_follower(app)
        stop_runner(app)
        app.extensions["search_index"].close()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def ensure_user(role: str, *, email: str | None = None, active: bool = True) -> User:
    email = email or f"{role}@example.org"
    user = db.session.query(User).filter_by(email=email).one_or_none()
    if user is None:
        user = create_user(email, role=Role(role), password=PASSWORD, name=f"Test {role}")
        db.session.commit()
    if user.is_active != active:
        user.is_active = active
        db.session.commit()
    return user


class Auth:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, role: str) -> User:
        user = ensure_user(role)
        response = self.client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self) -> None:
        self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def login(app: Flask):
    """login(role) -> a new test client signed in with that role."""

    def _login(role: str) -> FlaskClient:
        client = app.test_client()
        Auth(client).login(role)
        return client

    return _login


def case_data(**overrides: Any) -> CaseData:
    values: dict[str, Any] = {
        "title": "A porter who changed the discharge lounge",
        "slug": "porter-discharge-lounge",
        "summary": "A porter notices patients waiting for hours and redesigns the lounge with them.",
        "seat": "Porter",
        "setting": "Acute hospital",
        "dimensions": ("Leading with care", "Engaging the team"),
        "tags": ("patient experience", "flow"),
        "questions": (
            QuestionData("What did the porter notice that others missed?"),
            QuestionData("How did he win over the ward sisters?", notes="Secret facilitator steer", minutes=10),
        ),
        "status": "published",
        "consent": "obtained",
        "body": "## The situation\n\nPatients waited for hours in the lounge.\n",
    }
    values.update(overrides)
    return CaseData(**values)


@pytest.fixture
def make_case(app: Flask):
    """make_case(**fields) -> a committed Case, once this server's indexer has applied it."""

    def _make(**overrides: Any) -> Case:
        case, _ = save_case_data(case_data(**overrides), actor=None)
        db.session.commit()
        catch_up(app)
        return case

    return _make


# -- browser -------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(request: pytest.FixtureRequest, tmp_path: Path, migrated_db_template: Path) -> Iterator[Flask]:
    """The app with CSRF on, served by a real HTTP server on 127.0.0.1 in a thread."""
    yield from serving(make_test_app(tmp_path, **_templates(request, migrated_db_template)))


def serving(app: Flask) -> Iterator[Flask]:
    """Serve app on a free 127.0.0.1 port in a thread (its URL in LIVE_URL), with its indexer,
    until the generator is closed."""
    start_follower(app)  # as the background process does (casestudies/background/)
    start_runner(app)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{port}"
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(5)
        stop_follower(app)
        stop_runner(app)
        with app.app_context():
            app.extensions["search_index"].close()
            db.engine.dispose()


@pytest.fixture
def page(playwright_browser: Any, live_server: Flask) -> Iterator[Any]:
    context = playwright_browser.new_context(base_url=live_server.config["LIVE_URL"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (from npm) in the page for WCAG 2.1 A and AA rules."""
    # Evaluated through the DevTools protocol rather than added as a <script>: the app's
    # Content-Security-Policy rightly refuses inline scripts, and stays on during the test.
    page.evaluate(AXE.read_text("utf-8") + "\n;true")
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


@pytest.fixture
def library(sample_library: None, live_server: Flask) -> Flask:
    """The live server with the sample library and a user per role."""
    with live_server.app_context():
        for role in ("learner", "facilitator", "curator", "admin"):
            ensure_user(role)
        ensure_user("curator", email="second-curator@example.org").name = "Second curator"
        db.session.commit()
        db.session.remove()
    return live_server


def sign_in(page, role: str = "learner", *, email: str | None = None) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email or f"{role}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


from .oidc_fixtures import oidc_provider  # noqa: E402, F401 - the OpenID provider the single sign-on tests start


def fetch_pdf(client: FlaskClient, url: str) -> Any:
    """GET a PDF's address as a browser would: a page following its render job, then (once
    this server's runner has done the job, here in this thread) the PDF itself. A PDF made
    already, or a refusal, is the first answer."""
    from flask import current_app

    first = client.get(url)
    if first.status_code != 200 or first.mimetype == "application/pdf":
        return first
    assert "data-app-job-status" in first.get_data(as_text=True)
    run_jobs(current_app._get_current_object())
    answer = client.get(url)
    if answer.status_code == 200 and answer.mimetype != "application/pdf":
        from casestudies.models.jobs import Job

        errors = [(job.id, job.state, job.error) for job in db.session.query(Job)]
        raise AssertionError(f"the PDF job did not finish: {errors}")
    return answer


from .smtp_fixtures import smtp_server, starttls_server  # noqa: E402, F401 - SMTP servers (aiosmtpd) for the mail tests
