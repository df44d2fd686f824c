"""A plain-text SMTP proxy in front of the test server that misbehaves at one protocol step.

mesocare talks to the proxy with ``security: none`` (loopback); the proxy forwards every byte
to the real server (``mailserver.MailServer``, aiosmtpd) and reads the client's commands as
they pass. ``fault`` picks the step, for the ``target``-th message (1-based) of the proxy's
life, or for every connection:

- ``connect``: every connection is closed before the server's greeting (a server that drops
  us at once);
- ``mail`` / ``rcpt``: the connection is closed when the client sends MAIL FROM / RCPT TO
  (nothing of the message reached the server);
- ``data-lost``: the data goes to the proxy, but the connection closes before the final "."
  reaches the server (the server discards it: not delivered, and the client cannot know);
- ``data``: the whole data (and the final ".") reach the server, which accepts the message;
  the connection closes before its answer reaches the client;
- ``slow``: the same, but the server's answer is held past the client's timeout.

``stop()`` closes the listening socket (then: connection refused).
"""

from __future__ import annotations

import socket
import threading
import time


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        fault: str | None = None,
        target: int = 2,
        hold: float = 3.0,
        port: int = 0,
    ):
        self.upstream_port, self.fault, self.target, self.hold = upstream_port, fault, target, hold
        self.listener = socket.create_server(
            ("127.0.0.1", port)
        )  # a port again: the same server back
        self.port = self.listener.getsockname()[1]
        self.messages = 0  # MAIL FROM commands seen
        self.fired = 0
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped = True
        self.listener.close()

    # ---- plumbing

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.fault == "connect":
                self.fired += 1
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            state = {"mute": False, "hold": False}
            threading.Thread(target=self._down, args=(server, client, state), daemon=True).start()
            threading.Thread(target=self._up, args=(client, server, state), daemon=True).start()

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _down(self, server: socket.socket, client: socket.socket, state: dict) -> None:
        """The server's answers to the client (dropped when muted, held when slow)."""
        try:
            while chunk := server.recv(65536):
                if state["hold"]:
                    time.sleep(self.hold)
                    state["hold"] = False
                if not state["mute"]:
                    client.sendall(chunk)
        except OSError:
            pass
        self._close(server, client)

    def _up(self, client: socket.socket, server: socket.socket, state: dict) -> None:
        """The client's commands and data to the server, line by line, with the fault."""
        buffer, in_data, current = b"", False, 0
        try:
            while chunk := client.recv(65536):
                buffer += chunk
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    verb = line[:4].upper()
                    if not in_data and verb == b"MAIL":
                        with self._lock:
                            self.messages += 1
                            current = self.messages
                    hit = self.fault is not None and current == self.target
                    if (
                        hit
                        and not in_data
                        and verb in (b"MAIL", b"RCPT")
                        and self.fault == verb.decode().lower()
                    ):
                        self.fired += 1
                        raise ConnectionAbortedError
                    if in_data and line == b".":
                        in_data = False
                        if hit and self.fault == "data-lost":
                            self.fired += 1
                            raise ConnectionAbortedError
                        if hit and self.fault == "data":
                            self.fired += 1
                            state["mute"] = True
                            server.sendall(line + b"\r\n")
                            time.sleep(0.3)  # the server answers (and keeps the message) to no one
                            raise ConnectionAbortedError
                        if hit and self.fault == "slow":
                            self.fired += 1
                            state["hold"] = True
                    elif not in_data and verb == b"DATA":
                        in_data = True
                    server.sendall(line + b"\r\n")
        except OSError:
            pass
        self._close(client, server)
