"""Courses of sessions: the dates of every session from the first date and an interval.

Months are calendar months counted from the first session (31 January + 1 month is
29 February in a leap year), using dateutil's relativedelta. Clinics can close weekdays and
public holidays; a session that falls on a closed day moves to the next open day.
"""

from __future__ import annotations

from datetime import date, timedelta

from mesocare.dates import check_day
from mesocare.errors import InputError
from mesocare.model import Clinic, Course
from mesocare.vocab import LAST_DAY


def closed_days_checker(clinic: Clinic):
    """A function telling whether the clinic is closed on a date (weekday or public holiday)."""
    weekdays = set(clinic.closed_weekdays)
    country_holidays = None
    if clinic.holidays_country:
        import holidays  # only loaded when a clinic names a country

        try:
            country_holidays = holidays.country_holidays(
                clinic.holidays_country, subdiv=clinic.holidays_subdiv
            )
        except NotImplementedError:
            raise InputError(
                f"holidays_country '{clinic.holidays_country}' is not a country the holidays "
                "package knows."
            ) from None

    def closed(d: date) -> bool:
        return d.weekday() in weekdays or (country_holidays is not None and d in country_holidays)

    return closed


def next_open_day(d: date, closed) -> date:
    for _ in range(366):
        if not closed(d):
            return d
        d += timedelta(days=1)
    raise InputError("the clinic config closes every day of the year: check closed_weekdays.")


def session_dates(
    first: date, sessions: int, every: tuple[int, str], clinic: Clinic | None = None
) -> tuple[date, ...]:
    """The dates of ``sessions`` sessions starting on ``first``, ``every`` apart.

    Each session is counted from the first (not from the previous, moved one), then moved
    forward off a closed day. The first session is the booked appointment and never moves.
    """
    count, unit = every
    check_day(first, "first session")
    closed = closed_days_checker(clinic) if clinic is not None else (lambda d: False)
    out: list[date] = [first]
    for k in range(1, sessions):
        days = count * k * {"d": 1, "w": 7, "m": 31}[unit]
        if days > (LAST_DAY - first).days:
            raise InputError(
                f"the course would end after {LAST_DAY.isoformat()}, "
                "the last date mesocare works with."
            )
        if unit == "m":
            from dateutil.relativedelta import relativedelta

            d = first + relativedelta(months=count * k)
        else:
            d = first + timedelta(days=count * k * (7 if unit == "w" else 1))
        d = next_open_day(d, closed)
        if d <= out[-1]:
            d = next_open_day(out[-1] + timedelta(days=1), closed)
        out.append(d)
    return tuple(out)


def make_course(
    first: date,
    sessions: int | None = None,
    every: tuple[int, str] | None = None,
    course_end: date | None = None,
    clinic: Clinic | None = None,
) -> Course:
    """A Course from --sessions/--every or --course-end; an empty Course when neither is known."""
    if course_end is not None and (sessions is not None or every is not None):
        raise InputError("give either --sessions with --every, or --course-end, not both.")
    if course_end is not None:
        check_day(course_end, "course end")
        if course_end < first:
            raise InputError(
                f"course end {course_end.isoformat()} is before the appointment date "
                f"{first.isoformat()}."
            )
        return Course(sessions=(first,), end=course_end)
    if sessions is None and every is None:
        return Course()
    if sessions is None:
        raise InputError("--every needs --sessions: say how many sessions the course has.")
    if sessions == 1:
        return Course(sessions=(first,), end=first)
    if every is None:
        raise InputError(
            "--sessions needs --every: say how far apart the sessions are (for example 4w or 1m)."
        )
    dates = session_dates(first, sessions, every, clinic)
    return Course(sessions=dates, end=dates[-1])
