"""Sending over one reused smtplib connection: encrypted, verified, timed out, retried.

``Sender.send(raw, to)`` returns an ``Outcome``: sent (the server answered 250 to the
message), refused for good (5xx: not retried), or still refused after the retries (4xx,
a dropped connection or a timeout, retried with back-off: ``retry_wait``, doubled each
time). A server that cannot be reached at all after the retries raises
``ServerUnreachable`` so the run stops instead of waiting on every message; a server that
refuses our login, has a certificate that does not verify, or offers no STARTTLS raises
``MailServerError``: nothing is sent in the clear and nothing is sent unverified.

A message whose data went out whole (the final "." was sent) but whose answer never came
(the connection closed, or the answer came after the timeout) may have been delivered: it
comes back ``unconfirmed`` and is never retried. Retries are only for faults where nothing
can have been delivered: no connection, a failure before the data was complete, 4xx answers.

``security: none`` (plain text) is only for this machine: the host is looked up once, every
address it has must be loopback (127.0.0.0/8, ::1), and the connection goes to the address
checked, with no second look-up (a ``*.localhost`` name that resolves elsewhere is refused).

Answers are quoted with the patient's address replaced by ``<address>`` (servers often
echo it), and the password is never part of any message.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass

from mesocare.addresses import is_this_machine
from mesocare.errors import ConfigError, ExitCode, MesocareError
from mesocare.settings import EmailSettings


class MailServerError(MesocareError):
    """The mail server cannot be used at all (login refused, certificate, no encryption)."""

    exit_code = ExitCode.SKIPPED_ROWS


class ServerUnreachable(MailServerError):
    """The mail server could not be reached, even after the retries."""


@dataclass(frozen=True)
class Outcome:
    sent: bool
    permanent: bool = False  # a 5xx answer: do not try again until something changes
    answer: str = ""  # the server's last answer, or what went wrong, without the address
    attempts: int = 1
    unconfirmed: bool = False  # the data went out whole, no answer came: it may have been delivered


class _Watched:
    """An SMTP connection that knows whether the last message's data went out whole."""

    data_out = False

    def send(self, s) -> None:
        super().send(s)  # type: ignore[misc]
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):  # the data's end (periods quoted)
            self.data_out = True


class _SMTP(_Watched, smtplib.SMTP):
    pass


class _SMTPSSL(_Watched, smtplib.SMTP_SSL):
    pass


def loopback_address(host: str, port: int) -> str:
    """The address to connect to for ``security: none``: ``host`` looked up once, every
    address loopback, else ``MailServerError``."""
    name = host.strip().strip("[]").rstrip(".")
    try:
        found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in found]
        loopback = bool(addresses) and all(
            ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses
        )
    except (OSError, UnicodeError, ValueError) as e:
        raise MailServerError(
            f"email host {host} cannot be looked up ({_words(None, e)})."
        ) from None
    if not loopback:
        raise MailServerError(
            "email security is none, which sends unencrypted mail, so it is only allowed to this"
            f" machine, but {host} is also another machine's name: use starttls or tls."
        )
    return addresses[0]


def _words(code: int | None, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text or "").split())
    return (f"{code} {text}" if code else text)[:300]


def _scrub(answer: str, address: str) -> str:
    if not address:
        return answer
    low, needle = answer.lower(), address.lower()
    out, i = [], 0
    while True:
        j = low.find(needle, i)
        if j < 0:
            out.append(answer[i:])
            return "".join(out)
        out.append(answer[i:j] + "address")
        i = j + len(needle)


