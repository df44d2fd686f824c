"""The date engine: appointment times and rule windows as aware datetimes in the clinic's zone.

Semantics (the README explains them in plain words):

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

Nothing here reads the clock: ``today`` is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from mesocare.errors import InputError

UTC = timezone.utc


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


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
    course_end: date | None


def appointment_times(
    day: date, at: time | None, duration_minutes: int, tz_name: str, course_end: date | None = None
) -> AppointmentTimes:
    """Start and end of an appointment. Untimed: 00:00 to 24:00 of the day.

    A wall time that does not exist (skipped when clocks go forward) is an error; a time
    that happens twice (when clocks go back) is taken as the first of the two.
    """
    tz = zone(tz_name)
    if at is None:
        return AppointmentTimes(day, local_midnight(day, tz), end_of_day(day, tz), False, tz, course_end)
    wall = datetime.combine(day, at, tzinfo=tz)
    start = normalize(wall, tz)
    if start.replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise InputError(
            f"time {at.strftime('%H:%M')} does not exist on {day.isoformat()} in {tz_name}: the clocks go forward then. "
            "Pick a time after the change."
        )
    return AppointmentTimes(day, start, plus_hours(start, duration_minutes / 60, tz), True, tz, course_end)


def _amount(spec: str) -> tuple[int, str]:
    from mesocare.rules import DURATION

    n, unit = DURATION.match(spec).groups()
    return int(n), unit


def _days(n: int, unit: str) -> int:
    return n * 7 if unit == "w" else n


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
