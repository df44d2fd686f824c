"""The rule-set cache's files: one JSON entry per set of rule files, in the user's cache folder.

``mesocare.rules`` decides the key (a hash of the files' bytes and of this code) and turns a
rule set into JSON and back; here the entries are read and written. ``MESOCARE_CACHE_DIR``
moves the folder; a cache that cannot be read or written is simply not used.

A cache file decides what a patient is told, so it is trusted only when this user alone could
have written it: a folder or file that another user owns, that others may write, or that is a
link, is not read (nor written into); and an entry is used only when its bytes are the ones
written (the sha256 of the rule set, in the entry's first line), so a damaged or edited entry
is read as no entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

CACHE_FORMAT = "mesocare-rules-cache/2"
KEEP = 16  # entries kept; older ones are removed
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def cache_dir() -> Path:
    """``MESOCARE_CACHE_DIR``, else the user's cache folder as platformdirs says it
    (``$XDG_CACHE_HOME/mesocare``, else ``~/.cache/mesocare`` on Linux)."""
    if os.environ.get("MESOCARE_CACHE_DIR"):
        return Path(os.environ["MESOCARE_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("mesocare", appauthor=False))


def _private(st: os.stat_result, folder: bool) -> bool:
    """Owned by this user, writable by no one else, and a plain file (or folder)."""
    kind = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
    return kind and st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _folder_is_private(folder: Path) -> bool:
    try:
        return _private(os.lstat(folder), folder=True)
    except OSError:
        return False


def read_entry(key: str) -> dict | None:
    """The cached rule set (as JSON data) for ``key``, or None: no entry, an entry of another
    format or key, one whose bytes are not the ones written (its digest), or a file or folder
    that someone else could have written."""
    folder = cache_dir()
    if not _folder_is_private(folder):
        return None
    try:
        fd = os.open(folder / f"rules-{key[:40]}.json", os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            if not _private(os.fstat(f.fileno()), folder=False):
                return None
            head, _, payload = f.read().partition(b"\n")
        header = json.loads(head.decode("utf-8"))
        if header.get("format") != CACHE_FORMAT or header.get("key") != key:
            return None
        if header.get("sha256") != hashlib.sha256(payload).hexdigest():
            return None  # changed or damaged since it was written
        ruleset = json.loads(payload.decode("utf-8"))
        return ruleset if isinstance(ruleset, dict) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # no cache, or a damaged one: read the files


def write_entry(key: str, ruleset: dict) -> None:
    """Write the entry atomically: a header line (format, key, the sha256 of what follows),
    then the rule set as JSON. A cache that cannot be written is simply skipped."""
    import tempfile

    payload = json.dumps(ruleset, ensure_ascii=False).encode("utf-8")
    header = {"format": CACHE_FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()}
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _folder_is_private(folder):
            return  # another user's or a shared folder: what we wrote there could be changed
        fd, tmp = tempfile.mkstemp(prefix=".rules-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(header).encode("ascii") + b"\n" + payload)
        os.replace(tmp, folder / f"rules-{key[:40]}.json")
        old = sorted(folder.glob("rules-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[
            KEEP:
        ]
        for stale in old:
            stale.unlink(missing_ok=True)
    except OSError:
        pass
