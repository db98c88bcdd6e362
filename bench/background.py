"""`python -m bench.background`: what the background process costs (issues 29 and 30).

On the sample library in a temporary folder (SQLite):
1. idle CPU: `python -m casestudies.background`, once it has built its index and rested a
   few seconds, measured over --seconds from /proc/<pid>/stat (the process itself; the warm
   renderer is a child of its own and waits on a pipe);
2. first-PDF latency: a sample case's print view (as the PDF job receives it) made into a
   PDF by `render_in_child`, cold (a new Python process per PDF: WeasyPrint imported and
   the stylesheet parsed for each, as every uncached PDF cost before) and warm (the
   renderer the background process keeps started), --renders times each.
Prints one JSON object; the machine's load average is in it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = "receptionist-raising-concerns"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(env: dict[str, str], seconds: float) -> float:
    """ms of CPU per second of the background process on an idle library."""
    process = subprocess.Popen([sys.executable, "-m", "casestudies.background"], cwd=ROOT, env=env)
    try:
        state = Path(env["SEARCH_INDEX_DIR"]) / "journal-cursor.json"
        deadline = time.monotonic() + 120
        while not state.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the background process built no index in 120 s")
            time.sleep(0.2)
        time.sleep(5)  # past start-up
        start, before = time.monotonic(), cpu_seconds(process.pid)
        time.sleep(seconds)
        return (cpu_seconds(process.pid) - before) * 1000 / (time.monotonic() - start)
    finally:
        process.terminate()
        process.wait(30)


def print_html() -> tuple[str, Path]:
    """The sample case's print view as its PDF job gets it, and the static folder."""
    from flask import render_template
    from sqlalchemy import select

    from app import create_app
    from casestudies.extensions import db
    from casestudies.markdown import render_markdown
    from casestudies.models import Case

    app = create_app()
    with app.test_request_context("/"):
        case = db.session.scalars(select(Case).where(Case.slug == SLUG)).one()
        html = render_template("library/case_print.html", case=case, body_html=render_markdown(case.body), for_pdf=True)
        return html, Path(app.static_folder or "static")


def pdf_latencies(html: str, static_dir: Path, renders: int) -> dict[str, list[float]]:
    from casestudies.guides import pdf, warm

    def timed() -> float:
        start = time.perf_counter()
        made = pdf.render_in_child(html, base_url="http://localhost/", static_dir=static_dir, seconds=60)
        assert made.startswith(b"%PDF")
        return round((time.perf_counter() - start) * 1000, 1)

    cold = []
    for _ in range(renders):
        cold.append(timed())
        time.sleep(1)
    renderer = warm.enable(static_dir)
    hot = []
    try:
        for _ in range(renders):
            time.sleep(8)  # the background process is idle between PDFs: its child is ready
            assert renderer.ready_pid is not None
            hot.append(timed())
    finally:
        warm.disable()
    return {"cold_ms": cold, "warm_ms": hot}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.background")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--renders", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="every-seat-background-") as folder:
        work = Path(folder)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'library.db'}",
            "SEARCH_INDEX_DIR": str(work / "index"),
            "JOBS_DIR": str(work / "jobs"),
            "EVERY_SEAT_INSTANCE": str(work / "instance"),
        }
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "setup-demo"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (work / "index").rename(work / "setup-index")  # the background process builds its own
        os.environ.update(env)
        html, static_dir = print_html()
        result: dict[str, object] = {"load_average_before": os.getloadavg()}
        result["idle_cpu_ms_per_s"] = round(idle_cpu(env, args.seconds), 2)
        latencies = pdf_latencies(html, static_dir, args.renders)
        result.update(latencies)
        result["cold_median_ms"] = statistics.median(latencies["cold_ms"])
        result["warm_median_ms"] = statistics.median(latencies["warm_ms"])
        result["load_average_after"] = os.getloadavg()
        result["cpus"] = os.cpu_count()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
