"""A real SMTP server on loopback (aiosmtpd), for the mail tests: `smtp_server` starts one
on a free 127.0.0.1 port, records what it accepts, can answer "try later" (451) or "no"
(550), and can be stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from email.message import Message

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """The server's handler: what it accepted, and how it answers the next RCPT."""

    def __init__(self) -> None:
        self.answer = "accept"  # or "later" (451) or "reject" (550)
        self.delay = 0.0
        self.received: list[tuple[str, list[str], bytes]] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.answer == "later":
            return "451 4.3.0 Try again later"
        if self.answer == "reject":
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 Message accepted for delivery"

    def messages(self) -> list[Message]:
        with self._lock:
            return [email.message_from_bytes(content) for _, _, content in self.received]


class SmtpServer:
    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", _free_port()
        self.inbox = Inbox()
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.inbox, hostname=self.host, port=self.port, server_hostname="localhost")
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self) -> dict[str, object]:
        """The app's settings that send mail to this server (no TLS on loopback)."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 5.0}


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
