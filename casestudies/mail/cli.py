"""`flask mail where` (where messages go) and `flask mail test ADDRESS` (queue a test
message, to check the SMTP settings)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from casestudies.extensions import db

mail_cli = AppGroup("mail", help="Email: where it goes, and a test message.")


@mail_cli.command("where")
def where() -> None:
    """Say where this configuration sends mail."""
    from casestudies.mail import mail_destination

    click.echo(f"Mail: {mail_destination()}")


@mail_cli.command("test")
@click.argument("address")
def test_message(address: str) -> None:
    """Queue a test message to ADDRESS (the job runner sends it)."""
    from casestudies.mail import queue_mail, render_mail

    subject = "Every Seat: a test message"
    rendered = render_mail("test", subject=subject)
    job = queue_mail(to=address, subject=subject, text=rendered.text, html=rendered.html, kind="test")
    db.session.commit()
    click.echo(f"Queued job {job.id}: a test message to {address}; the job runner sends it.")
