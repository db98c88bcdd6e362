"""Search relevance on the sample library: `make relevance`.

    .venv/bin/python -m bench.relevance [--json PATH]

Runs every judged query of tests/relevance/judgements.yaml (written by reading the cases,
before any search was run) through the app's search page as a signed-in learner, and
through the plain SQLite FTS5 baseline of bench/fts5.py over the same cases, and prints
nDCG@10, MRR and recall@10 for each group of queries and overall (means over queries).

The app is a throw-away one in a temporary directory, set up only through its command
line (init-db, import, create-user) and read only through its pages, so that this does
not depend on where the app's modules live.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "casestudies" / "sample"
JUDGEMENTS_FILE = ROOT / "tests" / "relevance" / "judgements.yaml"
GROUPS = ("natural", "topic", "seat", "acronym", "misspelling", "variant", "phrase", "multi", "question", "concept")
K = 10
LEARNER_EMAIL = "learner@example.org"
MAX_PAGES = 3  # pages fetched to fill the top K, if the app shows fewer than K a page

# The results list of templates/library/search.html and each item's title link
# (templates/library/_case_item.html); tag links and the like point elsewhere.
_RESULTS_LIST = re.compile(r'<ol class="[^"]*\bapp-case-list\b[^"]*"[^>]*>(.*?)</ol>', re.S)
_RESULT_ITEM = re.compile(r'<li class="app-case-list__item">(.*?)</li>', re.S)
_CASE_LINK = re.compile(r'href="/cases/([^"/?#]+)(?:\?from_search=[^"]*)?"')  # a partial match's link says so


@dataclass(frozen=True)
class Judged:
    query: str
    group: str
    relevant: dict[str, int]  # slug -> grade (1 or 2); unlisted slugs are 0


def load_judgements(path: Path = JUDGEMENTS_FILE) -> list[Judged]:
    data = yaml.safe_load(path.read_text("utf-8"))
    judged = []
    for entry in data:
        relevant = {str(slug): int(grade) for slug, grade in (entry.get("relevant") or {}).items()}
        if entry["group"] not in GROUPS or any(grade not in (1, 2) for grade in relevant.values()):
            raise ValueError(f"bad judgement: {entry!r}")
        judged.append(Judged(str(entry["query"]), entry["group"], relevant))
    return judged


# -- metrics -------------------------------------------------------------------------------
def dcg(gains: Sequence[int]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([relevant.get(slug, 0) for slug in ranked[:k]]) / ideal


def reciprocal_rank(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    for rank, slug in enumerate(ranked[:k], start=1):
        if relevant.get(slug, 0) >= 1:
            return 1.0 / rank
    return 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    wanted = {slug for slug, grade in relevant.items() if grade >= 1}
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


def scores(ranked: Sequence[str], judged: Judged) -> dict[str, float]:
    return {
        "ndcg": ndcg_at(ranked, judged.relevant),
        "mrr": reciprocal_rank(ranked, judged.relevant),
        "recall": recall_at(ranked, judged.relevant),
    }


def summarise(judgements: list[Judged], per_query: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Means per group and overall ("all"), with n."""
    rows: dict[str, dict[str, float]] = {}
    for group in [*GROUPS, "all"]:
        picked = [s for j, s in zip(judgements, per_query, strict=True) if group in ("all", j.group)]
        if not picked:
            continue
        rows[group] = {"n": len(picked)} | {
            metric: round(sum(s[metric] for s in picked) / len(picked), 4) for metric in ("ndcg", "mrr", "recall")
        }
    return rows


# -- the app, through its command line and its pages ---------------------------------------
def result_slugs(page_html: str) -> list[str]:
    """Case slugs of the results list, in page order (one per result item)."""
    found = _RESULTS_LIST.search(page_html)
    if found is None:
        return []
    slugs = []
    for item in _RESULT_ITEM.findall(found.group(1)):
        link = _CASE_LINK.search(item)
        if link is not None:
            slugs.append(unquote(html.unescape(link.group(1))))
    return slugs


def _invoke(runner: Any, args: list[str], input: str | None = None) -> str:
    result = runner.invoke(args=args, input=input)
    if result.exit_code != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.exit_code}): {result.output}{result.exception!r}")
    return result.output


