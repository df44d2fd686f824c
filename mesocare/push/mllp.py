"""MLLP: HL7 v2 messages to an interface engine over TCP (TLS unless the config says none),
each framed (VT ... FS CR) and its ACK awaited."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from mesocare.settings import MllpSettings

START, END = b"\x0b", b"\x1c\x0d"
MAX_ACK = 1 << 20  # an ACK longer than this is not one


class MllpLost(Exception):
    """The connection dropped or the ACK did not come in time: delivered or not, unknown."""


@dataclass(frozen=True)
class Ack:
    code: str  # AA, AE, AR (or CA, CE, CR in enhanced mode)
    text: str  # the engine's words (MSA-3, ERR-7, ERR-8), "" when none

    @property
    def accepted(self) -> bool:
        return self.code in ("AA", "CA")


def parse_ack(data: bytes) -> Ack:
    text = data.decode("utf-8", "replace")
    segments = [s for s in text.replace("\n", "\r").split("\r") if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 4:
        raise MllpLost("the answer is not an HL7 message")
    sep = segments[0][3]
    code, words = "", []
    for seg in segments:
        fields = seg.split(sep)
        if fields[0] == "MSA":
            code = fields[1] if len(fields) > 1 else ""
            if len(fields) > 3 and fields[3]:
                words.append(fields[3])
        elif fields[0] == "ERR":  # ERR-7 diagnostic information, ERR-8 user message
            words.extend(f for f in fields[7:9] if f)
    if not code:
        raise MllpLost("the answer has no MSA segment")
    return Ack(code, "; ".join(words))


class Connection:
    def __init__(self, settings: MllpSettings):
        self.settings = settings
        self._sock: socket.socket | None = None

    def open(self) -> None:
        s = self.settings
        try:
            raw = socket.create_connection((s.host, s.port), timeout=s.timeout)
        except OSError as e:
            raise MllpLost(f"cannot connect ({e.strerror or e.__class__.__name__})") from None
        if s.tls:
            context = ssl.create_default_context(cafile=s.ca_file)
            try:
                raw = context.wrap_socket(raw, server_hostname=s.host)
            except (OSError, ssl.SSLError) as e:
                raw.close()
                raise MllpLost(f"the TLS handshake failed ({e.__class__.__name__})") from None
        raw.settimeout(s.timeout)
        self._sock = raw

    def send(self, message: str) -> Ack:
        """Send one message and wait for its ACK; MllpLost when the connection fails."""
        if self._sock is None:
            self.open()
        assert self._sock is not None
        try:
            self._sock.sendall(START + message.encode("utf-8") + END)
            data = b""
            while END not in data:
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise MllpLost("the engine closed the connection before its ACK")
                data += chunk
                if len(data) > MAX_ACK:
                    raise MllpLost("the answer is too long to be an ACK")
        except TimeoutError:
            self.close()
            raise MllpLost("no ACK came in time") from None
        except OSError as e:
            self.close()
            why = e.strerror or e.__class__.__name__
            raise MllpLost(f"the connection failed ({why})") from None
        except MllpLost:
            self.close()
            raise
        frame = data[data.find(START) + 1 : data.find(END)]
        return parse_ack(frame)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
