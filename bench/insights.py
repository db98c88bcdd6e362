"""The curators' insights at scale (issue 25): `make bench` runs it as the `insights`
phase of each size; alone: `.venv/bin/python -m bench.insights --n 10000` (add `--workdir DIR`
to keep the imported library and reuse it on the next run, `--database-url URL` to run the
phase on another database, such as PostgreSQL, with the cases copied from DIR's library).

On the size's library (N cases, imported by the import phase), a year of rows as the
app records them at 500 searches an hour (12,000 a day): each day's searches drawn from
a Zipf-like mix of queries, kept up to INSIGHTS_MAX_QUERIES_PER_DAY rows a day (the rest
counted in the day's overflow row, as the app does), reads per case per week, usefulness
answers and clicks after partial matches; all written with bulk inserts. Then
`flask insights aggregate` (days past INSIGHTS_RAW_DAYS merged into months), timed. Then
every insights page, as a signed-in curator through the app (in process, the whole
Flask stack and template, no HTTP), for each period: p50 / p95 over the pages. Last, the
cost a search request pays to record its outcome: record_search_page's one upsert, on a
day already at its row limit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

SEARCHES_PER_HOUR = 500
DAYS = 365
QUERY_POOL = 40_000  # different queries a year
PAGE_REPEATS = 5
RECORD_SAMPLES = 2000
OUTCOMES = (("full", 0.6), ("partial", 0.2), ("none", 0.1), ("replaced", 0.1))
CURATOR_EMAIL = "curator@bench.example"
LEARNER_EMAIL = "reader@bench.example"
REUSE_ROWS = "BENCH_INSIGHTS_REUSE_ROWS"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


def _queries(rng: random.Random) -> list[str]:
    from .generate import load_corpus

    words = load_corpus().content[:3000]
    pool = set()
    while len(pool) < QUERY_POOL:
        pool.add(" ".join(rng.sample(words[: rng.choice((200, 1000, 3000))], rng.choice((1, 2, 2, 3, 4)))))
    return sorted(pool)


def generate_rows(n_cases: int, seed: int, today) -> dict[str, int]:
    """A year of the insights tables, bulk inserted; how many rows of each."""
    from sqlalchemy import delete, insert, select

    from casestudies.extensions import db
    from casestudies.insights.recording import OVERFLOW_DISPLAY, OVERFLOW_KEY, query_key, week_of
    from casestudies.models import Case, CaseFeedback, CaseReadWeek, SearchClick, SearchOutcome
    from casestudies.models.insights import CaseReadRollup, ReadSeen, SearchDayTotal, SearchGapRollup

    # The year replaces what the benchmark's own searches and reads recorded today.
    for model in (
        SearchOutcome,
        SearchClick,
        CaseReadWeek,
        ReadSeen,
        CaseFeedback,
        SearchDayTotal,
        SearchGapRollup,
        CaseReadRollup,
    ):
        db.session.execute(delete(model))

    rng = random.Random(seed)
    texts = _queries(rng)
    keys = [query_key(t) for t in texts]
    weights = [1 / (rank + 1) for rank in range(len(texts))]  # Zipf: a few queries are most of the searches
    cap = 2000
    per_day = SEARCHES_PER_HOUR * 24
    counts = {"search_outcome": 0, "case_read_week": 0, "case_feedback": 0, "search_click": 0}
    case_ids = list(db.session.scalars(select(Case.id)))
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        drawn = rng.choices(range(len(texts)), weights=weights, k=per_day)
        rows: dict[tuple[str, str], dict] = {}
        overflow: dict[str, dict] = {}
        for index in drawn:
            outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
            key = (keys[index], outcome)
            row = rows.get(key)
            if row is None and len(rows) >= cap:
                row = overflow.setdefault(
                    outcome,
                    {"query_key": OVERFLOW_KEY, "display": OVERFLOW_DISPLAY, "outcome": outcome, "searches": 0},
                )
            elif row is None:
                row = rows[key] = {
                    "query_key": keys[index],
                    "display": texts[index],
                    "outcome": outcome,
                    "searches": 0,
                    "missing": texts[index].split()[-1] if outcome == "partial" else "",
                    "replaced_by": texts[index][::-1][:200] if outcome == "replaced" else "",
                }
            row["searches"] += 1
        batch = []
        for row in [*rows.values(), *overflow.values()]:
            searches = row["searches"]
            batch.append(
                {
                    "missing": "",
                    "replaced_by": "",
                    **row,
                    "period": "d",
                    "day": day,
                    "searchers": max(1, round(searches * rng.uniform(0.5, 1.0))),
                    "seen": None,
                }
            )
        db.session.execute(insert(SearchOutcome), batch)
        counts["search_outcome"] += len(batch)
        partial = [r for r in rows.values() if r["outcome"] == "partial"][:60]
        if back < 90 and partial:
            clicks = [
                {"day": day, "query_key": r["query_key"], "case_id": rng.choice(case_ids), "clicks": rng.randint(1, 4)}
                for r in partial
            ]
            db.session.execute(insert(SearchClick), clicks)
            counts["search_click"] += len(clicks)
        if day.weekday() == 0:  # a week's reads: a Zipf-like share of the cases each week
            readers = rng.sample(case_ids, k=min(len(case_ids), len(case_ids) // 3))
            reads = [{"case_id": c, "week": week_of(day), "reads": rng.randint(1, 40)} for c in readers]
            db.session.execute(insert(CaseReadWeek), reads)
            counts["case_read_week"] += len(reads)
        answers = [
            {
                "case_id": rng.choice(case_ids),
                "day": day,
                "is_useful": rng.random() < 0.8,
                "comment": "Useful for my team" if rng.random() < 0.2 else "",
                "role": "learner",
                "seat": "",
            }
            for _ in range(60)
        ]
        db.session.execute(insert(CaseFeedback), answers)
        counts["case_feedback"] += len(answers)
        db.session.commit()
    return counts


def copy_cases(source_url: str) -> int:
    """The library's cases (their rows only: the insights pages need no more) copied into
    an empty database from the SQLite library the import phase made."""
    from sqlalchemy import create_engine, insert, select

    from casestudies.extensions import db
    from casestudies.models import Case

    table = Case.__table__
    source = create_engine(source_url)
    with source.connect() as connection:
        rows = [dict(row._mapping) | {"author_id": None} for row in connection.execute(select(table))]
    source.dispose()
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(table), rows[start : start + 1000])
    db.session.commit()
    return len(rows)


def phase_insights(workdir: Path, n: int, seed: int, profile: bool) -> dict[str, object]:
    from sqlalchemy import delete, func, select

    from app import create_app
    from casestudies.accounts.services import create_user
    from casestudies.database import upgrade_database
    from casestudies.extensions import db
    from casestudies.insights.recording import Outcome, record_search, today
    from casestudies.insights.retention import aggregate
    from casestudies.models import Case, CaseReadRollup, Role, SearchGapRollup, SearchOutcome, User

    del profile
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    result: dict[str, object] = {}
    with app.app_context():
        result["insights_database"] = db.engine.dialect.name
        upgrade_database()  # on PostgreSQL an empty database: the schema, then the library's cases
        if db.engine.dialect.name != "sqlite" and not db.session.scalar(select(func.count()).select_from(Case)):
            copy_cases(f"sqlite:///{workdir / 'library.db'}")
        day = today()
        if os.environ.get(REUSE_ROWS) and db.session.scalar(select(func.count()).select_from(SearchOutcome)):
            # The year a run before made (a kept library): its windows made again (the day
            # totals stay: the days merged into months can't be counted again).
            for model in (SearchGapRollup, CaseReadRollup):
                db.session.execute(delete(model))
            db.session.execute(delete(SearchOutcome).where(SearchOutcome.display.like("bench query %")))
            db.session.commit()
        else:
            start = time.perf_counter()
            counts = generate_rows(n, seed, day)
            result["insights_generate_s"] = round(time.perf_counter() - start, 1)
            result["insights_rows"] = counts
        start = time.perf_counter()
        done = aggregate(on=day)
        db.session.commit()
        result["insights_aggregate_s"] = round(time.perf_counter() - start, 1)
        result["insights_rows_after_aggregate"] = done.daily_rows_merged
        password = secrets.token_urlsafe(18)
        for email in (CURATOR_EMAIL, LEARNER_EMAIL):  # from a run before, on a kept library
            db.session.execute(delete(User).where(User.email == email))
        create_user(CURATOR_EMAIL, role=Role.CURATOR, password=password)
        learner = create_user(LEARNER_EMAIL, role=Role.LEARNER, password=password)
        db.session.commit()
        # The cost on a search request: one upsert, on a day at its row limit.
        timings = []
        rng = random.Random(seed)
        for i in range(RECORD_SAMPLES):
            start = time.perf_counter()
            record_search(learner, f"bench query {rng.randint(0, 5000)}", Outcome("none"))
            db.session.commit()
            timings.append((time.perf_counter() - start) * 1000)
            if i == 0:
                timings.clear()  # the first also opens the connection
        result["insights_record_p50_ms"] = _percentile(timings, 50)
        result["insights_record_p95_ms"] = _percentile(timings, 95)
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"email": CURATOR_EMAIL, "password": password})
    assert response.status_code == 302, response.status_code
    pages = [f"/insights/gaps?days={d}" for d in (7, 30, 90, 365)]
    pages += [f"/insights/use?days={d}" for d in (7, 30, 90, 365)]
    pages += ["/insights/gaps.csv?table=gaps&days=365", "/insights/use.csv?table=not-opened"]
    with app.app_context():
        from sqlalchemy import select

        from casestudies.models import SearchOutcome

        top = db.session.scalar(select(SearchOutcome.display).where(SearchOutcome.query_key != "").limit(1))
    pages.append(f"/insights/gap?q={top}")
    by_page: dict[str, list[float]] = {}
    cpu_by_page: dict[str, list[float]] = {}
    loads = [os.getloadavg()[0]]
    for page in pages:
        client.get(page)  # warm: the first request of a page compiles its template
        for _ in range(PAGE_REPEATS):
            start, cpu = time.perf_counter(), time.process_time()
            response = client.get(page)
            by_page.setdefault(page, []).append((time.perf_counter() - start) * 1000)
            cpu_by_page.setdefault(page, []).append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (page, response.status_code)
        loads.append(os.getloadavg()[0])
    every = [t for ts in by_page.values() for t in ts]
    result["insights_p50_ms"] = _percentile(every, 50)
    result["insights_p95_ms"] = _percentile(every, 95)
    result["insights_by_page_p95_ms"] = {page: _percentile(ts, 95) for page, ts in by_page.items()}
    # The app process's own CPU time a page (with SQLite, the queries' too; not PostgreSQL's
    # server): what a page costs whatever else the machine runs; and the load it ran under.
    result["insights_cpu_p95_ms"] = _percentile([t for ts in cpu_by_page.values() for t in ts], 95)
    result["insights_cpu_by_page_p95_ms"] = {page: _percentile(ts, 95) for page, ts in cpu_by_page.items()}
    result["insights_load_average"] = [round(min(loads), 1), round(max(loads), 1)]
    with app.app_context():
        db.engine.dispose()
    return result


def main() -> None:
    from .run import SEED, app_env, log, run_phase

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workdir", type=Path, help="keep the imported library here, and reuse it when there")
    parser.add_argument("--database-url", help="the insights phase on this (empty or earlier bench) database")
    parser.add_argument("--reuse-rows", action="store_true", help="keep the year of rows a run before made")
    args = parser.parse_args()
    if args.reuse_rows:
        os.environ[REUSE_ROWS] = "1"
    kept = args.workdir is not None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"every-seat-insights-{args.n}-"))
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    try:
        if not (workdir / "phase-import.json").exists():
            log(f"N={args.n}: importing the cases")
            run_phase("import", workdir, args.n, args.seed, False)
        log(f"N={args.n}: a year of insights rows, then the pages")
        if args.database_url:
            # In this process: the phase's own environment, but for the database.
            os.environ.update(app_env(workdir), DATABASE_URL=args.database_url)
            result = phase_insights(workdir, args.n, args.seed, False)
        else:
            result = run_phase("insights", workdir, args.n, args.seed, False)
        print(json.dumps({k: v for k, v in result.items() if k.startswith("insights")}, indent=1))
    finally:
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
