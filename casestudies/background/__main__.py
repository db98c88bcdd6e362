"""`python -m casestudies.background [--app MODULE:FACTORY()] [--parent PID]`: this
server's background process (process.py), as gunicorn's arbiter starts it."""

from __future__ import annotations

import argparse

from casestudies.background.process import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m casestudies.background")
    parser.add_argument("--app", default="app:create_app()", help="the app, as gunicorn names it")
    parser.add_argument("--parent", type=int, help="stop when this process (the server) is gone")
    args = parser.parse_args(argv)
    from gunicorn.util import import_app

    run(import_app(args.app), parent=args.parent)


if __name__ == "__main__":
    main()
