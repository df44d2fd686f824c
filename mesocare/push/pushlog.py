"""The push log: which record the clinic's system confirmed, for which appointment (SQLite).

The same promise as the sent log (``mesocare.mail.sentlog``; the machinery both share is
``mesocare.sqlite_log``), in a file of its own beside it
(``pushed.sqlite3``; WAL, ``synchronous=FULL``, a row committed the moment the engine or
server confirmed), and a run lock of its own (``pushed.lock``: two pushes never deliver at
once; a killed run releases it). One row per (target, document number): the hash of what
was delivered, when, and the MSH-10 or transaction it went in. No patient detail is stored:
the document number is a hash of the appointment id and the rule-set version.

A record delivered but not yet written down when the process dies is delivered again on the
next run, unchanged: over MLLP with the same control id (MSH-10) and document number
(TXA-12), which an engine recognises; to a FHIR server as the same conditional update,
which changes nothing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mesocare import sqlite_log
from mesocare.sqlite_log import PROBE, SqliteLog

LOG_NAME = "pushed.sqlite3"
LOCK_NAME = "pushed.lock"
COLUMNS = ("target", "document", "content_hash", "reference", "pushed_at")
SCHEMA = """
CREATE TABLE IF NOT EXISTS pushed (
    target       TEXT NOT NULL,
    document     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    reference    TEXT NOT NULL,
    pushed_at    TEXT NOT NULL,
    PRIMARY KEY (target, document)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Pushed:
    target: str
    document: str
    content_hash: str
    reference: str
    pushed_at: str


class PushLog(SqliteLog):
    TABLE, SCHEMA, COLUMNS = "pushed", SCHEMA, COLUMNS
    NAME, DONE = "push log", "delivered"
    WITHOUT = "mesocare does not know what it delivered, and every record is delivered once more"
    NO_TABLE = "it holds no table of delivered records"

    def __init__(self, folder: Path):
        super().__init__(folder / LOG_NAME)

    def get(self, target: str, document: str) -> Pushed | None:
        row = self._row(
            "SELECT target, document, content_hash, reference, pushed_at FROM pushed"
            " WHERE target = ? AND document = ?",
            (target, document),
        )
        if row is None:
            return None
        if not all(isinstance(v, str) for v in row):
            raise self.damaged(sqlite_log.ODD_ROW)
        return Pushed(*row)

    def check_writable(self) -> None:
        """A probe row committed and deleted before anything is delivered."""
        self._prove_writable(
            "INSERT OR REPLACE INTO pushed VALUES (?, ?, ?, ?, ?)",
            (PROBE, PROBE, "0" * 64, "0" * 80, ""),
            key="target",
        )

    def record(self, target: str, document: str, content_hash: str, reference: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._write(
            "INSERT INTO pushed VALUES (?, ?, ?, ?, ?) ON CONFLICT (target, document) DO UPDATE"
            " SET content_hash = excluded.content_hash, reference = excluded.reference,"
            " pushed_at = excluded.pushed_at",
            (target, document, content_hash, reference, stamp),
        )

    def count(self) -> int:
        assert self._db is not None
        query = "SELECT count(*) FROM pushed WHERE target != ?"
        return self._db.execute(query, (PROBE,)).fetchone()[0]


def run_lock(folder: Path) -> AbstractContextManager[None]:
    """Hold ``folder/pushed.lock`` for the run (another push waits for it)."""
    return sqlite_log.run_lock(folder / LOCK_NAME)
