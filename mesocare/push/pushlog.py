"""The push log: which record the clinic's system confirmed, for which appointment (SQLite).

The same promise as the sent log (``mesocare.mail.sentlog``), in a file of its own beside it
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

import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mesocare.mail.sentlog import (
    SentLogError,
    _locked_or_readonly,
    _words,
    cannot_record,
    damaged,
)

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
PROBE = "mesocare:probe"


@dataclass(frozen=True)
class Pushed:
    target: str
    document: str
    content_hash: str
    reference: str
    pushed_at: str


class PushLog:
    def __init__(self, folder: Path):
        self.path = folder / LOG_NAME
        self._db: sqlite3.Connection | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            columns = tuple(row[1] for row in self._db.execute("PRAGMA table_info(pushed)"))
            if not columns:
                if self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise damaged(self.path, "it holds no table of delivered records")
                self._db.executescript(SCHEMA)
            elif columns != COLUMNS:
                raise damaged(self.path, "its table is not the one mesocare writes")
        except SentLogError:
            self.close()
            raise
        except sqlite3.DatabaseError as e:
            self.close()
            if _locked_or_readonly(e):
                raise cannot_record(self.path, "opened", e) from None
            raise damaged(self.path, _words(e)) from None
        except (OSError, sqlite3.Error) as e:
            self.close()
            raise cannot_record(self.path, "opened", e) from None

    def get(self, target: str, document: str) -> Pushed | None:
        assert self._db is not None
        row = self._db.execute(
            "SELECT target, document, content_hash, reference, pushed_at FROM pushed"
            " WHERE target = ? AND document = ?",
            (target, document),
        ).fetchone()
        if row is None:
            return None
        if not all(isinstance(v, str) for v in row):
            raise damaged(self.path, "a row holds values mesocare did not write")
        return Pushed(*row)

    def check_writable(self) -> None:
        """A probe row committed and deleted before anything is delivered."""
        assert self._db is not None
        try:
            self.record(PROBE, PROBE, "0" * 64, "0" * 80)
            self._db.execute("DELETE FROM pushed WHERE target = ?", (PROBE,))
        except SentLogError as e:
            raise SentLogError(f"{e} Nothing was delivered.") from None

    def record(self, target: str, document: str, content_hash: str, reference: str) -> None:
        assert self._db is not None
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            self._db.execute(
                "INSERT INTO pushed VALUES (?, ?, ?, ?, ?) ON CONFLICT (target, document) DO UPDATE"
                " SET content_hash = excluded.content_hash, reference = excluded.reference,"
                " pushed_at = excluded.pushed_at",
                (target, document, content_hash, reference, stamp),
            )
        except sqlite3.Error as e:
            why = _words(e)
            raise SentLogError(f"{self.path}: the push log cannot be written ({why}).") from None

    def count(self) -> int:
        assert self._db is not None
        query = "SELECT count(*) FROM pushed WHERE target != ?"
        return self._db.execute(query, (PROBE,)).fetchone()[0]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> PushLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def run_lock(folder: Path):
    """Hold ``folder/pushed.lock`` for the run (another push waits for it)."""
    import fcntl

    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        lock = folder / LOCK_NAME
        raise SentLogError(f"{lock}: the lock file cannot be opened ({e.strerror}).") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
