"""libical's strict check of an iCalendar text, through ctypes (the Debian package libical3).

``problems(text)`` parses the text with libical, runs its RFC 5545/5546 restriction check
(``icalrestriction_check``: required and forbidden properties for the calendar's METHOD) and
returns every X-LIC-ERROR libical then adds, e.g. "Failed iTIP restrictions for ORGANIZER
property...". ``available()`` says whether the library is installed (scripts/test installs it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from functools import lru_cache

NAMES = ("libical.so.3", ctypes.util.find_library("ical") or "libical.so")


@lru_cache(maxsize=1)
def _lib():
    for name in NAMES:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return None
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalrestriction_check.restype = ctypes.c_int
    lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_as_ical_string.restype = ctypes.c_char_p
    lib.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    return _lib() is not None


def problems(text: str) -> list[str]:
    """Every error libical finds in ``text`` (parse errors and the strict restriction check)."""
    lib = _lib()
    comp = lib.icalparser_parse_string(text.encode("utf-8"))
    if not comp:
        return ["libical could not parse the calendar at all"]
    try:
        lib.icalrestriction_check(comp)
        out = lib.icalcomponent_as_ical_string(comp).decode("utf-8", "replace")
    finally:
        lib.icalcomponent_free(comp)
    unfolded = re.sub(r"\r?\n[ \t]", "", out)
    return [line for line in unfolded.splitlines() if line.startswith("X-LIC-ERROR")]
