"""Queueing and sending one message. The message is a job of kind "mail": its payload
holds what to send, its token gives the message a stable Message-ID (the same on every
attempt, so a receiving system can tell a repeat), and the runner retries it with backoff
while the SMTP server is down or answers "try later"."""

from __future__ import annotations

import contextlib
import smtplib
from email.utils import parseaddr
from typing import Any

from flask import current_app, has_request_context, request, url_for

from casestudies.jobs import JobRefused, enqueue, handler
from casestudies.models.jobs import Job

MAIL_JOB = "mail"
# Outside a request (a job, the command line) and with no SITE_URL: where `make run` serves.
FALLBACK_SITE_URL = "http://127.0.0.1:5000"
# SMTP answers that won't change by trying again (RFC 5321: 5yz is permanent), except a
# refused login (530, 534, 535), which is the site's settings and is fixed by an admin.
RETRYABLE_PERMANENT = {530, 534, 535}
MAX_ADDRESS_LENGTH = 254


def queue_mail(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str,
    unsubscribe_url: str | None = None,
    unsubscribe_post: bool = True,
    max_attempts: int | None = None,
) -> Job:
    """Enqueue one message to one address, in the caller's transaction: it is sent only if
    that transaction commits. `kind` names what it is ("password-reset", a notification
    kind) for the job list; with `unsubscribe_url` the message carries List-Unsubscribe
    (and, with `unsubscribe_post`, RFC 8058 one-click List-Unsubscribe-Post) headers.
    `max_attempts` (default MAIL_MAX_ATTEMPTS) is less for a message that is worthless late."""
    to = to.strip()
    if not to or len(to) > MAX_ADDRESS_LENGTH or "@" not in to or any(ch in to for ch in "\r\n,<>"):
        raise ValueError(f"not one email address: {to!r}")
    if "\n" in subject or "\r" in subject:
        raise ValueError("a subject is one line")
    payload: dict[str, Any] = {"to": to, "subject": subject, "text": text, "html": html, "kind": kind}
    if unsubscribe_url:
        payload["unsubscribe_url"] = unsubscribe_url
        payload["unsubscribe_post"] = bool(unsubscribe_post)
    return enqueue(
        MAIL_JOB,
        payload,
        label=f"Email ({kind}) to {to}",
        max_attempts=max_attempts or int(current_app.config["MAIL_MAX_ATTEMPTS"]),
    )


def absolute_path(path: str) -> str:
    """A path in the app as a full address, for an email read outside it: SITE_URL's when
    set (production must set it: an address built from a request's Host header could be
    pointed at another site by whoever sent that request); otherwise this request's own
    (development), else where `make run` serves (a command, a job)."""
    site = str(current_app.config.get("SITE_URL") or "").rstrip("/")
    if not site:
        site = request.host_url.rstrip("/") if has_request_context() else FALLBACK_SITE_URL
    return site + path


def app_path(endpoint: str, **values: Any) -> str:
    """An endpoint's path in the app, also where no request is (a job, the command line)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def absolute_url(endpoint: str, **values: Any) -> str:
    return absolute_path(app_path(endpoint, **values))


def message_id(job: Job) -> str:
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "every-seat.invalid"
    return f"<{job.token}.{MAIL_JOB}@{domain}>"


def build_message(job: Job, payload: dict[str, Any]):
    from flask_mailman import EmailMultiAlternatives

    headers = {"Message-ID": message_id(job), "Auto-Submitted": "auto-generated"}
    if payload.get("unsubscribe_url"):
        headers["List-Unsubscribe"] = f"<{payload['unsubscribe_url']}>"
        if payload.get("unsubscribe_post", True):
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["text"],
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[payload["to"]],
        headers=headers,
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    return message


def _permanent(error: smtplib.SMTPException) -> str | None:
    """The server's permanent refusal of this message, or None if trying again may help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            return f"The mail server refused the address: {codes[0]} {error.recipients}"
        return None
    code = getattr(error, "smtp_code", None)
    if isinstance(code, int) and 500 <= code < 600 and code not in RETRYABLE_PERMANENT:
        reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"The mail server refused the message: {code} {reply}"
    return None


@handler(MAIL_JOB, max_attempts=12)
def send(job: Job, payload: dict[str, Any]) -> None:
    """Send the job's message. A connection error or a "try later" (4yz) answer raises, and
    the runner tries again with backoff; a permanent refusal (5yz) refuses the job."""
    message = build_message(job, payload)
    backend = connection()
    try:
        backend.open()
        if backend.send_messages([message]) != 1:
            raise RuntimeError("the mail backend did not send the message")
    except smtplib.SMTPException as error:
        refusal = _permanent(error)
        if refusal:
            raise JobRefused(refusal) from error
        raise
    finally:
        # Once the server has taken the message, a failed goodbye (QUIT) must not fail the
        # job: it would be sent again.
        with contextlib.suppress(OSError):
            backend.close()
    return None


def connection():
    """A backend for the settings in force now (not those at start-up): SMTP when
    MAIL_SERVER is set, else the development folder."""
    config = current_app.config
    mailman = current_app.extensions["mailman"]
    if not config["MAIL_SERVER"]:
        from casestudies.mail.backends import FolderBackend

        return FolderBackend(mailman=mailman, file_path=config["MAIL_DIR"])
    from casestudies.mail.backends import VerifiedSmtpBackend

    return VerifiedSmtpBackend(
        mailman=mailman,
        host=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        username=config["MAIL_USERNAME"] or None,
        password=config["MAIL_PASSWORD"] or None,
        use_tls=bool(config["MAIL_USE_TLS"]),
        use_ssl=bool(config["MAIL_USE_SSL"]),
        timeout=float(config["MAIL_TIMEOUT"]),
        ca_file=config["MAIL_TLS_CA_FILE"],
    )


def mail_destination() -> str:
    """Where mail goes, in words (printed by `make run` and `flask mail where`)."""
    config = current_app.config
    if config["MAIL_SERVER"]:
        how = "SSL" if config["MAIL_USE_SSL"] else "STARTTLS" if config["MAIL_USE_TLS"] else "no encryption"
        server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
        return f"SMTP server {server} ({how}), from {config['MAIL_DEFAULT_SENDER']}"
    return f"written to files in {config['MAIL_DIR']} (no MAIL_SERVER set)"
