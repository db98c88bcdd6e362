"""Mail backends. SMTP: Flask-Mailman's, with STARTTLS that verifies the server.
Development: each message a file of its own (`<time>-<job token>.eml`, as
sent), in MAIL_DIR. One message a file lets a person open it in a mail program and a test
find it; Flask-Mailman's own file backend appends every message of a connection to one log."""

from __future__ import annotations

import contextlib
import os
import re
import ssl
from datetime import UTC, datetime
from pathlib import Path

from flask_mailman.backends.base import BaseEmailBackend
from flask_mailman.backends.smtp import EmailBackend as SmtpBackend
from flask_mailman.utils import DNS_NAME
from werkzeug.utils import cached_property

from casestudies.config import private_folder


class FolderBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or self.mailman.file_path)

    def send_messages(self, email_messages) -> int:
        folder = private_folder(self.folder)
        sent = 0
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
            local = message.extra_headers.get("Message-ID", "").strip("<>").partition("@")[0]
            name = re.sub(r"[^A-Za-z0-9._-]", "", local)[:60] or os.urandom(6).hex()
            path = folder / f"{stamp}-{name}.eml"
            temporary = path.with_suffix(".part")
            # Written aside, then renamed: a reader never sees half a message.
            temporary.write_bytes(message.message().as_bytes())
            temporary.chmod(0o600)
            temporary.rename(path)
            sent += 1
        return sent


class VerifiedSmtpBackend(SmtpBackend):
    """Flask-Mailman's SMTP backend, but STARTTLS checks the server's certificate and name.
    (Flask-Mailman calls smtplib's starttls() without a context, and smtplib then makes an
    unverified one: anyone on the path could pose as the mail server.) The system's
    certificate authorities are trusted, or MAIL_TLS_CA_FILE's."""

    def __init__(self, *args, ca_file: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ca_file = ca_file or None

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.ssl_certfile or self.ssl_keyfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def open(self) -> bool | None:
        if self.connection:
            return False
        params: dict = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        if self.use_ssl:
            params["context"] = self.ssl_context
        try:
            self.connection = self.connection_class(self.host, self.port, **params)
            if not self.use_ssl and self.use_tls:
                self.connection.starttls(context=self.ssl_context)
            if self.username and self.password:
                self.connection.login(self.username, self.password)
            return True
        except OSError:
            with contextlib.suppress(OSError):
                self.close()  # a half-open connection (a failed STARTTLS) is not kept
            self.connection = None
            if not self.fail_silently:
                raise
            return None
