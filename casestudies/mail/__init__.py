"""Email: messages are jobs. `queue_mail` enqueues one in the caller's transaction (so a
message exists only if the request that made it commits); the job runner sends it over
SMTP (Flask-Mailman), or, with no MAIL_SERVER set, writes it to a folder (MAIL_DIR,
default instance/mail/) so development needs no mail server. See README, "Email"."""

from __future__ import annotations

import logging

from flask import Flask

from casestudies.mail.delivery import MAIL_JOB, absolute_path, absolute_url, app_path, mail_destination, queue_mail
from casestudies.mail.render import render_mail

__all__ = [
    "MAIL_JOB",
    "absolute_path",
    "absolute_url",
    "app_path",
    "init_app",
    "mail_destination",
    "queue_mail",
    "render_mail",
]


def init_app(app: Flask) -> None:
    from flask_mailman import Mail

    from casestudies.mail.cli import mail_cli

    Mail(app)
    app.cli.add_command(mail_cli)
    if app.config["EVERY_SEAT_ENV"] == "production" and not app.config["MAIL_SERVER"]:
        logging.getLogger(__name__).warning(
            "no MAIL_SERVER set: mail (password reset links among it) is written to %s, not sent",
            app.config["MAIL_DIR"],
        )