def tls_context(settings: EmailSettings) -> ssl.SSLContext:
    """The system's trusted certificates (or ``ca_file``), with host names checked."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as e:
        raise MailServerError(
            f"email ca_file {settings.ca_file}: the certificates cannot be read ({e})."
        ) from None
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class Sender:
    """One connection to the clinic's server, opened on first use and reopened when lost."""

    def __init__(self, settings: EmailSettings, password: str | None, sleep=time.sleep):
        if settings.security == "none" and not is_this_machine(settings.host):
            raise MailServerError(
                "email security is none, which sends unencrypted mail, "
                f"so it is only allowed to this machine, not to {settings.host}."
            )
        if settings.username and not password:
            raise ConfigError(
                "email username is set, but the password is not: "
                "put it in the environment variable MESOCARE_SMTP_PASSWORD."
            )
        self.settings = settings
        self._password = password
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        self._context = tls_context(settings) if settings.security != "none" else None
        # plain text: connect to the loopback address checked here, never to a second look-up
        plain = settings.security == "none"
        self._address = loopback_address(settings.host, settings.port) if plain else None
        self.connections = 0

    # ---- connection

    def _where(self) -> str:
        return f"the mail server {self.settings.host}:{self.settings.port}"

    def _connect(self) -> None:
        s = self.settings
        if s.security == "tls":
            smtp: smtplib.SMTP = _SMTPSSL(s.host, s.port, timeout=s.timeout, context=self._context)
        else:
            smtp = _SMTP(self._address or s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailServerError(
                        f"{self._where()} does not offer STARTTLS, "
                        "and mesocare does not send patients' mail unencrypted:"
                        " use security: tls if it expects TLS from the start."
                    )
                smtp.starttls(context=self._context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, self._password or "")
        except BaseException:
            _close(smtp)
            raise
        self._smtp = smtp
        self.connections += 1

    def _drop(self) -> None:
        if self._smtp is not None:
            _close(self._smtp)
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- sending

    def send(self, raw: bytes, to: str) -> Outcome:
        """Send one message; see the module's docstring for what comes back."""
        s = self.settings
        answer = ""
        only_connect_failures = True
        for attempt in range(1, s.retries + 2):
            if attempt > 1:
                self._sleep(s.retry_wait * 2 ** (attempt - 2))
            connecting = self._smtp is None
            text: bytes | str  # the server's answer, or our words for a lost connection
            try:
                if connecting:
                    self._connect()
                    connecting = False
                assert self._smtp is not None
                self._smtp.data_out = False  # type: ignore[attr-defined]
                self._smtp.sendmail(s.sender, [to], raw)
                return Outcome(sent=True, answer="250", attempts=attempt)
            except smtplib.SMTPAuthenticationError as e:
                self._drop()
                raise MailServerError(
                    f"{self._where()} refused the login of {s.username}: "
                    f"{_words(e.smtp_code, e.smtp_error)}."
                    " Check the username and MESOCARE_SMTP_PASSWORD."
                ) from None
            except ssl.SSLCertVerificationError as e:
                self._drop()
                raise MailServerError(
                    f"{self._where()}: its certificate could not be verified ({e.verify_message})."
                    " Use the server's real name as host, or give the clinic's own CA as email "
                    "ca_file."
                ) from None
            except smtplib.SMTPNotSupportedError as e:
                self._drop()
                raise MailServerError(f"{self._where()}: {_words(None, e)}.") from None
            except smtplib.SMTPRecipientsRefused as e:
                code, text = next(iter(e.recipients.values()), (None, b""))
            except (
                smtplib.SMTPResponseException
            ) as e:  # sender refused, data refused, 421 at connect...
                code, text = e.smtp_code, e.smtp_error
            except (smtplib.SMTPServerDisconnected, OSError) as e:
                delivered = not connecting and getattr(self._smtp, "data_out", False)
                self._drop()
                code, text = None, _lost(e, connecting)
                if delivered:  # the data went out whole and no answer came: never send it again
                    return Outcome(
                        sent=False,
                        answer=_scrub(_words(code, text), to),
                        attempts=attempt,
                        unconfirmed=True,
                    )
            answer = _scrub(_words(code, text), to)
            if not connecting:
                only_connect_failures = False
            if code is not None and 500 <= code < 600:
                if connecting:
                    self._drop()
                    raise MailServerError(f"{self._where()} refused the connection: {answer}.")
                return Outcome(sent=False, permanent=True, answer=answer, attempts=attempt)
            if code == 421 or connecting:
                self._drop()  # the server closes after 421; smtplib has already
        if only_connect_failures:
            raise ServerUnreachable(
                f"{self._where()} could not be reached after {s.retries + 1} tries: {answer}."
            )
        return Outcome(sent=False, permanent=False, answer=answer, attempts=s.retries + 1)


def _lost(error: BaseException, connecting: bool) -> str:
    if isinstance(error, TimeoutError):
        what = "no answer in time"
    elif isinstance(error, ConnectionRefusedError):
        what = "connection refused"
    elif isinstance(error, smtplib.SMTPServerDisconnected):
        what = "no answer in time" if "timed out" in str(error) else "the connection was closed"
    else:
        what = (
            error.strerror or error.__class__.__name__
            if isinstance(error, OSError)
            else error.__class__.__name__
        )
    return f"{what} while {'connecting' if connecting else 'sending'}"


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except (smtplib.SMTPException, OSError):
        pass
