"""A real SMTP server on loopback (aiosmtpd), for the mail tests: `smtp_server` starts one
on a free 127.0.0.1 port, records what it accepts, can answer "try later" (451) or "no"
(550), and can be stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

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
        self.over_tls: list[bool] = []  # per message: whether it came after STARTTLS
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
            self.over_tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Message]:
        with self._lock:
            return [email.message_from_bytes(content) for _, _, content in self.received]


class SmtpServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.host, self.port = "127.0.0.1", _free_port()
        self.inbox = Inbox()
        self.tls = tls
        self._controller = None
        self.certificate: Path | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        tls = {"tls_context": self.tls, "require_starttls": True} if self.tls else {}
        self._controller = Controller(
            self.inbox, hostname=self.host, port=self.port, server_hostname="localhost", **tls
        )
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


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), signed by itself."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def starttls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS, with a self-signed certificate (its PEM in
    `server.certificate`: trusted only by an app told to trust it)."""
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tls=context)
    server.certificate = cert
    server.start()
    try:
        yield server
    finally:
        server.stop()
