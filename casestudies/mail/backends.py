"""The development backend: each message a file of its own (`<time>-<job token>.eml`, as
sent), in MAIL_DIR. One message a file lets a person open it in a mail program and a test
find it; Flask-Mailman's own file backend appends every message of a connection to one log."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from flask_mailman.backends.base import BaseEmailBackend

from casestudies.config import private_folder


class EmailBackend(BaseEmailBackend):
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
