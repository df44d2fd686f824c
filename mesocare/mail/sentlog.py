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
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mesocare import sqlite_log
from mesocare.sqlite_log import BUSY_SECONDS, PROBE, LogError, SqliteLog

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
SentLogError = LogError  # the sent log cannot be opened, read or written


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


class SentLog(SqliteLog):
    """The log in ``folder``. ``readonly=True`` (dry runs) never creates or writes it."""

    TABLE, SCHEMA, COLUMNS, ADDED = "sent", SCHEMA, COLUMNS, ADDED
    NAME, DONE = "sent log", "sent"
    WITHOUT = (
        "mesocare does not know what it sent, and every patient in the schedule gets their"
        " message once more"
    )
    NO_TABLE = "it holds no table of sent messages"

    def __init__(self, folder: Path, readonly: bool = False):
        super().__init__(folder / LOG_NAME, readonly, BUSY_SECONDS)  # a test shortens it

    def get(self, appointment: str, kind: str) -> Record | None:
        if self._db is None:
            return None
        state = "state" if "state" in self._added else f"'{ACCEPTED}'"
        first = "first_message_id" if "first_message_id" in self._added else "NULL"
        row = self._row(
            "SELECT appointment, kind, content_hash, facts, message_id, copies, sent_at,"
            f" {state}, {first} FROM sent WHERE appointment = ? AND kind = ?",
            (appointment, kind),
        )
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
            raise self.damaged(sqlite_log.ODD_ROW)
        return Record(row[0], row[1], row[2], facts, row[4], row[5], row[6], row[7], row[8])

    def check_writable(self) -> None:
        """Prove the log can record before anything is sent (a probe row the size of a real
        one, committed and deleted). Raises ``SentLogError`` when it cannot."""
        self._prove_writable(
            "INSERT OR REPLACE INTO sent (appointment, kind, content_hash, facts,"
            " message_id, copies, sent_at, state) VALUES (?, ?, ?, ?, ?, 1, '', ?)",
            (PROBE, PROBE, "0" * 64, json.dumps({"pad": "0" * 2048}), "0" * 80, ACCEPTED),
            key="appointment",
        )

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
        self._write(
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

    def count(self) -> int:
        if self._db is None:
            return 0
        return self._db.execute("SELECT count(*) FROM sent").fetchone()[0]


def run_lock(
    folder: Path, waiting: Callable[[], object] | None = None
) -> AbstractContextManager[None]:
    """Hold ``folder/sent.lock`` exclusively for a run; ``waiting()`` is called if another
    run holds it (then this one waits for it to finish)."""
    return sqlite_log.run_lock(folder / LOCK_NAME, waiting)
