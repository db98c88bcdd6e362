"""Where a search request's time goes: the app's search page through its test client.

    .venv/bin/python -m bench.profile_search DATA/N [--queries 300] [--dump FILE.prof]

DATA/N is a corpus kept by `bench.run --data DATA` (its database, search index, learner and
queries). Signed in as the benchmark's learner, the warm-up queries first, then the
benchmark's queries through the whole request (session and user, the view, the search,
the rows, the template, the after-request commit), as gunicorn's worker would run them
but in this process, under cProfile. Prints milliseconds per request for each part of the
page (cumulative time of the functions that do it, so parts may nest) and the functions
that cost most themselves. cProfile slows Python code more than C code: the shares, not the
totals, are what to read; the wall time without the profiler is printed first.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

from .client import CSRF_RE
from .run import LEARNER_EMAIL, WARMUP_QUERIES, app_env, learner_password, load_queries

# (label, file suffix, function name): cumulative time of that function.
PARTS = (
    ("whole request (WSGI app)", "flask/app.py", "wsgi_app"),
    ("  session cookie", "flask/sessions.py", "open_session"),
    ("  session and user loading", "casestudies/accounts/sessions.py", "load_session_user"),
    ("  the view", "casestudies/library/views.py", "search"),
    ("    search service", "casestudies/library/services.py", "search_cases"),
    ("      engine: search", "search/engine.py", "search"),
    ("        one search (_search, per call)", "search/engine.py", "_search"),
    ("        query building and synonyms", "search/query.py", "parts"),
    ("        parsing the query", "search/query.py", "parse_user_query"),
    ("        synonym table / thesaurus look-up", "search/engine.py", "synonyms"),
    ("        scoring", "search/scoring.py", "scores"),
    ("        partial matches", "search/engine.py", "_partial_matches"),
    ("        facet counts", "search/facets.py", "counts"),
    ("        facet scope bitmaps", "search/facets.py", "query_bits"),
    ("        ranked page (top hits, snippets)", "search/engine.py", "_ranked_page"),
    ("        words to highlight", "search/snippets.py", "highlight_words"),
    ("        snippets", "search/snippets.py", "snippet"),
    ('        "No case mentions" check', "search/engine.py", "_with_unmatched"),
    ("        spelling check", "search/spelling.py", "check"),
    ("      row loading (before: ORM objects)", "casestudies/library/services.py", "_visible_rows"),
    ("      row loading (one query)", "casestudies/library/services.py", "_visible_listings"),
    ("    insights: the search's outcome row", "casestudies/insights/recording.py", "record_search_page"),
    ("    promoted cases look-up", "casestudies/insights/actions.py", "promoted_cases"),
    ("    synonyms version check", "casestudies/insights/vocabulary.py", "sync_vocabulary"),
    ("    template rendering", "flask/templating.py", "render_template"),
    ("      CSRF tokens", "flask_wtf/csrf.py", "generate_csrf"),
    ("      url_for", "flask/app.py", "url_for"),
    ("      url_with (facet, pagination links)", "casestudies/web.py", "url_with"),
    ("      reading-list choices (Save form)", "casestudies/learning/views.py", "reading_list_choices"),
    ("      saved cases (Save form)", "casestudies/learning/views.py", "saved_case_ids"),
    ("      unread notifications count (header)", "casestudies/notifications/__init__.py", "unread_notifications"),
    ("  after-request commit", "casestudies/database.py", "commit_request"),
    ("  security headers and compression", "casestudies/web.py", "_security_headers"),
    ("  session cookie saved", "flask/sessions.py", "save_session"),
)


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> tuple[float, int]:
    """Seconds of cumulative time and calls of the functions named name in files ending with suffix."""
    total, calls = 0.0, 0
    for (filename, _line, function), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
        if function == name and filename.endswith(suffix):
            total += ct
            calls += nc
    return total, calls


def template_files(stats: pstats.Stats) -> dict[str, float]:
    """Seconds spent in each template's own compiled code (not what it calls), by file."""
    files: dict[str, float] = {}
    for (filename, _line, _function), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        if "/templates/" in filename:
            name = filename.split("/templates/", 1)[1]
            files[name] = files.get(name, 0.0) + tt
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dump", type=Path, help="also write the raw profile (for snakeviz, pstats)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ.update(app_env(args.workdir))
    from app import create_app

    app = create_app()
    client = app.test_client()
    found = CSRF_RE.search(client.get("/login").get_data())
    assert found is not None
    token = (found.group(1) or found.group(2)).decode()
    answer = client.post(
        "/login", data={"csrf_token": token, "email": LEARNER_EMAIL, "password": learner_password(args.workdir)}
    )
    if answer.status_code != 302:
        raise SystemExit(f"signing in failed: {answer.status_code}")
    for query in load_queries(args.workdir, "warmup")[: WARMUP_QUERIES * 2]:
        client.get(query.path())
    queries = load_queries(args.workdir)[: args.queries]
    start = time.perf_counter()
    for query in queries:
        assert client.get(query.path()).status_code == 200
    wall = (time.perf_counter() - start) * 1000 / len(queries)
    profile = cProfile.Profile()
    profile.enable()
    for query in queries:
        client.get(query.path())
    profile.disable()
    if args.dump:
        profile.dump_stats(args.dump)
    stats = pstats.Stats(profile, stream=sys.stdout)
    count = len(queries)
    whole = cumulative(stats, "flask/app.py", "wsgi_app")[0] * 1000 / count
    print(f"{count} searches, signed in as a learner; wall time without the profiler: {wall:.1f} ms a request\n")
    print("| part | ms a request (profiled) | share | calls a request |")
    print("| --- | ---: | ---: | ---: |")
    for label, suffix, name in PARTS:
        seconds, calls = cumulative(stats, suffix, name)
        ms = seconds * 1000 / count
        print(f"| {label} | {ms:.2f} | {ms / whole:.0%} | {calls / count:.1f} |")
    print("\nTemplates, each one's own compiled code (not the filters, escaping or helpers it calls):\n")
    print("| template | ms a request (profiled) | share |")
    print("| --- | ---: | ---: |")
    for name, seconds in sorted(template_files(stats).items(), key=lambda item: -item[1])[:12]:
        ms = seconds * 1000 / count
        print(f"| {name} | {ms:.2f} | {ms / whole:.0%} |")
    print(f"\nFunctions that cost most themselves (top {args.top}):")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
