"""iCalendar (.ics) schedules: each VEVENT is one appointment ("event N", 1-based).

DTSTART: a DATE is untimed; a DATE-TIME with TZID or UTC is converted to the clinic's zone,
a floating one is taken to be in it. DTEND or DURATION gives the duration. STATUS:CANCELLED
is skipped. Area: X-MESOCARE-AREA, else CATEGORIES values, else the service map against the
SUMMARY (the whole text, else its words). Technique: X-MESOCARE-TECHNIQUE, else the service
map. Patient: X-MESOCARE-PATIENT (else the first ATTENDEE's CN) and X-MESOCARE-PATIENT-ID.
X-MESOCARE-PRESCRIBED names prescribed medicines. CREATED is the booking date (DTSTAMP is
not). An RRULE with COUNT or UNTIL (daily, weekly or monthly) gives the course of sessions.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from mesocare.errors import InputError
from mesocare.model import Clinic, Course, Request, RowProblem, Schedule, ScheduleRow
from mesocare.parse import parse_areas, parse_duration_minutes, parse_prescribed, parse_technique
from mesocare.readers.common import clinic_zone, end_minutes, local_date, problem, to_local
from mesocare.readers.services import resolve_each, resolve_service
from mesocare.course import make_course

_FREQ_UNITS = {"DAILY": "d", "WEEKLY": "w", "MONTHLY": "m"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WORDS = re.compile(r"[\s,;:()\[\]/|+–—]+")


def _texts(event, name: str) -> list[str]:
    value = event.get(name)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def _categories(event) -> list[str]:
    value = event.get("CATEGORIES")
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [str(c).strip() for v in values for c in getattr(v, "cats", [v]) if str(c).strip()]


def _patient(event) -> tuple[str | None, str | None]:
    names = _texts(event, "X-MESOCARE-PATIENT")
    if not names:
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [] if attendees is None else [attendees]
        cn = str(attendees[0].params.get("CN", "")).strip() if attendees else ""
        names = [cn] if cn else []
    ids = _texts(event, "X-MESOCARE-PATIENT-ID")
    return (names[0] if names else None), (ids[0] if ids else None)


def _value(event, name: str, kind: type):
    """A date/time property's value; None when absent; InputError when it is broken."""
    if name not in event:
        return None
    value = event.decoded(name) if not any(bad == name for bad, _ in event.errors) else None
    if not isinstance(value, kind):
        what = "duration (such as PT30M)" if kind is timedelta else "date or date-time"
        raise InputError(f"{name} is not a valid iCalendar {what}.")
    tzid = event[name].params.get("TZID") if hasattr(event[name], "params") else None
    if tzid and isinstance(value, datetime) and value.tzinfo is None:
        raise InputError(f"{name} names the time zone '{tzid}', which is neither an IANA zone nor a VTIMEZONE in the file.")
    return value


def _duration(event, start: datetime, zone: tzinfo) -> int | None:
    end = _value(event, "DTEND", date)
    if isinstance(end, datetime):
        return end_minutes(to_local(start, zone), to_local(end, zone), "DTEND")
    length = _value(event, "DURATION", timedelta)
    minutes = round(length.total_seconds() / 60) if length is not None else 0
    return parse_duration_minutes(minutes, "DURATION") if minutes else None


def _service(event, clinic: Clinic) -> tuple[tuple[str, ...], str] | None:
    areas = _texts(event, "X-MESOCARE-AREA")
    if areas:
        return parse_areas(areas, "X-MESOCARE-AREA"), "needle"
    summary = str(event.get("SUMMARY", "")).strip()
    return (
        resolve_each(_categories(event), clinic)
        or resolve_service([summary], clinic)
        or resolve_each(_WORDS.split(summary), clinic)
    )


