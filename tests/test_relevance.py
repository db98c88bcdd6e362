"""Search relevance on the sample library, against the judged queries of
tests/relevance/judgements.yaml (see tests/relevance/README.md), through the app's own
search page as bench/relevance.py runs it (`make relevance` prints the whole table)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.relevance import JUDGEMENTS_FILE, app_searcher, evaluate, load_judgements

FLOOR_FILE = JUDGEMENTS_FILE.parent / "floor.json"
JUDGEMENTS = load_judgements()


@pytest.fixture(scope="module")
def app_search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], list[str]]]:
    """search(text) -> slugs of the top 10 results, from a throw-away app with the sample library."""
    with app_searcher(Path(tmp_path_factory.mktemp("relevance"))) as search:
        yield search


def test_overall_ndcg_stays_above_the_floor(app_search: Callable[[str], list[str]]) -> None:
    floor = json.loads(FLOOR_FILE.read_text("utf-8"))["ndcg_at_10"]
    groups = evaluate(app_search, JUDGEMENTS)["groups"]
    measured = groups["all"]["ndcg"]
    table = ", ".join(f"{name} {row['ndcg']:.3f}" for name, row in groups.items())
    assert measured >= floor, f"nDCG@10 {measured:.3f} fell below the floor {floor} ({table})"


def test_the_judgements_name_only_published_cases_and_cover_every_group() -> None:
    from bench.relevance import GROUPS, read_cases

    published = {case.slug for case in read_cases() if case.status == "published"}
    for judged in JUDGEMENTS:
        assert set(judged.relevant) <= published, judged.query
    assert {judged.group for judged in JUDGEMENTS} == set(GROUPS)
    assert len({judged.query for judged in JUDGEMENTS}) == len(JUDGEMENTS)