@contextmanager
def app_searcher(workdir: Path, sample_dir: Path = SAMPLE_DIR) -> Iterator[Callable[[str], list[str]]]:
    """A throw-away app with the sample library and a signed-in learner; yields
    search(text) -> the slugs of the top K results, as the search page lists them."""
    from app import create_app

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir}/r.db",
            "SEARCH_INDEX_DIR": str(workdir / "index"),
            "TESTING": True,
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": False,
        }
    )
    runner = app.test_cli_runner()
    password = secrets.token_urlsafe(18)
    with app.app_context():  # the commands are plain Click commands: they need one pushed
        _invoke(runner, ["init-db"])
        _invoke(runner, ["import", "--publish", str(sample_dir)])
        _invoke(runner, ["create-user", LEARNER_EMAIL, "--role", "learner"], input=password + "\n")
    client = app.test_client()
    response = client.post("/login", data={"email": LEARNER_EMAIL, "password": password})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}")

    def search(text: str) -> list[str]:
        slugs: list[str] = []
        for page in range(1, MAX_PAGES + 1):
            args: dict[str, str | int] = {"q": text} if page == 1 else {"q": text, "page": page}
            response = client.get("/search?" + urlencode(args))
            if response.status_code != 200:
                raise RuntimeError(f"/search?q={text!r}: HTTP {response.status_code}")
            found = result_slugs(response.get_data(as_text=True))
            slugs.extend(slug for slug in found if slug not in slugs)
            if len(slugs) >= K or not found:
                break
        return slugs[:K]

    yield search


# -- the FTS5 baseline ---------------------------------------------------------------------
def read_cases(sample_dir: Path = SAMPLE_DIR) -> list[Any]:
    from casestudies.transfer.casefile import parse_case_file

    return [parse_case_file(path.read_bytes(), path.name) for path in sorted(sample_dir.glob("*.md"))]


@contextmanager
def fts5_searcher(
    workdir: Path, sample_dir: Path = SAMPLE_DIR, *, any_word: bool = False
) -> Iterator[Callable[[str], list[str]]]:
    """bench/fts5.py's index of the same cases (it searches published cases only); every
    word must match, or with any_word any of them (ranked by BM25 alone)."""
    from .fts5 import Fts5Library
    from .queries import Query

    library = Fts5Library(workdir / "fts5.db", any_word=any_word)
    try:
        library.build(read_cases(sample_dir))

        def search(text: str) -> list[str]:
            page = library.search(Query(kind="relevance", text=text))
            return [str(hit["slug"]) for hit in page["hits"]][:K]

        yield search
    finally:
        library.close()


# -- the run -------------------------------------------------------------------------------
def evaluate(search: Callable[[str], list[str]], judgements: list[Judged]) -> dict[str, Any]:
    ranked = {j.query: search(j.query) for j in judgements}
    per_query = [scores(ranked[j.query], j) for j in judgements]
    return {
        "groups": summarise(judgements, per_query),
        "queries": [
            {"query": j.query, "group": j.group, "results": ranked[j.query]} | s
            for j, s in zip(judgements, per_query, strict=True)
        ],
    }


def evaluate_app(judgements: list[Judged] | None = None) -> dict[str, Any]:
    judgements = load_judgements() if judgements is None else judgements
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp, app_searcher(Path(tmp)) as search:
        return evaluate(search, judgements)


def evaluate_fts5(judgements: list[Judged] | None = None, *, any_word: bool = False) -> dict[str, Any]:
    judgements = load_judgements() if judgements is None else judgements
    with (
        tempfile.TemporaryDirectory(prefix="relevance-fts5-") as tmp,
        fts5_searcher(Path(tmp), any_word=any_word) as search,
    ):
        return evaluate(search, judgements)


def table(
    app_rows: dict[str, dict[str, float]],
    fts_rows: dict[str, dict[str, float]],
    fts_any_rows: dict[str, dict[str, float]] | None = None,
) -> str:
    head = f"{'group':<12} {'n':>3}   {'app nDCG@10 / MRR / R@10':<26} {'FTS5 nDCG@10 / MRR / R@10':<26}"
    if fts_any_rows is not None:
        head += f" {'FTS5 any word: nDCG@10 / MRR / R@10':<26}"
    lines = [head, "-" * len(head)]
    three = "{ndcg:.3f} / {mrr:.3f} / {recall:.3f}"
    for group, row in app_rows.items():
        fts = fts_rows[group]
        line = f"{group:<12} {int(row['n']):>3}   {three.format(**row):<26} {three.format(**fts):<26}"
        if fts_any_rows is not None:
            line += f" {three.format(**fts_any_rows[group]):<26}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures (and each query's results) here")
    args = parser.parse_args(argv)
    judgements = load_judgements()
    app_run = evaluate_app(judgements)
    fts_run = evaluate_fts5(judgements)
    fts_any_run = evaluate_fts5(judgements, any_word=True)
    print(f"{len(judgements)} judged queries, top {K} results; means over queries.")
    print("FTS5: every word must match; FTS5 any word: words joined by OR, ranked by BM25 alone.")
    print(table(app_run["groups"], fts_run["groups"], fts_any_run["groups"]))
    if args.json:
        figures = {"k": K, "app": app_run, "fts5": fts_run, "fts5_any_word": fts_any_run}
        args.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
        print(f"Wrote {args.json}.", file=sys.stderr)


if __name__ == "__main__":
    main()
