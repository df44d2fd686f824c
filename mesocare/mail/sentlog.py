"""The sent log: which message the mail server accepted for which appointment (SQLite, WAL).

One row per (appointment, kind): the appointment's key (``booking:ID``, else
``patient:ID|date|time``), the kind (``handout``, or ``reminder:YYYY-MM-DD``), the hash of
what was sent, the facts an update message compares against (date, time, areas), the
Message-ID, how many copies went out and when the last one was accepted, and the Message-ID
of the first copy (an update is a reply to it: mail programs show them as one thread).

A row is written only after the server accepted the message, in its own transaction
committed at once (``synchronous=FULL``: on disk before the next message starts), so a
crash or a lost connection can never leave a message marked sent that was not. The opposite
window, the server's acceptance reaching us but the process dying before the commit, is a
few milliseconds per message; a rerun then sends that one message again, with the same
Message-ID.

A run holds an exclusive lock on ``sent.lock`` beside the log, so two runs (``send`` and
``remind`` from cron at the same minute) never send the same message at once; the second
waits. The lock is the operating system's (flock): a killed run releases it.

No patient name or address is stored: keys hold the booking system's ids, or a hash of the
address when a schedule has no ids at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mesocare.errors import MesocareError

LOG_NAME = "sent.sqlite3"
LOCK_NAME = "sent.lock"
SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    appointment  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    facts        TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    copies       INTEGER NOT NULL,
    sent_at      TEXT NOT NULL,
    PRIMARY KEY (appointment, kind)
) WITHOUT ROWID;
"""
# added later: logs written before it have no such column until opened for writing
THREAD_COLUMN = "ALTER TABLE sent ADD COLUMN first_message_id TEXT"


class SentLogError(MesocareError):
    """The sent log cannot be opened or written."""


@dataclass(frozen=True)
class Record:
    appointment: str
    kind: str
    content_hash: str
    facts: dict
    message_id: str
    copies: int
    sent_at: str
    first_message_id: str | None = None  # the first copy's Message-ID (None: an older log)


def default_folder(state_dir: str | None) -> Path:
    """The clinic's ``state_dir``, else the user's data folder (``~/.local/share/mesocare``)."""
    if state_dir:
        return Path(state_dir)
    import platformdirs

    return Path(platformdirs.user_data_dir("mesocare", appauthor=False))


class SentLog:
    """The log in ``folder``. ``readonly=True`` (dry runs) never creates or writes it."""

    def __init__(self, folder: Path, readonly: bool = False):
        self.path = folder / LOG_NAME
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._threads: bool | None = None  # has the first_message_id column (asked once)
        if readonly:
            if self.path.is_file():
                try:
                    self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                    self._db.execute("SELECT 1 FROM sent LIMIT 1")
                except sqlite3.Error as e:
                    raise SentLogError(f"{self.path}: the sent log cannot be read ({e}).") from None
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            if not self._has_thread_column():
                try:
                    self._db.execute(THREAD_COLUMN)
                except sqlite3.OperationalError as e:  # another process added it first
                    if "duplicate column" not in str(e):
                        raise
                self._threads = True
        except (OSError, sqlite3.Error) as e:
            raise SentLogError(f"{self.path}: the sent log cannot be opened ({e}).") from None

    def _has_thread_column(self) -> bool:
        """Whether the log has ``first_message_id`` (a read-only log from before may not)."""
        if self._threads is None:
            assert self._db is not None
            columns = self._db.execute("PRAGMA table_info(sent)")
            self._threads = any(row[1] == "first_message_id" for row in columns)
        return self._threads

    def get(self, appointment: str, kind: str) -> Record | None:
        if self._db is None:
            return None
        first = "first_message_id" if self._has_thread_column() else "NULL"
        row = self._db.execute(
            "SELECT appointment, kind, content_hash, facts, message_id, copies, sent_at,"
            f" {first} FROM sent WHERE appointment = ? AND kind = ?",
            (appointment, kind),
        ).fetchone()
        if row is None:
            return None
        return Record(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7])

    def record(self, appointment: str, kind: str, content_hash: str, facts: dict, message_id: str,
               copies: int, when: datetime | None = None,
               first_message_id: str | None = None) -> None:
        """The server accepted this message: write it down now (one committed transaction).
        The first copy's Message-ID is kept from the row before (``first_message_id``, default
        this message's, is written only on a first record)."""
        if self.readonly or self._db is None:
            raise SentLogError("the sent log was opened read-only.")
        stamp = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
        try:
            self._db.execute(
                "INSERT INTO sent (appointment, kind, content_hash, facts, message_id, copies,"
                " sent_at, first_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (appointment, kind) DO UPDATE SET content_hash = excluded.content_hash,"
                " facts = excluded.facts, message_id = excluded.message_id, copies = excluded.copies,"
                " sent_at = excluded.sent_at,"
                " first_message_id = coalesce(sent.first_message_id, excluded.first_message_id)",
                (appointment, kind, content_hash, json.dumps(facts, sort_keys=True), message_id,
                 copies, stamp, first_message_id or message_id),
            )
        except sqlite3.Error as e:
            raise SentLogError(f"{self.path}: the sent log cannot be written ({e}).") from None

    def count(self) -> int:
        if self._db is None:
            return 0
        return self._db.execute("SELECT count(*) FROM sent").fetchone()[0]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "SentLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def run_lock(folder: Path, waiting=None):
    """Hold ``folder/sent.lock`` exclusively for a run; ``waiting()`` is called if another
    run holds it (then this one waits for it to finish)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows; one run at a time is then the clinic's care
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise SentLogError(f"{folder / LOCK_NAME}: the lock file cannot be opened ({e.strerror}).") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
