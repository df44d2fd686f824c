"""The rule-set cache's files: one JSON entry per set of rule files, in the user's cache folder.

``mesocare.rules`` decides the key (a hash of the files' bytes and of this code) and turns a
rule set into JSON and back; here the entries are read and written. ``MESOCARE_CACHE_DIR``
moves the folder; a cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CACHE_FORMAT = "mesocare-rules-cache/1"
KEEP = 16  # entries kept; older ones are removed


def cache_dir() -> Path:
    if os.environ.get("MESOCARE_CACHE_DIR"):
        return Path(os.environ["MESOCARE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mesocare"


def read_entry(key: str) -> dict | None:
    """The cached rule set (as JSON data) for ``key``, or None."""
    try:
        data = json.loads((cache_dir() / f"rules-{key[:40]}.json").read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT or data.get("key") != key:
            return None
        return data["ruleset"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no cache, or a damaged one: read the files


def write_entry(key: str, ruleset: dict) -> None:
    """Write the entry atomically; a cache that cannot be written is simply skipped."""
    import tempfile

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".rules-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": CACHE_FORMAT, "key": key, "ruleset": ruleset}, f, ensure_ascii=False)
        os.replace(tmp, folder / f"rules-{key[:40]}.json")
        old = sorted(folder.glob("rules-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
        for stale in old:
            stale.unlink(missing_ok=True)
    except OSError:
        pass
