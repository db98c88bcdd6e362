"""`flask notifications send-due`: the notifications that come from the calendar (review
dates, handouts tomorrow, the weekly digest), meant for cron, daily; a second run the same
day sends nothing more."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from casestudies.cli import commits

notifications_cli = AppGroup("notifications", help="Notifications (casestudies/notifications/).")


@notifications_cli.command("send-due")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Run as if on this date.")
@commits
def send_due_command(today: object) -> None:
    """Send the review-date, handout-date and weekly-digest notifications due today."""
    from casestudies.notifications.due import send_due

    day = today.date() if today is not None else date.today()
    report = send_due(day)
    click.echo(
        f"{day.isoformat()}: {report.review_due} review-date, {report.handouts} handout-date and "
        f"{report.digests} weekly-digest notification(s) sent."
    )
