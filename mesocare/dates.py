"""The date engine: appointment times and rule windows as aware datetimes in the clinic's zone.

Semantics (docs/dates.md explains them in plain words):

- Hours are elapsed time, computed in UTC and shown in local time, so across a change of
  clocks "24 hours before 10:00" can read 09:00 or 11:00.
- "N days/weeks before" starts at 00:00 on the appointment date minus N days.
- "N days/weeks after" ends at the end of the calendar day, appointment date plus N days.
- "On the day of treatment" is that calendar day, 00:00 to 24:00.
- A window can start where another ends (``after_rule``).
- "Until the course ends" ends at the end of the last session's day, or is open (None)
  when the course is unknown.
- Untimed appointments are conservative: before-windows count from 00:00 of the day,
  after-windows from 24:00; windows measured in hours are then widened to whole days
  (the start moved back to 00:00 of its day, the end on to the next 00:00), so the
  handout can speak in whole days.

Dates are supported from ``vocab.FIRST_DAY`` to ``vocab.LAST_DAY`` (1900 to 2999); outside
them, and for a zone name that is not in the zone database or a day that a zone skipped
(Pacific/Apia has no 30 December 2011), the functions here raise InputError with one
sentence, so every caller (the CLI, a schedule row) reports it in its own way.

Nothing here reads the clock: ``today`` is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from datetime import date as calendar_date  # for annotations beside a field named "date"
from functools import lru_cache
from zoneinfo import ZoneInfo

from mesocare.errors import InputError
from mesocare.vocab import FIRST_DAY, LAST_DAY, Duration

UTC = timezone.utc
_ZONE_NAME_MAX = 64  # the longest IANA name is about 30 characters


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """The zone of an IANA name (Europe/London); InputError when there is no such zone."""
    try:
        return _zone(name)
    except (ValueError, OSError, KeyError, TypeError):  # ZoneInfoNotFoundError is a KeyError
        shown = name if len(name) <= _ZONE_NAME_MAX else name[:_ZONE_NAME_MAX] + "..."
        what = f"'{shown}' is not a known time zone" if name.strip() else "is empty"
        raise InputError(
            f"{field} {what}: use an IANA name such as Europe/London or America/New_York."
        ) from None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    if (
        not name
        or len(name) > _ZONE_NAME_MAX
        or name != name.strip()
        or name.startswith("/")
        or ".." in name
    ):
        raise ValueError(name)
    return ZoneInfo(name)  # a folder of the database (Europe) raises IsADirectoryError


def check_day(d: date, field: str = "date") -> date:
    """``d`` when it is in the supported range (1900-01-01 to 2999-12-31), else InputError."""
    if not FIRST_DAY <= d <= LAST_DAY:
        raise InputError(
            f"{field} {d.isoformat()} is outside the dates mesocare works with "
            f"({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})."
        )
    return d


def normalize(dt: datetime, tz: ZoneInfo) -> datetime:
    """The same instant as a valid local time (a wall time in a gap moves past the gap)."""
    return dt.astimezone(UTC).astimezone(tz)


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local calendar day (01:00 where midnight falls in a DST gap)."""
    return normalize(datetime.combine(d, time(0), tzinfo=tz), tz)


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """24:00 of a local day, which is 00:00 of the next."""
    return local_midnight(d + timedelta(days=1), tz)


def plus_hours(dt: datetime, hours: float, tz: ZoneInfo) -> datetime:
    """Elapsed hours, computed in UTC and shown in the clinic's zone."""
    return (dt.astimezone(UTC) + timedelta(hours=hours)).astimezone(tz)


def floor_day(dt: datetime, tz: ZoneInfo) -> datetime:
    return local_midnight(dt.astimezone(tz).date(), tz)


def ceil_day(dt: datetime, tz: ZoneInfo) -> datetime:
    local = dt.astimezone(tz)
    start = local_midnight(local.date(), tz)
    return local if same(local, start) else end_of_day(local.date(), tz)


def instant(dt: datetime) -> datetime:
    """The UTC instant, for comparing: Python compares two datetimes that share a zone as
    wall-clock times, which is wrong in the repeated hour when clocks go back."""
    return dt.astimezone(UTC)


def same(a: datetime, b: datetime) -> bool:
    return instant(a) == instant(b)


