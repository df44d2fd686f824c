"""The rule-set cache's files: one JSON entry per set of rule files, in the user's cache folder.

``mesocare.rules`` decides the key (a hash of the files' bytes and of this code) and turns a
rule set into JSON and back; here the entries are read and written. ``MESOCARE_CACHE_DIR``
moves the folder; a cache that cannot be read or written is simply not used.

A cache file decides what a patient is told, so it is trusted only when this user alone could
have written it: a folder or file that another user owns, that others may write, or that is a
link, is not read (nor written into); ``mesocare.rules`` then checks what is read back.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_FORMAT = "mesocare-rules-cache/1"
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
    """The cached rule set (as JSON data) for ``key``, or None (also for a file or folder that
    someone else could have written)."""
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
            data = json.loads(f.read().decode("utf-8"))
        if data.get("format") != CACHE_FORMAT or data.get("key") != key:
            return None
        ruleset = data["ruleset"]
        return ruleset if isinstance(ruleset, dict) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # no cache, or a damaged one: read the files


def write_entry(key: str, ruleset: dict) -> None:
    """Write the entry atomically; a cache that cannot be written is simply skipped."""
    import tempfile

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _folder_is_private(folder):
            return  # another user's or a shared folder: what we wrote there could be changed
        fd, tmp = tempfile.mkstemp(prefix=".rules-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(
                {"format": CACHE_FORMAT, "key": key, "ruleset": ruleset}, f, ensure_ascii=False
            )
        os.replace(tmp, folder / f"rules-{key[:40]}.json")
        old = sorted(folder.glob("rules-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[
            KEEP:
        ]
        for stale in old:
            stale.unlink(missing_ok=True)
    except OSError:
        pass


def check_types(item) -> None:
    """TypeError unless every field of a dataclass read back from an entry (and of the
    dataclasses in it) has its declared type: an entry holding a number where a text belongs
    would fail later, far from here."""
    import dataclasses

    kind: type = type(item)
    for name, fits in _field_checks(kind):
        value = getattr(item, name)
        if not fits(value):
            raise TypeError(f"{kind.__name__}.{name}")
        for part in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(part):
                check_types(part)


@functools.cache
def _field_checks(kind: type) -> tuple[tuple[str, Callable[[Any], bool]], ...]:
    """(name, a test of a value against the declared type) of each field of the dataclass
    ``kind``, worked out once: the annotations are strings, and reading them is most of the
    check's time."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(kind)
    return tuple((f.name, _fits(hints[f.name])) for f in dataclasses.fields(kind))


def _fits(hint) -> Callable[[Any], bool]:
    """A test of a value against ``hint``: a union, ``tuple[X, ...]``, None, int (not bool), or
    a class."""
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = tuple(_fits(h) for h in typing.get_args(hint))
        return lambda value: any(fits(value) for fits in options)
    if origin is tuple:  # tuple[X, ...]
        each = _fits(typing.get_args(hint)[0])
        return lambda value: isinstance(value, tuple) and all(each(v) for v in value)
    if hint is type(None):
        return lambda value: value is None
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, hint)
