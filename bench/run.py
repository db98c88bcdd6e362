"""The benchmark: `make bench` (N = 1,000 and 10,000) and `make bench-large` (adds 50,000).

    .venv/bin/python -m bench.run --sizes 1000 10000 [--seed S] [--keep] [--profile]

For each N, in a temporary directory of its own (SQLite database, search index, instance
folder; `instance/` is never touched), each step in a fresh process so that one step's
memory does not count against another's:

1. import: generate N cases (bench/generate.py) and import them through the app's import
   service, `import_cases` (database, then the search index after the commit): cases per
   second, wall time, peak resident memory of the process (VmHWM);
2. fts5: the same cases in a plain SQLite FTS5 index (bench/fts5.py), and the same 500
   queries against it, in process;
3. the app under gunicorn (2 workers, 127.0.0.1, a free port): the 500 queries over HTTP as
   a signed-in learner, one at a time, each fetching the whole results page;
4. edits: 50 single edits through `save_case_data` + commit, each timed from the start of
   the save until a search over HTTP finds the new word; also the 500 queries through the
   search service in process (no HTTP, no template), for comparison;
5. throughput: 16 client threads for 30 s against the same server, then the resident
   memory of each worker;
6. the fair baseline, all along: the same app with the FTS5 index of step 2 as its search
   engine (bench/fts5_app.py: same views, database rows, visibility, template, gunicorn
   command and settings; only the engine differs) on another port, warmed up alike. In
   step 3 each query goes to the app and to the baseline in turn (one request in flight at
   a time); after step 5, the same 16-client throughput traffic against it. The ratios app
   / FTS5 over HTTP are the fair comparison; the in-process FTS5 figures of step 2 stay,
   for what the engine alone costs.
7. another server: a second gunicorn (B) on the same database with its own
   SEARCH_INDEX_DIR and TMPDIR, as a second app server would be, builds its index from
   the database; then 50 edits, each saved and committed as in step 4 by a process set up
   as the first server (A), timed until a search over HTTP on B finds the new word.

Prints one table and writes bench/results.json. Load goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from math import ceil
from pathlib import Path

from .client import AppClient
from .generate import SEED, generate_cases, load_corpus, to_bundle
from .insights import phase_insights
from .queries import Query, make_queries

ROOT = Path(__file__).resolve().parent.parent
RESULTS_FILE = ROOT / "bench" / "results.json"
PROFILE_DIR = ROOT / "bench" / "data" / "profiles"
LEARNER_EMAIL = "learner@bench.example"
QUERY_COUNT = 500
THROUGHPUT_QUERIES = 8000
WARMUP_QUERIES = 40
EDIT_COUNT = 50
EDIT_DEADLINE_S = 30.0
CLIENTS = 16
THROUGHPUT_S = 30.0
WORKERS = 2
START_DEADLINE_S = 180.0
# A worker's first search opens the searcher and builds its caches: at 50,000 cases on a
# loaded machine that can pass gunicorn's default 30 s, which would kill the worker and start
# over. All three servers get the same setting; it changes nothing for requests that finish.
WORKER_TIMEOUT_S = 300
# Seconds per case allowed for indexing the whole library: the import's indexer, and server
# B's rebuild from the database (a single writer; about 10 min at 10,000 under load).
INDEX_S_PER_CASE = 0.25
SECRET_KEY = secrets.token_hex(16)  # one per benchmark run, shared by gunicorn and the phases

# The targets, at N = 10,000 unless the key says otherwise: (key, limit, kind).
TARGETS = {
    "search_p50_ms": 25,
    "search_p95_ms": 60,
    "ratio_p95": 2.0,
    "ratio_http_p95": 1.5,
    "throughput_rps": 40,
    "errors": 0,
    "import_cases_per_s": 100,
    "import_peak_mb": 1024,
    "edit_searchable_p95_ms": 1000,
    "cross_node_edit_p95_ms": 2000,
    "worker_rss_mb": 250,
    "insights_p95_ms": 300,
}
# Issue 29: against the minimal FTS5 page (bench/bare_fts5.py) in the same run, at both sizes,
# and ahead of the FTS5 page served by the app (a ratio app / that page of at most 1, or at
# least 1 for throughput).
BARE_TARGETS = {
    "ratio_bare_http_p50": 2.0,
    "ratio_bare_http_p95": 2.0,
    "ratio_bare_http_rps": 0.5,
    "ratio_http_p50": 1.0,
    "ratio_http_p95": 1.0,
    "ratio_http_rps": 1.0,
}
TARGETS.update(BARE_TARGETS)
AT_LEAST = {"throughput_rps", "import_cases_per_s", "ratio_http_rps", "ratio_bare_http_rps"}
TARGETS_1000 = {"search_p95_ms": 25, **BARE_TARGETS}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "p99": round(percentile(values, 99), 1),
    }


def proc_status_mb(field: str, pid: int | str = "self") -> float:
    """A memory figure from /proc/PID/status (VmRSS, VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(field)


def size_mb(*paths: Path) -> float:
    """Files, or everything under folders, that exist among paths, in MB."""
    files = [f for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return round(sum(f.stat().st_size for f in files) / 2**20, 1)


def app_env(workdir: Path) -> dict[str, str]:
    """The environment that points the app (a phase process or gunicorn) at workdir."""
    env = dict(os.environ)
    env.update(
        EVERY_SEAT_INSTANCE=str(workdir / "instance"),
        DATABASE_URL=f"sqlite:///{workdir / 'library.db'}",
        SEARCH_INDEX_DIR=str(workdir / "search-index"),
        EVERY_SEAT_ENV="development",
        SECRET_KEY=SECRET_KEY,
    )
    return env


def learner_password(workdir: Path) -> str:
    return (workdir / "learner-password").read_text().strip()


@contextmanager
def profiled(name: str, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(PROFILE_DIR / f"{name}.prof")
        log(f"profile written to {PROFILE_DIR / name}.prof")


# -- phases: each runs in a fresh process (python -m bench.run --phase NAME) -----------------
def phase_import(workdir: Path, n: int, seed: int, profile: bool) -> dict[str, object]:
    from sqlalchemy import func, select

    from app import create_app
    from casestudies.accounts.services import create_user
    from casestudies.database import upgrade_database
    from casestudies.extensions import db
    from casestudies.indexing import catch_up, ensure_index, get_search_index
    from casestudies.models import Role, SearchJournal
    from casestudies.transfer.services import import_cases

    corpus = load_corpus()
    cases = generate_cases(n, seed, corpus)
    queries = make_queries(corpus, cases, seed, QUERY_COUNT)
    (workdir / "queries.json").write_text(json.dumps([q.to_json() for q in queries]))
    # Warm-up queries of the same mix but another seed: the app keeps what it worked out
    # for a query while the index is unchanged, so warming up with measured queries would
    # flatter it.
    warmup = make_queries(corpus, cases, seed + 1, WARMUP_QUERIES * 4)
    (workdir / "warmup.json").write_text(json.dumps([q.to_json() for q in warmup]))
    # Throughput traffic of its own too, more than 16 clients send in 30 s, so that a
    # query comes again only as often as the mix itself repeats it.
    traffic = make_queries(corpus, cases, seed + 2, THROUGHPUT_QUERIES)
    (workdir / "throughput.json").write_text(json.dumps([q.to_json() for q in traffic]))
    body_words = statistics.mean(len(case.body.split()) for case in cases)
    files = to_bundle(cases)
    del cases
    app = create_app()
    with app.app_context():
        upgrade_database()
        ensure_index(app)  # what `flask init-db` does: an empty index
        gc.collect()
        rss_before = proc_status_mb("VmRSS")
        start = time.perf_counter()
        with profiled(f"import-{n}", profile):
            report = import_cases(files, actor=None, publish=True)
            # Services leave the commit to their caller (as a request's one commit); this
            # server's indexer then follows the journal: searchable is when it has caught up.
            db.session.commit()
            committed = time.perf_counter() - start
            catch_up(app, timeout=max(3600.0, n * INDEX_S_PER_CASE))
        wall = time.perf_counter() - start
        peak = proc_status_mb("VmHWM")
        if not report.ok or len(report.created) != n:
            raise SystemExit(f"import failed: {[str(p) for p in report.problems[:5]]}")
        indexed = get_search_index().doc_count()
        journal = db.session.scalar(select(func.count()).select_from(SearchJournal)) or 0
        password = secrets.token_urlsafe(18)
        create_user(LEARNER_EMAIL, role=Role.LEARNER, password=password)
        db.session.commit()
        (workdir / "learner-password").write_text(password)
        db.engine.dispose()
    return {
        "cases": n,
        "body_words_mean": round(body_words),
        "import_wall_s": round(wall, 1),
        "import_cases_per_s": round(n / wall, 1),
        "import_peak_mb": peak,
        "import_rss_before_mb": rss_before,
        "indexed_after_import": indexed,
        "journal_rows_after_import": journal,
        "import_commit_s": round(committed, 1),
        "import_searchable_s": round(wall, 1),
        "db_mb": size_mb(workdir / "library.db", workdir / "library.db-wal"),
        "index_mb": size_mb(workdir / "search-index"),
    }


def load_queries(workdir: Path, name: str = "queries") -> list[Query]:
    return [Query.from_json(q) for q in json.loads((workdir / f"{name}.json").read_text())]


def by_kind(queries: list[Query], timings: list[float]) -> dict[str, dict[str, float]]:
    kinds: dict[str, list[float]] = {}
    for query, ms in zip(queries, timings, strict=True):
        kinds.setdefault(query.kind, []).append(ms)
    return {kind: summary(values) for kind, values in kinds.items()}


def phase_fts5(workdir: Path, n: int, seed: int, profile: bool) -> dict[str, object]:
    from .fts5 import Fts5Library

    cases = generate_cases(n, seed)
    library = Fts5Library(workdir / "fts5.db")
    start = time.perf_counter()
    library.build(cases)
    build_s = time.perf_counter() - start
    queries = load_queries(workdir)
    for query in load_queries(workdir, "warmup")[:WARMUP_QUERIES]:
        library.search(query)
    timings = []
    for query in queries:
        start = time.perf_counter()
        library.search(query)
        timings.append((time.perf_counter() - start) * 1000)
    library.close()
    stats = summary(timings)
    return {
        "fts5_build_cases_per_s": round(n / build_s, 1),
        "fts5_p50_ms": stats["p50"],
        "fts5_p95_ms": stats["p95"],
        "fts5_p99_ms": stats["p99"],
        "fts5_by_kind": by_kind(queries, timings),
    }


def edit_word(number: int) -> str:
    """A word found nowhere else: letters only, so it is analysed like any other word."""
    letters = ""
    number += 26 * 26
    while number:
        number, rest = divmod(number, 26)
        letters = chr(ord("a") + rest) + letters
    return f"zebedit{letters}"


def timed_edits(client: AppClient, seed: int, name: str, first_word: int) -> tuple[list[float], list[float], int]:
    """EDIT_COUNT edits of published cases, one at a time, each saved through
    `save_case_data` and committed (as a curator's request does), each timed from the start
    of the save until a search over HTTP through client finds the word it added. In an app
    context. Returns (ms until searchable, ms until committed, how many were never found)."""
    from sqlalchemy import select

    from casestudies.cases.revisions import case_to_data, save_case_data
    from casestudies.extensions import db
    from casestudies.models import Case

    ids = list(db.session.scalars(select(Case.id).where(Case.status == "published").order_by(Case.id)))
    chosen = random.Random(f"{seed}:{name}").sample(ids, EDIT_COUNT)
    searchable: list[float] = []
    committed: list[float] = []
    failures = 0
    for number, case_id in enumerate(chosen, start=first_word):
        case = db.session.get(Case, case_id)
        assert case is not None
        word = edit_word(number)
        data = case_to_data(case)
        edited = replace(data, body=data.body.rstrip() + f"\n\nLater, the team called it the {word} plan.\n")
        link = f"/cases/{case.slug}".encode()
        start = time.perf_counter()
        # A published case's text changes when a reviewed change is published (a plain save
        # waits as a pending change, which search doesn't see): direct, as publishing is.
        save_case_data(edited, actor=None, case=case, summary="Benchmark edit", direct=True)
        db.session.commit()  # the journal entry commits with the edit; indexers follow it
        committed.append((time.perf_counter() - start) * 1000)
        found = False
        while time.perf_counter() - start < EDIT_DEADLINE_S:
            status, page = client.get(f"/search?q={word}")
            if status == 200 and link in page:
                found = True
                break
        searchable.append((time.perf_counter() - start) * 1000)
        failures += not found
        time.sleep(0.2)  # edits come one at a time, not in a burst
    return searchable, committed, failures


def phase_edits(workdir: Path, n: int, seed: int, profile: bool, port: int) -> dict[str, object]:
    from sqlalchemy import select

    from app import create_app
    from casestudies.extensions import db
    from casestudies.library.services import LibraryFilters, search_cases
    from casestudies.models import User

    client = AppClient(port)
    client.login(LEARNER_EMAIL, learner_password(workdir))
    queries = load_queries(workdir)
    app = create_app()
    with app.app_context():
        # The search service in process: no HTTP, no template, same queries.
        learner = db.session.scalar(select(User).where(User.email == LEARNER_EMAIL))
        for query in load_queries(workdir, "warmup")[:WARMUP_QUERIES]:
            search_cases(learner, query.text, filters=LibraryFilters(**query.filters), page=query.page)
        timings = []
        with profiled(f"search-{n}", profile):
            for query in queries:
                start = time.perf_counter()
                search_cases(learner, query.text, filters=LibraryFilters(**query.filters), page=query.page)
                timings.append((time.perf_counter() - start) * 1000)
        db.session.rollback()

        searchable, committed, failures = timed_edits(client, seed, "edits", first_word=0)
        db.engine.dispose()
    search = summary(timings)
    edit = summary(searchable)
    return {
        "edit_searchable_p50_ms": edit["p50"],
        "edit_searchable_p95_ms": edit["p95"],
        "edit_searchable_max_ms": round(max(searchable), 1),
        "edit_commit_p50_ms": summary(committed)["p50"],
        "edit_commit_p95_ms": summary(committed)["p95"],
        "edit_not_found": failures,
        "inprocess_p50_ms": search["p50"],
        "inprocess_p95_ms": search["p95"],
        "inprocess_p99_ms": search["p99"],
        "inprocess_by_kind": by_kind(queries, timings),
    }


def phase_cross_edits(workdir: Path, n: int, seed: int, profile: bool, port: int) -> dict[str, object]:
    """Edits committed by a process set up as server A (its environment: A's
    SEARCH_INDEX_DIR), each timed until a search on server B (port) finds it."""
    from app import create_app
    from casestudies.extensions import db

    client = AppClient(port)
    client.login(LEARNER_EMAIL, learner_password(workdir))
    app = create_app()
    with app.app_context():
        searchable, committed, failures = timed_edits(client, seed, "cross-node-edits", first_word=EDIT_COUNT)
        db.engine.dispose()
    edit = summary(searchable)
    return {
        "cross_node_edit_p50_ms": edit["p50"],
        "cross_node_edit_p95_ms": edit["p95"],
        "cross_node_edit_max_ms": round(max(searchable), 1),
        "cross_node_edit_commit_p50_ms": summary(committed)["p50"],
        "cross_node_edit_not_found": failures,
    }


PHASES = {
    "import": phase_import,
    "fts5": phase_fts5,
    "edits": phase_edits,
    "cross_edits": phase_cross_edits,
    "insights": phase_insights,
}


def run_phase(name: str, workdir: Path, n: int, seed: int, profile: bool, port: int | None = None) -> dict:
    out = workdir / f"phase-{name}.json"
    command = [sys.executable, "-m", "bench.run", "--phase", name, "--workdir", str(workdir), "--n", str(n)]
    command += ["--seed", str(seed)] + (["--profile"] if profile else []) + (["--port", str(port)] if port else [])
    subprocess.run(command, cwd=ROOT, env=app_env(workdir), check=True)
    return json.loads(out.read_text())


# -- the server --------------------------------------------------------------------------
_PORTS_GIVEN: set[int] = set()


def free_port() -> int:
    """A free port on 127.0.0.1, never one given before in this run (a server started a
    moment ago may not have bound its port yet)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


APP = "app:create_app()"
FTS5_APP = "bench.fts5_app:create_app()"  # the same app, bench/fts5.py's index as its engine
BARE_APP = "bench.bare_fts5:create_app()"  # a minimal FTS5 page: no app around the engine


class Server:
    """gunicorn with WORKERS sync workers on 127.0.0.1, as `make run` serves the app; the
    FTS5 baseline (FTS5_APP) is served with exactly the same command but for the app."""

    def __init__(
        self, workdir: Path, app: str = APP, name: str = "gunicorn", env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn), "--workers", str(WORKERS), "--timeout", str(WORKER_TIMEOUT_S)]
        command += ["--bind", f"127.0.0.1:{self.port}", app]
        environment = app_env(workdir) | (env or {})
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=self.log, stderr=self.log)

    def children(self) -> list[int]:
        # Every thread's: the arbiter's supervising thread starts a restarted background process.
        tasks = Path(f"/proc/{self.process.pid}/task").iterdir()
        return [int(child) for task in tasks for child in (task / "children").read_text().split()]

    def is_background(self, pid: int) -> bool:
        return b"casestudies.background" in Path(f"/proc/{pid}/cmdline").read_bytes()

    def worker_pids(self) -> list[int]:
        """The web workers: the arbiter's children but its background process."""
        return [pid for pid in self.children() if not self.is_background(pid)]

    def background_pids(self) -> list[int]:
        return [pid for pid in self.children() if self.is_background(pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


TOTAL_RE = re.compile(rb'role="status">\s*(\d+) results?')


def http_latencies(
    client: AppClient, queries: list[Query], totals: list[int | None] | None = None, sizes: list[int] | None = None
) -> tuple[list[float], int]:
    """Each query's time to the whole results page; with totals, also the number of
    results each page reports (read after the clock stops; None if the page has none);
    with sizes, each page's bytes."""
    timings, errors = [], 0
    for query in queries:
        start = time.perf_counter()
        try:
            status, page = client.get(query.path())
        except OSError:
            status, page = 0, b""
        timings.append((time.perf_counter() - start) * 1000)
        errors += status != 200
        if sizes is not None:
            sizes.append(len(page))
        if totals is not None:
            found = TOTAL_RE.search(page) if status == 200 else None
            totals.append(int(found.group(1)) if found else None)
    return timings, errors


def agreement(queries: list[Query], app: list[int | None], fts5: list[int | None]) -> dict[str, dict[str, int]]:
    """Per kind of query: how many found something on both pages, on one, on neither."""
    counts: dict[str, dict[str, int]] = {}
    for query, a, f in zip(queries, app, fts5, strict=True):
        outcome = {(True, True): "both", (True, False): "app_only", (False, True): "fts5_only"}.get(
            (bool(a), bool(f)), "neither"
        )
        kind = counts.setdefault(query.kind, {"both": 0, "app_only": 0, "fts5_only": 0, "neither": 0})
        kind[outcome] += 1
    overall = {key: sum(kind[key] for kind in counts.values()) for key in ("both", "app_only", "fts5_only", "neither")}
    return {"all": overall, **counts}


def warm_up(client: AppClient, queries: list[Query]) -> None:
    """Warm-up queries (not the measured ones) from several threads, so every worker
    has opened its searcher."""
    threads = [threading.Thread(target=http_latencies, args=(client, queries[i::4][:WARMUP_QUERIES])) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def throughput(client: AppClient, queries: list[Query], clients: int, seconds: float) -> dict[str, object]:
    lock = threading.Lock()
    ok: list[float] = []
    errors = [0]
    start = time.monotonic()
    end = start + seconds
    finished: list[float] = []

    def loop(offset: int) -> None:
        i = offset * (len(queries) // clients)  # each client its own stretch of the traffic
        while time.monotonic() < end:
            query = queries[i % len(queries)]
            i += 1
            began = time.perf_counter()
            try:
                status, _ = client.get(query.path())
            except OSError:
                status = 0
            ms = (time.perf_counter() - began) * 1000
            with lock:
                if status == 200:
                    ok.append(ms)
                else:
                    errors[0] += 1
        with lock:
            finished.append(time.monotonic())

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(finished) - start
    under_load = summary(ok)
    return {
        "throughput_rps": round(len(ok) / elapsed, 1),
        "throughput_requests": len(ok),
        "errors": errors[0],
        "loaded_p50_ms": under_load["p50"],
        "loaded_p95_ms": under_load["p95"],
    }


def signed_in(server: Server, workdir: Path) -> AppClient:
    """A client of server, once it answers, signed in as the learner, every worker warmed up."""
    client = AppClient(server.port)
    client.wait_until_up(START_DEADLINE_S)
    client.login(LEARNER_EMAIL, learner_password(workdir))
    warm_up(client, load_queries(workdir, "warmup"))
    return client


@dataclass
class Side:
    """One server's share of interleaved latencies."""

    client: AppClient
    times: list[float] = field(default_factory=list)
    errors: int = 0
    totals: list[int | None] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)


def interleaved_latencies(clients: list[AppClient], queries: list[Query]) -> list[Side]:
    """Each query against every server in turn (which goes first rotates), one request in
    flight at a time: other work on the machine then weighs on all alike rather than on
    whichever ran while it was busy. Timings, errors, result counts and page sizes of each."""
    sides = [Side(client) for client in clients]
    for number, query in enumerate(queries):
        for step in range(len(sides)):
            side = sides[(number + step) % len(sides)]
            timing, failed = http_latencies(side.client, [query], side.totals, side.sizes)
            side.times.extend(timing)
            side.errors += failed
    return sides


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far (/proc/PID/stat), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def loaded_run(
    server: Server, client: AppClient, queries: list[Query], clients: int, seconds: float
) -> dict[str, object]:
    """throughput() with the server's CPU per request (its workers' CPU time over the run)."""
    workers = server.worker_pids()
    before = cpu_seconds(workers)
    result = throughput(client, queries, clients, seconds)
    used = cpu_seconds(workers) - before
    result["cpu_ms_per_request"] = round(used * 1000 / max(1, int(result["throughput_requests"])), 1)
    return result


def worker_memory(server: Server) -> dict[str, object]:
    workers = server.worker_pids()
    rss = [proc_status_mb("VmRSS", pid) for pid in workers]
    return {
        "worker_rss_mb": max(rss),
        "worker_rss_all_mb": rss,
        "worker_rss_anon_mb": [proc_status_mb("RssAnon", pid) for pid in workers],
        "worker_rss_file_mb": [proc_status_mb("RssFile", pid) for pid in workers],
        # The indexer and job runner's process (casestudies/background/), apart from the workers.
        "background_rss_mb": [proc_status_mb("VmRSS", pid) for pid in server.background_pids()],
    }


SECOND_NODE = "bench-b"


def wait_until_caught_up(workdir: Path, node: str, deadline_s: float) -> float:
    """Seconds until the indexer of node (search_node.name) has rebuilt its index and
    passed the journal's newest entry, read from the benchmark's SQLite database."""
    start = time.monotonic()
    with sqlite3.connect(workdir / "library.db", timeout=30) as connection:
        while True:
            newest = connection.execute("SELECT coalesce(max(id), 0) FROM search_journal").fetchone()[0]
            row = connection.execute(
                "SELECT cursor, last_rebuild_at FROM search_node WHERE name = ?", (node,)
            ).fetchone()
            connection.rollback()
            if row is not None and row[1] is not None and row[0] >= newest:
                return time.monotonic() - start
            if time.monotonic() - start > deadline_s:
                raise RuntimeError(f"server {node} did not build its index within {deadline_s:.0f} s")
            time.sleep(0.2)


def cross_node_edits(workdir: Path, n: int, seed: int, profile: bool) -> dict[str, object]:
    """Step 7: server B, as a second app server on the same database would be (its own
    SEARCH_INDEX_DIR and TMPDIR), and edits made as on server A, found through B."""
    tmp = workdir / "tmp-b"
    tmp.mkdir(exist_ok=True)
    env = {"SEARCH_INDEX_DIR": str(workdir / "search-index-b"), "TMPDIR": str(tmp), "SEARCH_NODE_NAME": SECOND_NODE}
    second = Server(workdir, name="gunicorn-b", env=env)
    try:
        AppClient(second.port).wait_until_up(START_DEADLINE_S)
        built = wait_until_caught_up(workdir, SECOND_NODE, START_DEADLINE_S + n * INDEX_S_PER_CASE)
        signed_in(second, workdir)  # every worker of B has opened its searcher
        result = run_phase("cross_edits", workdir, n, seed, profile, port=second.port)
    except BaseException:
        log("gunicorn (server B) log (end):\n" + second.log_tail())
        raise
    finally:
        second.stop()
    return {**result, "second_server_index_built_s": round(built, 1)}


# -- one size ------------------------------------------------------------------------------
def prepared(workdir: Path, n: int, seed: int, profile: bool, data: Path | None) -> dict[str, object]:
    """Steps 1 and 2 (import, FTS5 index) into workdir; with data, a copy of the corpus kept
    in data/N by an earlier run (searches then start from the same cases, index and
    queries), or, if there is none yet, the steps run and their result is kept there."""
    kept = data / str(n) if data else None
    if kept is not None and (kept / "phase-fts5.json").is_file():
        log(f"N={n}: reusing the corpus, database and indexes kept in {kept}")
        shutil.copytree(kept, workdir, dirs_exist_ok=True)
        return {
            **json.loads((kept / "phase-import.json").read_text()),
            **json.loads((kept / "phase-fts5.json").read_text()),
            "reused_corpus": str(kept),
        }
    log(f"N={n}: generating {n} cases and importing them through import_cases ({workdir})")
    run = run_phase("import", workdir, n, seed, profile)
    log(f"N={n}: imported at {run['import_cases_per_s']} cases/s; building the FTS5 baseline")
    if run["indexed_after_import"] != n:
        log(f"N={n}: WARNING: the index holds {run['indexed_after_import']} of {n} cases after the import")
    run.update(run_phase("fts5", workdir, n, seed, profile))
    if kept is not None:
        shutil.copytree(workdir, kept, ignore=shutil.ignore_patterns("*.log"))
    return run


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def bench_size(
    n: int,
    seed: int,
    keep: bool,
    profile: bool,
    data: Path | None = None,
    searches_only: bool = False,
    seconds: float = THROUGHPUT_S,
    second_server: bool = True,
    checkpoint: Callable[[dict[str, object]], None] | None = None,
) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix=f"every-seat-bench-{n}-"))
    (workdir / "instance").mkdir()
    # Other work on the machine shows up in every figure: the load average (1, 5 and 15
    # minutes) at each step says how much.
    run: dict[str, object] = {"load_average_at_start": load_average()}
    try:
        run.update(prepared(workdir, n, seed, profile, data))
        queries = load_queries(workdir)
        # The app and two baselines, all with the same gunicorn command and settings: the
        # same app with the FTS5 index of the fts5 phase as its engine (bench/fts5_app.py),
        # and a minimal FTS5 page with nothing of the app (bench/bare_fts5.py).
        # The baselines start no background process of their own (gunicorn.conf.py would give
        # each one): the app's server keeps the shared index, and its work would load the
        # machine twice more, on both sides of the comparison.
        fts5_env = {"EVERY_SEAT_FTS5_DB": str(workdir / "fts5.db"), "EVERY_SEAT_BACKGROUND": "separate"}
        log(f"N={n}: starting gunicorn with {WORKERS} workers, for the app and both FTS5 baselines")
        servers: list[Server] = []
        try:
            servers.append(Server(workdir))
            servers.append(Server(workdir, FTS5_APP, "gunicorn-fts5", fts5_env))
            servers.append(Server(workdir, BARE_APP, "gunicorn-bare", fts5_env))
        except BaseException:
            for started in servers:
                started.stop()
            raise
        server, baseline, bare = servers
        try:
            client = signed_in(server, workdir)
            base_client = signed_in(baseline, workdir)
            bare_client = AppClient(bare.port)
            bare_client.wait_until_up(START_DEADLINE_S, "/search?q=care")
            warm_up(bare_client, load_queries(workdir, "warmup"))
            run["load_average_before_searches"] = load_average()
            log(f"N={n}: {len(queries)} searches over HTTP, one at a time, each against the app and both baselines")
            app_side, base_side, bare_side = interleaved_latencies([client, base_client, bare_client], queries)
            run["load_average_after_searches"] = load_average()
            for prefix, side in (("search", app_side), ("fts5_http", base_side), ("bare_fts5_http", bare_side)):
                stats = summary(side.times)
                run.update(
                    {
                        f"{prefix}_p50_ms": stats["p50"],
                        f"{prefix}_p95_ms": stats["p95"],
                        f"{prefix}_p99_ms": stats["p99"],
                        f"{prefix}_page_kb": round(statistics.mean(side.sizes) / 1024, 1),
                        f"{prefix}_by_kind": by_kind(queries, side.times),
                    }
                )
            run.update(
                search_errors=app_side.errors,
                fts5_http_errors=base_side.errors,
                bare_fts5_http_errors=bare_side.errors,
                # Whether each page found anything for the same query (a sanity check, and
                # what spelling help, synonyms and stop words change): queries by kind.
                results_found=agreement(queries, app_side.totals, base_side.totals),
                bare_results_found=agreement(queries, app_side.totals, bare_side.totals),
            )
            if not searches_only:
                log(f"N={n}: {EDIT_COUNT} edits, each until a search finds it; searches in process")
                run.update(run_phase("edits", workdir, n, seed, profile, port=server.port))
            traffic = load_queries(workdir, "throughput")
            # Closed-loop clients, each server in turn: 16 clients, then 4.
            for clients, suffix in ((CLIENTS, ""), (4, "_4")):
                run[f"load_average_before_throughput{suffix}"] = load_average()
                for prefix, name, target_server, target_client in (
                    ("", "the app", server, client),
                    ("fts5_http_", "the FTS5 page served by the app", baseline, base_client),
                    ("bare_fts5_http_", "the minimal FTS5 page", bare, bare_client),
                ):
                    if suffix and prefix == "fts5_http_":
                        continue  # the app's own FTS5 page: 16 clients only, as before
                    log(f"N={n}: throughput of {name}, {clients} clients for {seconds:.0f} s")
                    loaded = loaded_run(target_server, target_client, traffic, clients, seconds)
                    run.update(
                        {
                            f"{prefix}throughput_rps{suffix}": loaded["throughput_rps"],
                            f"{prefix}throughput_requests{suffix}": loaded["throughput_requests"],
                            f"{prefix}throughput_errors{suffix}": loaded["errors"],
                            f"{prefix}loaded_p50_ms{suffix}": loaded["loaded_p50_ms"],
                            f"{prefix}loaded_p95_ms{suffix}": loaded["loaded_p95_ms"],
                            f"{prefix}cpu_ms_per_request{suffix}": loaded["cpu_ms_per_request"],
                        }
                    )
                    if not prefix and not suffix:
                        run.update(worker_memory(server))
            run["load_average_after_throughput"] = load_average()
            # Issue 29: the largest web worker after the import and every load run (the
            # 16-client figure above, or this one if a worker grew during the 4-client runs).
            after_load = worker_memory(server)
            run["worker_rss_after_all_load_mb"] = after_load["worker_rss_mb"]
            run["worker_rss_after_all_load_all_mb"] = after_load["worker_rss_all_mb"]
            run["background_rss_after_all_load_mb"] = after_load["background_rss_mb"]
            run["worker_rss_mb"] = max(float(run["worker_rss_mb"]), float(after_load["worker_rss_mb"]))
            # The names the report has used since before the second baseline.
            run["errors"] = run.pop("throughput_errors")
            run["fts5_http_rps"] = run.pop("fts5_http_throughput_rps")
            run["bare_fts5_http_rps"] = run.pop("bare_fts5_http_throughput_rps")
            run["bare_fts5_http_rps_4"] = run.pop("bare_fts5_http_throughput_rps_4")
            run["fts5_http_worker_rss_mb"] = worker_memory(baseline)["worker_rss_mb"]
            baseline.stop()  # the baselines are done: they no longer weigh on the next step
            bare.stop()
            if checkpoint is not None:
                checkpoint(run)  # what is measured so far, in case the long steps are stopped
            if not searches_only and second_server:
                run["load_average_before_cross_node"] = load_average()
                log(f"N={n}: a second server (B) builds its index; {EDIT_COUNT} edits, each found through B")
                # A failure here (B too slow to build its index at a large N on a loaded
                # machine) is recorded, not raised: the figures above are kept.
                try:
                    run.update(cross_node_edits(workdir, n, seed, profile))
                except (RuntimeError, subprocess.CalledProcessError) as exc:
                    log(f"N={n}: the second server's step failed: {exc}")
                    run["cross_node_error"] = str(exc)
            if not searches_only:
                log(f"N={n}: a year of insights rows at 500 searches an hour; every insights page")
                run.update(run_phase("insights", workdir, n, seed, profile))
        except BaseException:
            for name, started in zip(("gunicorn", "FTS5 baseline", "minimal FTS5 page"), servers, strict=True):
                log(f"{name} log (end):\n" + started.log_tail())
            raise
        finally:
            for started in servers:
                started.stop()
        run["load_average_at_end"] = load_average()
        if "fts5_p50_ms" in run:
            run["ratio_p50"] = round(float(run["search_p50_ms"]) / float(run["fts5_p50_ms"]), 1)
            run["ratio_p95"] = round(float(run["search_p95_ms"]) / float(run["fts5_p95_ms"]), 1)
        # The fair comparisons: all over HTTP, interleaved, on the same machine at the same time.
        natural = "natural language"
        for key, app_key, base_key in (
            ("ratio_http_p50", "search_p50_ms", "fts5_http_p50_ms"),
            ("ratio_http_p95", "search_p95_ms", "fts5_http_p95_ms"),
            ("ratio_http_rps", "throughput_rps", "fts5_http_rps"),
            ("ratio_bare_http_p50", "search_p50_ms", "bare_fts5_http_p50_ms"),
            ("ratio_bare_http_p95", "search_p95_ms", "bare_fts5_http_p95_ms"),
            ("ratio_bare_http_p99", "search_p99_ms", "bare_fts5_http_p99_ms"),
            ("ratio_bare_http_rps", "throughput_rps", "bare_fts5_http_rps"),
            ("ratio_bare_http_rps_4", "throughput_rps_4", "bare_fts5_http_rps_4"),
            ("ratio_bare_cpu_per_request", "cpu_ms_per_request", "bare_fts5_http_cpu_ms_per_request"),
        ):
            run[key] = round(float(run[app_key]) / float(run[base_key]), 2)
        for p in ("p50", "p95"):
            run[f"ratio_bare_http_questions_{p}"] = round(
                run["search_by_kind"][natural][p] / run["bare_fts5_http_by_kind"][natural][p], 2
            )
    finally:
        if keep:
            log(f"N={n}: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return run


# -- report ------------------------------------------------------------------------------------
def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = " ".join(line.split(":", 1)[1].split())
            break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model}, {os.cpu_count()} cores, {memory_gb:.0f} GB RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def _three(run: dict, name: str) -> str:
    return " / ".join(f"{run[f'{name}_{p}_ms']:g}" for p in ("p50", "p95", "p99"))


ROWS = (
    ("import, cases/s (wall s)", lambda r: f"{r['import_cases_per_s']:g} ({r['import_wall_s']:g} s)"),
    ("import, peak memory MB", lambda r: f"{r['import_peak_mb']:g}"),
    ("edit → searchable p50 / p95 ms", lambda r: f"{r['edit_searchable_p50_ms']:g} / {r['edit_searchable_p95_ms']:g}"),
    ("edit on A → searchable on B p50 / p95 ms",
     lambda r: f"{r['cross_node_edit_p50_ms']:g} / {r['cross_node_edit_p95_ms']:g}"),
    ("import → all searchable, s", lambda r: f"{r['import_searchable_s']:g}"),
    ("search over HTTP p50 / p95 / p99 ms", lambda r: _three(r, "search")),
    ("FTS5 page over HTTP p50 / p95 / p99 ms", lambda r: _three(r, "fts5_http")),
    ("ratio app / FTS5 over HTTP, p50 / p95", lambda r: f"{r['ratio_http_p50']:g} / {r['ratio_http_p95']:g}"),
    ("FTS5 in process p50 / p95 / p99 ms", lambda r: _three(r, "fts5")),
    ("ratio app / FTS5 in process, p50 / p95", lambda r: f"{r['ratio_p50']:g} / {r['ratio_p95']:g}"),
    ("app search in process p50 / p95 ms", lambda r: f"{r['inprocess_p50_ms']:g} / {r['inprocess_p95_ms']:g}"),
    (f"throughput, {CLIENTS} clients: req/s (errors)", lambda r: f"{r['throughput_rps']:g} ({r['errors']})"),
    ("  latency under load p50 / p95 ms", lambda r: f"{r['loaded_p50_ms']:g} / {r['loaded_p95_ms']:g}"),
    (f"FTS5 page throughput, {CLIENTS} clients: req/s (errors)",
     lambda r: f"{r['fts5_http_rps']:g} ({r['fts5_http_throughput_errors']})"),
    ("  ratio app / FTS5 over HTTP, req/s", lambda r: f"{r['ratio_http_rps']:g}"),
    ("one worker's resident memory MB", lambda r: f"{r['worker_rss_mb']:g}"),
    ("minimal FTS5 page over HTTP p50 / p95 / p99 ms", lambda r: _three(r, "bare_fts5_http")),
    ("  ratio app / minimal page, p50 / p95", lambda r: f"{r['ratio_bare_http_p50']:g} / {r['ratio_bare_http_p95']:g}"),
    ("  full questions: ratio p50 / p95",
     lambda r: f"{r['ratio_bare_http_questions_p50']:g} / {r['ratio_bare_http_questions_p95']:g}"),
    ("req/s, 4 / 16 clients: app; minimal page",
     lambda r: f"{r['throughput_rps_4']:g} / {r['throughput_rps']:g}; "
               f"{r['bare_fts5_http_rps_4']:g} / {r['bare_fts5_http_rps']:g}"),
    ("  ratio app / minimal page, req/s 4 / 16",
     lambda r: f"{r['ratio_bare_http_rps_4']:g} / {r['ratio_bare_http_rps']:g}"),
    ("server CPU ms per request (16 clients): app / minimal",
     lambda r: f"{r['cpu_ms_per_request']:g} / {r['bare_fts5_http_cpu_ms_per_request']:g}"),
    ("page KB: app / FTS5 page / minimal page",
     lambda r: f"{r['search_page_kb']:g} / {r['fts5_http_page_kb']:g} / {r['bare_fts5_http_page_kb']:g}"),
    ("load average (1 min) at start / before searches / end",
     lambda r: f"{r['load_average_at_start'][0]:g} / {r['load_average_before_searches'][0]:g} / "
               f"{r['load_average_at_end'][0]:g}"),
    ("insights pages p50 / p95 ms (a year of rows)", lambda r: f"{r['insights_p50_ms']:g} / {r['insights_p95_ms']:g}"),
)  # fmt: skip
TARGET_TEXT = (
    "≥ 100",
    "≤ 1,024",
    "p95 ≤ 1,000",
    "p95 ≤ 2,000",
    "",
    "≤ 25 / ≤ 60 (N=1,000: p95 ≤ 25)",
    "",
    "p50, p95 ≤ 1 (ahead)",
    "",
    "p95 ≤ 2",
    "",
    "≥ 40 (0)",
    "",
    "",
    "≥ 1 (ahead)",
    "≤ 250",
    "",
    "≤ 2 / ≤ 2 (both sizes)",
    "",
    "",
    "16 clients ≥ 0.5 (both sizes)",
    "",
    "",
    "",
    "p95 ≤ 300",
)


def table(runs: dict[str, dict]) -> str:
    sizes = list(runs)
    header = ["N = " + f"{int(n):,}" for n in sizes]
    lines = [
        "| | " + " | ".join(header) + " | target (N = 10,000 unless said) |",
        "| --- |" + " --- |" * (len(sizes) + 1),
    ]
    for (label, cell), target in zip(ROWS, TARGET_TEXT, strict=True):
        cells = []
        for n in sizes:
            try:
                cells.append(cell(runs[n]))
            except (KeyError, TypeError, ValueError):
                cells.append("–")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def verdicts(runs: dict[str, dict]) -> list[str]:
    lines = []
    checks = [("10000", TARGETS), ("1000", TARGETS_1000)]
    for n, targets in checks:
        if n not in runs:
            continue
        for key, limit in targets.items():
            value = runs[n].get(key)
            if value is None:
                continue
            met = value >= limit if key in AT_LEAST else value <= limit
            sign = "≥" if key in AT_LEAST else "≤"
            shown = f"{limit:g}"
            lines.append(f"N={int(n):,} {key} = {value:g} (target {sign} {shown}): {'met' if met else 'NOT met'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep each size's temporary directory")
    parser.add_argument("--profile", action="store_true", help="cProfile the import and in-process searches")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep each size's corpus, database and indexes in DATA/N after steps 1-2, or reuse them from there",
    )
    parser.add_argument(
        "--searches-only", action="store_true", help="leave out the edits (steps 4 and 7): searches and throughput only"
    )
    parser.add_argument(
        "--no-second-server",
        action="store_true",
        help="leave out step 7 (server B rebuilds its whole index: long at 50,000 cases)",
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS_FILE, help="where to write the JSON (default bench/results.json)"
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--throughput-seconds", type=float, default=THROUGHPUT_S, help="each closed-loop run's length")
    args = parser.parse_args()
    if args.phase:
        extra = {"port": args.port} if args.phase in ("edits", "cross_edits") else {}
        result = PHASES[args.phase](args.workdir, args.n, args.seed, args.profile, **extra)
        (args.workdir / f"phase-{args.phase}.json").write_text(json.dumps(result, indent=1))
        return
    started = time.monotonic()
    runs: dict[str, dict] = {}
    results: dict[str, object] = {"machine": machine(), "seed": args.seed, "runs": runs}

    def write(partial: dict[str, object] | None = None, n: int | None = None) -> None:
        if partial is not None:
            runs[str(n)] = {**partial, "partial": True}
        results.update(
            date=datetime.now(UTC).isoformat(timespec="seconds"), duration_s=round(time.monotonic() - started)
        )
        args.results.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    for n in args.sizes:
        runs[str(n)] = bench_size(
            n,
            args.seed,
            args.keep,
            args.profile,
            args.data,
            args.searches_only,
            args.throughput_seconds,
            second_server=not args.no_second_server,
            checkpoint=lambda partial, n=n: write(partial, n),
        )
        # Written after each size too: a long run stopped part-way keeps what it measured.
        write()
    print(f"\nEvery Seat benchmark, {results['date']}\n{results['machine']}\n")
    print(table(runs))
    print()
    for line in verdicts(runs):
        print(line)
    print(f"\nWritten to {args.results} in {results['duration_s']} s.")


if __name__ == "__main__":
    main()
