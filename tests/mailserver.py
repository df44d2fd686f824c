"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 with STARTTLS and AUTH.

The certificate comes from a throwaway CA made with trustme; clients trust that CA (its PEM
file is ``ca_file``), certificate checks stay on. ``replies`` scripts the answers: a
function of the message's number (1, 2, ...) and envelope that returns an SMTP reply
("451 4.3.0 try later"), "drop" (close the connection without answering), or None (accept).
Only accepted messages land in ``inbox``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

USER = "desk@clinic.test"
PASSWORD = "s3cret-Pa55-word-never-printed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class MailServer:
    folder: Path
    port: int = field(default_factory=free_port)
    starttls: bool = True
    auth: bool = True
    implicit_tls: bool = False  # TLS from the first byte (port 465 style) instead of STARTTLS
    replies: object = None
    inbox: list[Received] = field(default_factory=list)
    offered: int = 0  # messages offered (DATA finished), accepted or not
    logins: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        import trustme

        self.ca = trustme.CA()
        self.ca_file = self.folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self._cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._lock = threading.Lock()
        self.controller = None

    # ---- aiosmtpd handler

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.offered += 1
            n = self.offered
        reply = self.replies(n, envelope) if self.replies else None
        if reply == "drop":
            server.transport.close()
            return "421 dropped"  # never reaches the client: the connection is gone
        if reply:
            return reply
        self.inbox.append(self.received(envelope))
        return "250 2.0.0 OK queued"

    @staticmethod
    def received(envelope) -> Received:
        return Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            envelope.original_content or envelope.content,
        )

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((login, password))
            return AuthResult(success=login == USER and password == PASSWORD, handled=False)
        return AuthResult(success=False, handled=False)

    # ---- life

    def start(self) -> MailServer:
        from aiosmtpd.controller import Controller

        options = {}
        if self.implicit_tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._cert.configure_cert(context)
            options.update(ssl_context=context, server_hostname="127.0.0.1")
        elif self.starttls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._cert.configure_cert(context)
            options.update(tls_context=context, require_starttls=True)
        if self.auth:
            options.update(
                authenticator=self._authenticator,
                auth_required=True,
                auth_require_tls=self.starttls and not self.implicit_tls,
            )
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self, **email) -> str:
        """A clinic config (YAML text) that sends to this server, with a state_dir beside it."""
        settings = {
            "from": "desk@clinic.test",
            "host": "127.0.0.1",
            "port": self.port,
            "security": "tls" if self.implicit_tls else ("starttls" if self.starttls else "none"),
            "ca_file": str(self.ca_file),
            "timeout": 10,
            "retries": 2,
            "retry_wait": 0.05,
            **({"username": USER} if self.auth else {}),
            **email,
        }
        lines = [
            "name: Harbour Skin Clinic",
            "phone: 020 7946 0000",
            "timezone: Europe/London",
            "state_dir: state",
            "email:",
        ]
        lines += [f"  {k}: {v}" for k, v in settings.items() if v is not None]
        return "\n".join(lines) + "\n"