def _course(event, first: date, zone: tzinfo, clinic: Clinic) -> Course:
    rule = event.get("RRULE")
    if rule is None or isinstance(rule, list):
        return Course()
    unit = _FREQ_UNITS.get(str((rule.get("FREQ") or [""])[0]).upper())
    # BYDAY / BYMONTHDAY that only repeat the first session's weekday or day (as Outlook and
    # Google write them) change nothing; any other rule leaves the course end unknown.
    same_day = {"BYDAY": [_WEEKDAYS[first.weekday()]], "BYMONTHDAY": [first.day]}
    extra = {k: v for k, v in rule.items() if k not in ("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST")}
    if unit is None or any(same_day.get(k) != [str(x) if k == "BYDAY" else x for x in v] for k, v in extra.items()):
        return Course()
    every = (int((rule.get("INTERVAL") or [1])[0]), unit)
    if rule.get("COUNT"):
        return make_course(first, int(rule["COUNT"][0]), every, None, clinic)
    if rule.get("UNTIL"):
        return make_course(first, None, None, local_date(rule["UNTIL"][0], zone), clinic)
    return Course()


def _event(event, position: str, clinic: Clinic, zone: tzinfo) -> tuple[Request | None, RowProblem | None, bool]:
    """The request of one VEVENT, or the problem that stops it; and whether it had CREATED."""
    name, patient_id = _patient(event)
    secrets = (name, patient_id)
    has_created = "CREATED" in event
    if str(event.get("STATUS", "")).strip().upper() == "CANCELLED":
        return None, RowProblem(position, "STATUS", "cancelled, skipped", error=False), has_created
    field = "DTSTART"
    try:
        start = _value(event, "DTSTART", date)
        if start is None:
            raise InputError("DTSTART is missing: the event has no start.")
        field = "DTEND" if "DTEND" in event else "DURATION"
        if isinstance(start, datetime):
            local = to_local(start, zone)
            day, clock, duration = local.date(), local.time().replace(second=0, microsecond=0), _duration(event, start, zone)
        else:
            day, clock, duration = start, None, None
        field = "X-MESOCARE-AREA"
        service = _service(event, clinic)
        if service is None:
            raise InputError(
                "no treatment area: set X-MESOCARE-AREA, an area in CATEGORIES or a known service code in SUMMARY."
            )
        field = "X-MESOCARE-TECHNIQUE"
        techniques = _texts(event, "X-MESOCARE-TECHNIQUE")
        technique = parse_technique(techniques[0], field) if techniques else service[1]
        field = "X-MESOCARE-PRESCRIBED"
        prescribed = parse_prescribed(_texts(event, field), field)
        field = "CREATED"
        created = _value(event, "CREATED", date)
        field = "RRULE"
        course = _course(event, day, zone, clinic)
    except InputError as err:
        return None, problem(position, field, str(err), secrets), has_created
    request = Request(
        date=day,
        time=clock,
        duration_minutes=duration,
        areas=service[0],
        technique=technique,
        prescribed=prescribed,
        course=course,
        name=name,
        patient_id=patient_id,
        booked=local_date(created, zone) if isinstance(created, date) else None,
        appointment_id=str(event.get("UID")) if event.get("UID") else None,
    )
    return request, None, has_created


def read_ics(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    import icalendar

    zone = clinic_zone(clinic)
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, IndexError, KeyError):
        calendars = []
    if not calendars:
        raise InputError("the iCalendar file cannot be read: it needs BEGIN:VCALENDAR ... END:VCALENDAR.")
    rows: list[ScheduleRow] = []
    problems: list[RowProblem] = []
    booking_dates = False
    events = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    for number, event in enumerate(events, start=1):
        position = f"event {number}"
        request, row_problem, has_created = _event(event, position, clinic, zone)
        booking_dates = booking_dates or has_created
        if row_problem is not None:
            problems.append(row_problem)
        if request is not None:
            rows.append(ScheduleRow(position=position, request=request))
    return Schedule(rows=tuple(rows), problems=tuple(problems), has_booking_dates=booking_dates)
