"""What the sent log (``mesocare.mail.sentlog``) and the push log (``mesocare.push.pushlog``)
share: an SQLite file that keeps the promise "written down means done", and a run lock.

``SqliteLog`` opens the file in WAL with ``synchronous=FULL`` (a committed row is on disk
before the next delivery starts) and a busy timeout; checks the shape of its one table (a
log from before a later column gets it when opened for writing, any other shape is damage);
proves the log can record before anything goes out (``_prove_writable``: a probe row
committed and deleted); and turns every sqlite error into one sentence: the file cannot be
opened, read or written (busy, read-only, a full disk) or it is damaged (not SQLite, another
table, values mesocare did not write). A log keeps its table, columns and records, and its
words in those sentences (``NAME``, ``DONE``, ``WITHOUT``).

``run_lock`` holds a lock file beside the log for a run (the operating system's flock: a
killed run releases it), so two runs never deliver the same thing at once.

Nothing here imports mail or push: both sit above it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self

from mesocare.errors import MesocareError

BUSY_SECONDS = 10  # how long to wait for another program's write lock on the log
PROBE = "mesocare:probe"
ODD_ROW = "a row holds values mesocare did not write"  # why a log is damaged


class LogError(MesocareError):
    """A log cannot be opened, read or written (or is damaged)."""


def words(error: BaseException) -> str:
    """The sqlite or system error in a few words (one line, at most 200 characters)."""
    return " ".join(str(error).split())[:200] or error.__class__.__name__


def locked_or_readonly(error: sqlite3.Error) -> bool:
    """Not damage: the file is busy, read-only, or the disk is full."""
    text = str(error).lower()
    found = ("locked", "readonly", "read-only", "full", "unable to open", "disk i/o")
    return any(w in text for w in found)


class SqliteLog:
    """One table in the SQLite file at ``path``. ``readonly=True`` (a dry run) never creates
    or writes it, and reads a file without the table as an empty log (``_db`` stays None)."""

    NAME: ClassVar[str]  # "sent log": the log in its sentences
    DONE: ClassVar[str]  # "sent": what a run that stops before the first delivery did not do
    WITHOUT: ClassVar[str]  # what happens on the next run when the log is moved aside
    TABLE: ClassVar[str]
    SCHEMA: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]  # the columns of the first version, in order
    # columns added later, each with what a log written before it holds
    ADDED: ClassVar[dict[str, str]] = {}
    NO_TABLE: ClassVar[str]  # why a file with other tables but not ours is damaged

    def __init__(self, path: Path, readonly: bool = False, busy_seconds: float = BUSY_SECONDS):
        self.path = path
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._added: set[str] = set(self.ADDED)  # the later columns this log has
        if readonly:
            if path.is_file():
                try:
                    self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                    if not self._check_shape():
                        self.close()  # no table yet: nothing was recorded
                except sqlite3.DatabaseError as e:
                    self.close()
                    raise self.damaged(words(e)) from None
                except sqlite3.Error as e:
                    self.close()
                    raise self.unreadable(e) from None
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=busy_seconds)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if not self._check_shape():
                self._db.executescript(self.SCHEMA)
        except LogError:
            self.close()
            raise
        except sqlite3.DatabaseError as e:
            self.close()
            if locked_or_readonly(e):
                raise self.cannot_record("opened", e) from None
            raise self.damaged(words(e)) from None
        except (OSError, sqlite3.Error) as e:
            self.close()
            raise self.cannot_record("opened", e) from None

    # ------------------------------------------------------------------ the sentences

    def cannot_record(self, how: str, error: BaseException) -> LogError:
        """The log cannot be ``how`` ("opened", "written") before the run delivers anything."""
        return LogError(
            f"{self.path}: the {self.NAME} cannot be {how} ({words(error)}), so nothing was"
            f" {self.DONE}. Check that the file and its folder can be written, that the disk"
            " has room and that no other program holds the file, then run again."
        )

    def damaged(self, why: str) -> LogError:
        return LogError(
            f"{self.path}: the {self.NAME} is damaged ({why}). Move it aside (rename it) and run"
            f" again, or put back a copy from a backup: without it, {self.WITHOUT}."
        )

    def unreadable(self, error: BaseException) -> LogError:
        return LogError(f"{self.path}: the {self.NAME} cannot be read ({words(error)}).")

    # ------------------------------------------------------------------ the table

    def _check_shape(self) -> bool:
        """False when there is no table yet. A log from before a later column gets it when
        opened for writing; any other shape is damage."""
        assert self._db is not None
        columns = [row[1] for row in self._db.execute(f"PRAGMA table_info({self.TABLE})")]
        if not columns:
            if self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise self.damaged(self.NO_TABLE)
            return False
        first, added = tuple(columns[: len(self.COLUMNS)]), columns[len(self.COLUMNS) :]
        if first != self.COLUMNS or len(set(added)) != len(added) or set(added) - set(self.ADDED):
            raise self.damaged("its table is not the one mesocare writes")
        self._added = set(added)
        if not self.readonly:
            for name, kind in self.ADDED.items():
                if name not in self._added:
                    try:
                        self._db.execute(f"ALTER TABLE {self.TABLE} ADD COLUMN {name} {kind}")
                    except sqlite3.OperationalError as e:  # another process added it first
                        if "duplicate column" not in str(e):
                            raise
                    self._added.add(name)
        return True

    def _row(self, query: str, values: tuple) -> tuple[Any, ...] | None:
        """One row (or None), an sqlite error told as one sentence."""
        assert self._db is not None
        try:
            return self._db.execute(query, values).fetchone()
        except sqlite3.DatabaseError as e:
            if locked_or_readonly(e):
                raise self.unreadable(e) from None
            raise self.damaged(words(e)) from None

    def _write(self, statement: str, values: tuple) -> None:
        """One statement, committed at once (``synchronous=FULL``: on disk on return)."""
        assert self._db is not None
        try:
            self._db.execute(statement, values)
        except sqlite3.Error as e:
            raise LogError(
                f"{self.path}: the {self.NAME} cannot be written ({words(e)})."
            ) from None

    def _prove_writable(self, insert: str, values: tuple, key: str) -> None:
        """Prove the log can record before anything is delivered: the probe row ``insert``
        (the size of a real one) committed, to disk, then deleted (the row whose ``key``
        column is ``PROBE``). Raises ``cannot_record(..., "written", ...)`` when it cannot."""
        if self.readonly or self._db is None:
            raise LogError(f"{self.path}: the {self.NAME} was opened read-only.")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(insert, values)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute(f"DELETE FROM {self.TABLE} WHERE {key} = ?", (PROBE,))
        except sqlite3.Error as e:
            raise self.cannot_record("written", e) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def run_lock(lock: Path, waiting: Callable[[], object] | None = None) -> Iterator[None]:
    """Hold the file ``lock`` exclusively for a run; ``waiting()`` is called if another run
    holds it (then this one waits for it to finish)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows; one run at a time is the clinic's
        yield
        return
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise LogError(f"{lock}: the lock file cannot be opened ({e.strerror}).") from None
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
