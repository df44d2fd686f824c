"""Temporary folders that do not outlive the run that made them.

A PDF batch is typeset in pieces in a temporary folder, and those pieces name patients. The
folder is removed when the run ends; a run killed outright (SIGKILL, a power cut) cannot do
that, so every run first clears the folders such runs left:

- A run's folder is ``mesocare-KIND-PID-XXXXXXXX`` in the temporary directory (mode 0700),
  and the run holds an exclusive ``flock`` on it for as long as it lives. The kernel drops the
  lock when the process dies, however it dies, so "the lock can be taken" means "its run is
  over": a live run's folder is never touched, even when its pid is reused or lives in
  another pid namespace.
- The folder is made under a name the sweep ignores until it is locked (``.mesocare-new-*``,
  renamed once locked): no run can clear another's folder between its making and its lock.
- Only our own user's folders are cleared, and links are never followed (``shutil.rmtree``
  removes a link, not what it points to).
- Folders named ``mesocare-pdf-XXXXXXXX`` by earlier versions (no pid, no lock) are cleared
  once nothing has changed in them for ``OLD_AGE`` seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "mesocare-"
NEW = ".mesocare-new-"
OLD_AGE = 3600  # seconds without a change before an unlocked folder of an old version is cleared
NEW_AGE = 60  # an empty .mesocare-new-* folder older than this was left by a killed run
_OURS = re.compile(r"^mesocare-[a-z]+-\d+-[A-Za-z0-9_]+$")
_OLD = re.compile(r"^mesocare-pdf-[A-Za-z0-9_]{8}$")
_NEW = re.compile(r"^\.mesocare-new-[A-Za-z0-9_]+$")


def _lock(fd: int) -> bool:
    """Take the folder's lock without waiting; False when a live run holds it."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): never clear, never fail
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _open_dir(path: str) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))


def sweep(base: str | None = None, now: float | None = None) -> list[str]:
    """Remove the temporary folders of our runs that are over (see the module); returns their
    names. Never raises: a folder that cannot be cleared is left for the next run."""
    base = base or tempfile.gettempdir()
    now = time.time() if now is None else now
    removed: list[str] = []
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        ours, old, new = _OURS.match(name), _OLD.match(name), _NEW.match(name)
        if not (ours or old or new):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        if (old or new) and now - st.st_mtime < (OLD_AGE if old else NEW_AGE):
            continue
        try:
            fd = _open_dir(entry.path)
        except OSError:
            continue
        try:
            same = os.fstat(fd).st_ino == st.st_ino
            if not same or not _lock(fd):
                continue
            if new:
                os.rmdir(entry.path)  # empty unless its run got past the rename
            else:
                shutil.rmtree(entry.path)
            removed.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


@contextmanager
def folder(kind: str, base: str | None = None) -> Iterator[Path]:
    """A new private temporary folder for this run (``mesocare-KIND-PID-XXXXXXXX``), removed
    with everything in it when the block ends; folders of runs that are over are cleared first."""
    base = base or tempfile.gettempdir()
    sweep(base)
    made = tempfile.mkdtemp(prefix=NEW, dir=base)
    fd = _open_dir(made)
    path = made
    try:
        _lock(fd)
        suffix = os.path.basename(made)[len(NEW) :]
        path = os.path.join(base, f"{PREFIX}{kind}-{os.getpid()}-{suffix}")
        os.rename(made, path)
        yield Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
