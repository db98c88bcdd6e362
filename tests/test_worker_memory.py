"""Issue 23: web workers' resident memory, over HTTP, under thousands of hostile queries.
tests/test_search_memory.py bounds the engine's caches in one process; this sends the
issue's searches (3,000 of 24 random words with exact=1) to the app under gunicorn with
2 workers, as served, so whatever else a request keeps (Jinja, SQLAlchemy, the session,
the search log) counts too."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.worker_memory import GROWTH_LIMIT_MB, measure, prepare


@pytest.mark.slow
def test_3000_searches_of_24_random_words_grow_no_worker_by_more_than_50_mb(tmp_path: Path) -> None:
    prepare(tmp_path, cases=300)
    result = measure(tmp_path, searches=3000, words=24)
    assert result["errors"] == 0, result
    assert result["same_workers"], f"a worker was restarted: {result}"
    assert len(result["growth_mb"]) == 2, result
    assert result["growth_max_mb"] <= GROWTH_LIMIT_MB, f"resident memory grew {result['growth_mb']} MB: {result}"
