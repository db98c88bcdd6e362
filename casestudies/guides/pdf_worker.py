"""The child process of casestudies.guides.pdf: it prepares first (WeasyPrint imported,
the site stylesheet parsed), then reads its job from stdin: one JSON line (the base URL the
HTML's links resolve against, the app's static folder), then the HTML. The tagged PDF goes
to stdout. Argument: the static folder whose stylesheet to parse ahead of time. A child
started ahead of time (casestudies/guides/warm.py) waits on stdin; if its parent goes
away it reads nothing and exits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from casestudies.guides.render import _stylesheet, render_pdf


def main() -> None:
    if len(sys.argv) > 1:
        _stylesheet(Path(sys.argv[1]))  # most of a render's cost, done before the job comes
    header = sys.stdin.buffer.readline()
    if not header.strip():
        return  # no job: the parent went away
    job = json.loads(header)
    html = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(render_pdf(html, base_url=job["base_url"], static_dir=Path(job["static_dir"])))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
