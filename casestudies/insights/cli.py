"""`flask insights ...`: thin wrappers over the insights services."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from casestudies.extensions import db
from casestudies.insights.retention import aggregate

insights_cli = AppGroup("insights", help="Curators' insights: search gaps and library use.")


@insights_cli.command("aggregate")
def aggregate_command() -> None:
    """Daily (cron): forget yesterday's digests; merge daily search rows past INSIGHTS_RAW_DAYS into months."""
    done = aggregate()
    db.session.commit()
    click.echo(
        f"{done.digests_cleared} digests cleared, {done.daily_rows_merged} daily search rows merged into "
        f"{done.monthly_rows} monthly rows, {done.clicks_deleted} old click rows deleted"
    )
