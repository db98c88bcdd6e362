"""The child process of casestudies.guides.pdf: HTML on stdin -> a tagged PDF on stdout.
Arguments: the base URL the HTML's links resolve against, and the app's static folder."""

from __future__ import annotations

import sys
from pathlib import Path

from casestudies.guides.render import render_pdf


def main() -> None:
    base_url, static_dir = sys.argv[1], Path(sys.argv[2])
    html = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(render_pdf(html, base_url=base_url, static_dir=static_dir))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
