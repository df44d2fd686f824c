"""VTIMEZONE components written from the zoneinfo data (RFC 5545 3.6.5).

The VTIMEZONE is written from the zoneinfo data rather than with icalendar's
``Timezone.from_tzinfo`` (7.3): that one gives a daylight-time observance the onset in
the new offset (DTSTART 02:00 for London's 01:00 change), where RFC 5545 counts it in
TZOFFSETFROM, so a reader converting UTC to local time is an hour out just after the
change; and it opens with an observance whose TZOFFSETFROM equals TZOFFSETTO, which
misleads readers in the southern hemisphere. Ours opens with the observance in force on
1 January of the first year used, from its real onset, then lists every change up to
1 January after the last year, one observance each.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from mesocare.dates import zone

UTC = timezone.utc
LOOKBACK_DAYS = 800  # how far back a VTIMEZONE looks for the change in force on its first day
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"})


def offset_changes(tz: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """The UTC instants in [first, last) where ``tz`` changes its UTC offset."""
    changes = []
    step = timedelta(hours=6)
    t = first
    offset = t.astimezone(tz).utcoffset()
    while t < last:
        nxt = min(t + step, last)
        if nxt.astimezone(tz).utcoffset() != offset:
            lo, hi = t, nxt  # offset(lo) == offset, offset(hi) differs: find the first second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid <= lo:
                    break
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            changes.append(hi)
            offset = hi.astimezone(tz).utcoffset()
            t = hi
            continue
        t = nxt
    return changes


@lru_cache(maxsize=64)
def observances(
    tz_name: str, first: date, last: date
) -> tuple[tuple[bool, datetime, timedelta, timedelta, str], ...]:
    """The observances of ``tz_name`` from ``first`` to ``last``: (daylight time?, DTSTART,
    TZOFFSETFROM, TZOFFSETTO, TZNAME) each, in order.

    Computed once per zone and span in a process (a batch's patients share them): finding the
    changes costs a few thousand zone conversions.
    """
    tz = zone(tz_name)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    stop = datetime.combine(last, time(0), tzinfo=tz).astimezone(UTC)
    found: list[tuple[bool, datetime, timedelta, timedelta, str]] = []

    def observance(at_utc: datetime, offset_from: timedelta) -> None:
        local = at_utc.astimezone(tz)
        # DTSTART is the onset as a local time in the offset in use before it (TZOFFSETFROM)
        found.append(
            (
                bool(local.dst()),
                (at_utc + offset_from).replace(tzinfo=None),
                offset_from,
                _offset(local),
                local.tzname() or _offset_name(_offset(local)),
            )
        )

    # Open with the observance already in force on ``first``, from its real onset: a first
    # observance whose TZOFFSETFROM equals its TZOFFSETTO (the easy way) leaves readers
    # guessing the standard offset behind a daylight-time one, and dateutil and icalendar
    # then misplace the next change by the DST amount (seen with Australia/Sydney).
    changes = offset_changes(tz, start - timedelta(days=LOOKBACK_DAYS), stop)
    earlier = [c for c in changes if c <= start]
    if earlier:
        changes = changes[len(earlier) - 1 :]
    else:
        observance(start, _offset(start.astimezone(tz)))  # no change in years: a fixed offset
    for change in changes:
        observance(change, _offset((change - timedelta(seconds=1)).astimezone(tz)))
    return tuple(found)


def vtimezone(tz_name: str, first: date, last: date):
    """A VTIMEZONE for ``tz_name`` valid from ``first`` to ``last`` (RFC 5545 3.6.5)."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    vtz = Timezone()
    vtz.add("tzid", tz_name)
    vtz.add("x-lic-location", tz_name)
    # no COMMENT: RFC 5545 allows one in an observance, not in VTIMEZONE itself (libical checks)
    for daylight, onset, offset_from, offset_to, name in observances(tz_name, first, last):
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.add("dtstart", onset)
        part.add("tzoffsetfrom", offset_from)
        part.add("tzoffsetto", offset_to)
        part.add("tzname", name)
        vtz.add_component(part)
    return vtz


def _offset(moment: datetime) -> timedelta:
    """An aware time's UTC offset (never None for a time in a ZoneInfo zone)."""
    offset = moment.utcoffset()
    assert offset is not None
    return offset


def _offset_name(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
