"""`flask background`: this server's background process in the foreground (systemd, or by
hand when the web server is started without gunicorn.conf.py)."""

from __future__ import annotations

import click
from flask import current_app

from casestudies.background.process import run


@click.command("background")
def background_command() -> None:
    """Run this server's search indexer, job runner and warm PDF renderer until stopped
    (SIGTERM or Ctrl+C). A second one on the same server waits for the first one's locks."""
    click.echo("Background process: search indexer, job runner and PDF renderer (Ctrl+C to stop).")
    run(current_app._get_current_object())
