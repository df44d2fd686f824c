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
address when a schedule has no ids at all; the facts hold hashes of the address and of who
the patient is.

A message whose data went to the server without an answer (the connection closed, or the
answer came after the timeout) may have been delivered: it is recorded with the state
``unconfirmed`` and never sent again on its own; ``--resend-unconfirmed`` sends it once more.

Before a run sends anything it proves the log can record (``check_writable``: a probe row
committed and deleted): an immutable or read-only file, a full disk or a write lock held by
another program stop the run before the first message. A log that is not SQLite, or has a
table of another shape or values that cannot be read, is "damaged": one sentence, no
traceback, naming the file and what to do.
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
    state        TEXT NOT NULL DEFAULT 'accepted',
    first_message_id TEXT,
    PRIMARY KEY (appointment, kind)
) WITHOUT ROWID;
"""
COLUMNS = ("appointment", "kind", "content_hash", "facts", "message_id", "copies", "sent_at")
# columns added later, each with what a log written before it holds: a log from before is given
# them when opened for writing (a dry run reads it as it is)
ADDED = {"state": "TEXT NOT NULL DEFAULT 'accepted'", "first_message_id": "TEXT"}
ACCEPTED, UNCONFIRMED = "accepted", "unconfirmed"
BUSY_SECONDS = 10  # how long to wait for another program's write lock on the log
PROBE = "mesocare:probe"


class SentLogError(MesocareError):
    """The sent log cannot be opened or written."""


def cannot_record(path: Path, how: str, error: BaseException) -> SentLogError:
    """The log cannot be opened or written before the run sends anything."""
    return SentLogError(
        f"{path}: the sent log cannot be {how} ({_words(error)}), so nothing was sent. Check"
        " that the file and its folder can be written, that the disk has room and that no other"
        " program holds the file, then run again."
    )


def damaged(path: Path, why: str) -> SentLogError:
    return SentLogError(
        f"{path}: the sent log is damaged ({why}). Move it aside (rename it) and run again,"
        " or put back a copy from a backup: without it, mesocare does not know what it sent,"
        " and every patient in the schedule gets their message once more."
    )


@dataclass(frozen=True)
class Record:
    appointment: str
    kind: str
    content_hash: str
    facts: dict
    message_id: str
    copies: int
    sent_at: str
    state: str = ACCEPTED
    first_message_id: str | None = None  # the first copy's Message-ID (None: an older log)

    @property
    def unconfirmed(self) -> bool:
        return self.state == UNCONFIRMED


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
        self._added: set[str] = set(ADDED)  # the later columns this log has
        if readonly:
            if self.path.is_file():
                try:
                    self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                    if not self._check_shape():
                        self.close()  # no table yet: nothing was sent
                except sqlite3.DatabaseError as e:
                    self.close()
                    raise damaged(self.path, _words(e)) from None
                except sqlite3.Error as e:
                    self.close()
                    raise _unreadable(self.path, e) from None
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_SECONDS)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if not self._check_shape():
                self._db.executescript(SCHEMA)
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

    def _check_shape(self) -> bool:
        """False when there is no table yet. A log from before a later column (``state``: all
        its rows were accepted; ``first_message_id``: unknown) gets it when opened for
        writing; any other shape is damage."""
        assert self._db is not None
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(sent)")]
        if not columns:
            if self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise damaged(self.path, "it holds no table of sent messages")
            return False
        base, added = tuple(columns[: len(COLUMNS)]), columns[len(COLUMNS) :]
        if base != COLUMNS or len(set(added)) != len(added) or not set(added) <= set(ADDED):
            raise damaged(self.path, "its table is not the one mesocare writes")
        self._added = set(added)
        if not self.readonly:
            for name, kind in ADDED.items():
                if name not in self._added:
                    try:
                        self._db.execute(f"ALTER TABLE sent ADD COLUMN {name} {kind}")
                    except sqlite3.OperationalError as e:  # another process added it first
                        if "duplicate column" not in str(e):
                            raise
                    self._added.add(name)
        return True

    def get(self, appointment: str, kind: str) -> Record | None:
        if self._db is None:
            return None
        state = "state" if "state" in self._added else f"'{ACCEPTED}'"
        first = "first_message_id" if "first_message_id" in self._added else "NULL"
        try:
            row = self._db.execute(
                "SELECT appointment, kind, content_hash, facts, message_id, copies, sent_at,"
                f" {state}, {first} FROM sent WHERE appointment = ? AND kind = ?",
                (appointment, kind),
            ).fetchone()
        except sqlite3.DatabaseError as e:
            if _locked_or_readonly(e):
                raise _unreadable(self.path, e) from None
            raise damaged(self.path, _words(e)) from None
        if row is None:
            return None
        try:
            facts = json.loads(row[3]) if isinstance(row[3], str) else None
        except ValueError:
            facts = None
        texts_ok = all(isinstance(v, str) for v in (row[2], row[4], row[6], row[7]))
        if (
            not isinstance(facts, dict)
            or not texts_ok
            or type(row[5]) is not int
            or row[5] < 1
            or row[7] not in (ACCEPTED, UNCONFIRMED)
            or not isinstance(row[8], str | None)
        ):
            raise damaged(self.path, "a row holds values mesocare did not write")
        return Record(row[0], row[1], row[2], facts, row[4], row[5], row[6], row[7], row[8])

    def check_writable(self) -> None:
        """Prove the log can record before anything is sent: a probe row the size of a real
        one, committed (to disk) and deleted. Raises ``SentLogError`` when it cannot."""
        if self.readonly or self._db is None:
            raise SentLogError(f"{self.path}: the sent log was opened read-only.")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO sent (appointment, kind, content_hash, facts,"
                    " message_id, copies, sent_at, state) VALUES (?, ?, ?, ?, ?, 1, '', ?)",
                    (PROBE, PROBE, "0" * 64, json.dumps({"pad": "0" * 2048}), "0" * 80, ACCEPTED),
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("DELETE FROM sent WHERE appointment = ?", (PROBE,))
        except sqlite3.Error as e:
            raise cannot_record(self.path, "written", e) from None

    def record(
        self,
        appointment: str,
        kind: str,
        content_hash: str,
        facts: dict,
        message_id: str,
        copies: int,
        when: datetime | None = None,
        state: str = ACCEPTED,
        first_message_id: str | None = None,
    ) -> None:
        """The server accepted this message (or took its data without an answer: ``state``
        ``unconfirmed``): write it down now (one committed transaction). The first copy's
        Message-ID is kept from the row before (``first_message_id``, default this message's,
        is written only on a first record)."""
        if self.readonly or self._db is None:
            raise SentLogError("the sent log was opened read-only.")
        stamp = (
            (when or datetime.now(timezone.utc))
            .astimezone(timezone.utc)
            .isoformat(timespec="seconds")
        )
        try:
            self._db.execute(
                "INSERT INTO sent (appointment, kind, content_hash, facts, message_id, copies,"
                " sent_at, state, first_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (appointment, kind) DO UPDATE SET content_hash = "
                "excluded.content_hash,"
                " facts = excluded.facts, message_id = excluded.message_id, "
                "copies = excluded.copies,"
                " sent_at = excluded.sent_at, state = excluded.state,"
                " first_message_id = coalesce(sent.first_message_id, excluded.first_message_id)",
                (
                    appointment,
                    kind,
                    content_hash,
                    json.dumps(facts, sort_keys=True),
                    message_id,
                    copies,
                    stamp,
                    state,
                    first_message_id or message_id,
                ),
            )
        except sqlite3.Error as e:
            raise SentLogError(
                f"{self.path}: the sent log cannot be written ({_words(e)})."
            ) from None

    def count(self) -> int:
        if self._db is None:
            return 0
        return self._db.execute("SELECT count(*) FROM sent").fetchone()[0]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> SentLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _words(error: BaseException) -> str:
    return " ".join(str(error).split())[:200] or error.__class__.__name__


def _locked_or_readonly(error: sqlite3.Error) -> bool:
    """Not damage: the file is busy, read-only, or the disk is full."""
    text = str(error).lower()
    words = ("locked", "readonly", "read-only", "full", "unable to open", "disk i/o")
    return any(w in text for w in words)


def _unreadable(path: Path, error: BaseException) -> SentLogError:
    return SentLogError(f"{path}: the sent log cannot be read ({_words(error)}).")


@contextmanager
def run_lock(folder: Path, waiting=None):
    """Hold ``folder/sent.lock`` exclusively for a run; ``waiting()`` is called if another
    run holds it (then this one waits for it to finish)."""
    try:
        import fcntl
    except (
        ImportError
    ):  # pragma: no cover - not on Windows; one run at a time is then the clinic's care
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise SentLogError(
            f"{folder / LOCK_NAME}: the lock file cannot be opened ({e.strerror})."
        ) from None
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
