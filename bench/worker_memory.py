"""Web workers' resident memory under hostile queries, over HTTP (issue 23).

    .venv/bin/python -m bench.worker_memory [--cases 1000] [--searches 3000] [--words 24]

Generates and imports a library as `make bench` does (bench/run.py's import phase, in a
temporary directory), serves it with the benchmark's gunicorn command (2 sync workers and
the background process), signs in as a learner and warms every worker up with ordinary
queries. Then it sends searches of WORDS random letter strings, all with `exact=1` (the
issue's case: no spelling check, so nothing is cut short), from 4 client threads, and reads
each web worker's VmRSS from /proc before, at each quarter and after. The bound: at most
50 MB of growth per worker, whatever the queries. tests/test_worker_memory.py runs it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import string
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

from .client import AppClient
from .generate import SEED
from .run import Server, load_average, proc_status_mb, run_phase, signed_in

GROWTH_LIMIT_MB = 50
CLIENTS = 4


def random_words(rng: random.Random, count: int) -> str:
    letters = string.ascii_lowercase
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 12))) for _ in range(count))


def worker_rss(server: Server) -> dict[int, float]:
    return {pid: proc_status_mb("VmRSS", pid) for pid in server.worker_pids()}


def send(client: AppClient, paths: list[str], errors: list[int]) -> None:
    for path in paths:
        try:
            status, _ = client.get(path)
        except OSError:
            status = 0
        if status != 200:
            errors.append(status)


def measure(workdir: Path, searches: int, words: int, seed: int = SEED) -> dict[str, object]:
    """workdir holds an imported library (bench/run.py's import phase): the searches against
    a server on it, and each web worker's resident memory before, along the way and after."""
    rng = random.Random(seed)
    paths = ["/search?" + urlencode({"q": random_words(rng, words), "exact": "1"}) for _ in range(searches)]
    server = Server(workdir, name="gunicorn-memory")
    try:
        client = signed_in(server, workdir)  # every worker has opened its searcher
        before = worker_rss(server)
        steps: list[dict[int, float]] = []
        errors: list[int] = []
        load = [load_average()]
        quarter = max(1, searches // 4)
        for start in range(0, searches, quarter):
            chunk = paths[start : start + quarter]
            threads = [threading.Thread(target=send, args=(client, chunk[i::CLIENTS], errors)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            steps.append(worker_rss(server))
        load.append(load_average())
        after = steps[-1]
        background = [proc_status_mb("VmRSS", pid) for pid in server.background_pids()]
    except BaseException:
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        server.stop()
    # A worker that was restarted (killed by a time-out, say) would hide its growth.
    same_workers = set(before) == set(after)
    growth = {pid: round(after[pid] - before[pid], 1) for pid in before if pid in after}
    return {
        "searches": searches,
        "words": words,
        "errors": len(errors),
        "same_workers": same_workers,
        "rss_before_mb": list(before.values()),
        "rss_after_mb": list(after.values()),
        "rss_by_quarter_mb": [list(step.values()) for step in steps],
        "growth_mb": list(growth.values()),
        "growth_total_mb": round(sum(growth.values()), 1),
        "growth_max_mb": max(growth.values(), default=float("nan")),
        "background_rss_mb": background,
        "load_average_before_after": load,
    }


def prepare(workdir: Path, cases: int, seed: int = SEED) -> None:
    """An imported library of `cases` generated cases and the benchmark's learner in workdir."""
    (workdir / "instance").mkdir(exist_ok=True)
    run_phase("import", workdir, cases, seed, False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=3000)
    parser.add_argument("--words", type=int, default=24)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="every-seat-worker-memory-"))
    try:
        prepare(workdir, args.cases, args.seed)
        result = {"cases": args.cases, **measure(workdir, args.searches, args.words, args.seed)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=1))
    verdict = "met" if result["same_workers"] and result["growth_max_mb"] <= GROWTH_LIMIT_MB else "NOT met"
    print(f"largest growth of one worker: {result['growth_max_mb']} MB (bound {GROWTH_LIMIT_MB} MB): {verdict}")


if __name__ == "__main__":
    main()