@dataclass(frozen=True)
class AppointmentTimes:
    date: date
    start: datetime
    end: datetime
    timed: bool
    tz: ZoneInfo
    course_end: calendar_date | None


def appointment_times(
    day: date, at: time | None, duration_minutes: int, tz_name: str, course_end: date | None = None
) -> AppointmentTimes:
    """Start and end of an appointment. Untimed: 00:00 to 24:00 of the day.

    A wall time that does not exist (skipped when clocks go forward) is an error, and so is
    a whole day the zone skipped; a time that happens twice (when clocks go back) is taken
    as the first of the two. Dates outside the supported range are errors.
    """
    check_day(day, "appointment date")
    if course_end is not None:
        check_day(course_end, "course end")
    tz = zone(tz_name)
    if local_midnight(day, tz).date() != day:
        raise InputError(
            f"{day.isoformat()} does not exist in {tz_name}: the clocks skipped that whole day."
        )
    if at is None:
        return AppointmentTimes(
            day, local_midnight(day, tz), end_of_day(day, tz), False, tz, course_end
        )
    wall = datetime.combine(day, at, tzinfo=tz)
    start = normalize(wall, tz)
    if start.replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise InputError(
            f"time {at.strftime('%H:%M')} does not exist on {day.isoformat()} in {tz_name}: "
            "the clocks go forward then. "
            "Pick a time after the change."
        )
    return AppointmentTimes(
        day, start, plus_hours(start, duration_minutes / 60, tz), True, tz, course_end
    )


def _amount(spec: str) -> Duration:
    return Duration.parse(spec)  # rule windows were checked when their files were read


def _days(n: int, unit: str) -> int:
    return Duration(n, unit).whole_days


def after_end(spec: str, appt: AppointmentTimes) -> datetime:
    """The end of an after-window of ``spec`` (48h, 2d, 2w) counted from the appointment."""
    n, unit = _amount(spec)
    if unit == "h":
        end = plus_hours(appt.end, n, appt.tz)
        return end if appt.timed else ceil_day(end, appt.tz)
    return end_of_day(appt.date + timedelta(days=_days(n, unit)), appt.tz)


def window_span(window, appt: AppointmentTimes, ended) -> tuple[datetime, datetime | None]:
    """(start, end) of a rule's window. ``ended(rule_id)`` gives another rule's end."""
    tz = appt.tz
    if window.before is not None:
        n, unit = _amount(window.before)
        if unit == "h":
            start = plus_hours(appt.start, -n, tz)
            if not appt.timed:
                start = floor_day(start, tz)
        else:
            start = local_midnight(appt.date - timedelta(days=_days(n, unit)), tz)
        return start, appt.start
    if window.on is not None:
        start = local_midnight(appt.date, tz)
        if window.until == "appointment" and instant(appt.start) > instant(start):
            return start, appt.start
        # untimed (or at midnight): "before your appointment" covers the whole day
        return start, end_of_day(appt.date, tz)
    if window.after is not None:
        if window.after == "open":
            return appt.end, None
        return appt.end, max(appt.end, after_end(window.after, appt), key=instant)
    # after_rule: from the end of the other window, and never before the appointment ends
    # (an appointment late in the evening can run past the end of its day)
    start = max(ended(window.after_rule), appt.end, key=instant)
    until = window.until
    if until == "open":
        return start, None
    if until == "course-end":
        if appt.course_end is None:
            return start, None
        return start, max(start, end_of_day(appt.course_end, tz), key=instant)
    end = after_end(until, appt)
    return start, max(start, end, key=instant)


def item_status(start: datetime, end: datetime | None, today: date, tz: ZoneInfo) -> str:
    """upcoming: starts on a later date; passed: ended before today; otherwise started."""
    if start.astimezone(tz).date() > today:
        return "upcoming"
    if end is not None and instant(end) <= instant(local_midnight(today, tz)):
        return "passed"
    return "started"


def is_late(start: datetime, appt: AppointmentTimes, booked: date | None) -> bool:
    """Late: the window starts on or before the booking day (and before the appointment ends).

    With no booking date, or one after the appointment's day, nothing is late. Aftercare
    windows, which start when the appointment ends, are never late: the patient has the
    handout by then.
    """
    if booked is None or booked > appt.date:
        return False
    return instant(start) < instant(appt.end) and start.astimezone(appt.tz).date() <= booked
