"""The one rule for ``SOURCE_DATE_EPOCH`` (reproducible builds), used by every dated output.

Set and a whole number of seconds since 1970: that instant is the PDF's creation date and
the calendar's DTSTAMP. Unset or empty: each format uses the handout's (or batch's) ``today``
at 00:00 UTC. Set to anything else ("soon", "-5", "1.5"): an error (exit 1), since output
that silently ignores the date it was asked to carry is not reproducible.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timezone

from mesocare.errors import InputError

VARIABLE = "SOURCE_DATE_EPOCH"
UTC = timezone.utc


def source_date_epoch() -> int | None:
    """The whole seconds in SOURCE_DATE_EPOCH, None when unset or empty; InputError when bad."""
    epoch = os.environ.get(VARIABLE, "").strip()
    if not epoch:
        return None
    if not epoch.isascii() or not epoch.isdigit() or len(epoch) > 12:
        raise InputError(f"{VARIABLE} must be a whole number of seconds, not '{epoch[:40]}'.")
    return int(epoch)


def stamp(day: date) -> datetime:
    """The instant a file made on ``day`` is dated: SOURCE_DATE_EPOCH when set, else 00:00 UTC."""
    epoch = source_date_epoch()
    if epoch is not None:
        return datetime.fromtimestamp(epoch, UTC)
    return datetime.combine(day, time(0), tzinfo=UTC)
