"""A real MLLP listener for the push tests: python-hl7's asyncio MLLP server in a thread.

``answer(n, message)`` decides each reply: "AA", "AE", "AR" (with an error text), "drop"
(close the connection without an ACK) or "stall" (never answer). Every message that arrived
is kept (``received``), and the ones answered AA (``accepted``).
"""

from __future__ import annotations

import asyncio
import threading

import hl7
from hl7.mllp import start_hl7_server


class MllpListener:
    def __init__(self, answer=lambda n, message: "AA", ssl=None):
        self.answer = answer
        self.ssl = ssl  # an ssl.SSLContext: MLLP over TLS
        self.received: list[str] = []
        self.accepted: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def client(reader, writer):
            try:
                while not writer.is_closing():
                    message = await reader.readmessage()
                    text = str(message)
                    n = len(self.received)
                    self.received.append(text)
                    reply = self.answer(n, message)
                    if reply == "drop":
                        writer.close()
                        return
                    if reply == "stall":
                        await asyncio.sleep(3600)
                        return
                    ack = message.create_ack(reply)
                    if reply != "AA":
                        segments = [
                            s + "|document not filed" if s.startswith("MSA") else s
                            for s in str(ack).split("\r")
                            if s
                        ]
                        segments.append("ERR||||E|||PID-3 unknown, rejected by the test engine")
                        ack = hl7.parse("\r".join(segments))
                    else:
                        self.accepted.append(text)
                    writer.writemessage(ack)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            except Exception as e:  # noqa: BLE001 - a fault of the listener itself: shown, then closed
                import sys

                print(f"mllp listener: {e.__class__.__name__}", file=sys.stderr)
                writer.close()

        async def serve():
            server = await start_hl7_server(
                client, "127.0.0.1", 0, limit=1 << 24, encoding="utf-8", ssl=self.ssl
            )
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            async with server:
                await server.serve_forever()

        try:
            self._loop.run_until_complete(serve())
        except asyncio.CancelledError:
            pass

    def __enter__(self) -> MllpListener:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        for task in asyncio.all_tasks(self._loop):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(5)


def document_numbers(messages: list[str]) -> list[str]:
    return [str(hl7.parse(m).segment("TXA")[12]) for m in messages]


def control_ids(messages: list[str]) -> list[str]:
    return [str(hl7.parse(m).segment("MSH")[10]) for m in messages]
