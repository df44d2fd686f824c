"""iCalendar (.ics) schedules: each VEVENT is one appointment ("event N", 1-based).

DTSTART: a DATE is untimed; a DATE-TIME with TZID or UTC is converted to the clinic's zone,
a floating one is taken to be in it. DTEND or DURATION gives the duration. STATUS:CANCELLED
is skipped. Area: X-MESOCARE-AREA, else CATEGORIES values, else the service map against the
SUMMARY (the whole text, else its words). Technique: X-MESOCARE-TECHNIQUE, else the service
map. Patient: X-MESOCARE-PATIENT (else the first ATTENDEE's CN) and X-MESOCARE-PATIENT-ID;
X-MESOCARE-LANGUAGE is the patient's language (a tag: fr, es, en-GB). The email address is
the patient's own ATTENDEE's, when it is ``mailto:``: the first ATTENDEE, or with
X-MESOCARE-PATIENT the one whose CN is that name (or a lone ATTENDEE without a CN); never
another attendee's, so a name is never paired with someone else's address.
X-MESOCARE-PRESCRIBED names prescribed medicines. CREATED is the booking date (DTSTAMP is
not). An RRULE with COUNT or UNTIL (daily, weekly or monthly) gives the course of sessions;
an RRULE that cannot be read (FREQ=BOGUS, INTERVAL=0) is that event's problem.
Anything that goes wrong in one event (a zone that is not a zone, a year out of range) is that
event's problem, never the file's.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from mesocare.course import make_course
from mesocare.errors import InputError
from mesocare.model import Clinic, Course, Request, RowProblem, Schedule, ScheduleRow
from mesocare.parse import parse_areas, parse_duration_minutes, parse_prescribed, parse_technique
from mesocare.readers.common import (
    MAX_ROWS,
    check_date,
    check_request,
    clinic_zone,
    email_address,
    end_minutes,
    language_tag,
    local_date,
    problem,
    row_failure,
    to_local,
    too_many_rows,
)
from mesocare.readers.services import resolve_each, resolve_service

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


def _attendees(event) -> list:
    attendees = event.get("ATTENDEE")
    return attendees if isinstance(attendees, list) else [] if attendees is None else [attendees]


def _cn(attendee) -> str:
    return " ".join(str(getattr(attendee, "params", {}).get("CN", "")).split())


def _patient_attendee(event, name: str | None):
    """The patient's own ATTENDEE: the first one when X-MESOCARE-PATIENT is not given, else
    the one whose CN is that name (or the only ATTENDEE, when it has no CN). Never another
    attendee's: the name and the address must be the same person's."""
    attendees = _attendees(event)
    if not attendees:
        return None
    if name is None:
        return attendees[0]
    wanted = " ".join(name.split()).casefold()
    named = [a for a in attendees if _cn(a).casefold() == wanted]
    if named:
        return named[0] if len(named) == 1 else None
    return attendees[0] if len(attendees) == 1 and not _cn(attendees[0]) else None


def _patient(event) -> tuple[str | None, str | None, str | None]:
    """(name, patient id, email address), the name and the address from one ATTENDEE."""
    names = _texts(event, "X-MESOCARE-PATIENT")
    given = names[0] if names else None
    attendee = _patient_attendee(event, given)
    name = given or (_cn(attendee) if attendee is not None else "") or None
    ids = _texts(event, "X-MESOCARE-PATIENT-ID")
    return name, (ids[0] if ids else None), _email(attendee)


def _email(attendee) -> str | None:
    """The patient attendee's address, when it is a mailto: (tel: and others give none)."""
    text = str(attendee).strip() if attendee is not None else ""
    return email_address(text) if text[:7].lower() == "mailto:" else None


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
        raise InputError(
            f"{name} names the time zone '{tzid}', which is neither an IANA zone nor a VTIMEZONE "
            "in the file."
        )
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
    if any(bad == "RRULE" for bad, _ in event.errors):
        raise InputError(
            "RRULE cannot be read: write it as in RFC 5545, for example FREQ=WEEKLY;COUNT=4."
        )
    rule = event.get("RRULE")
    if rule is None or isinstance(rule, list):
        return Course()
    if not isinstance(rule, dict):
        raise InputError(
            "RRULE cannot be read: write it as in RFC 5545, for example FREQ=WEEKLY;COUNT=4."
        )
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    if freq not in ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise InputError("RRULE has no FREQ that iCalendar knows: use DAILY, WEEKLY or MONTHLY.")
    interval = (rule.get("INTERVAL") or [1])[0]
    if not isinstance(interval, int) or interval < 1:
        raise InputError("RRULE INTERVAL must be a whole number of 1 or more.")
    if rule.get("UNTIL"):
        check_date(local_date(rule["UNTIL"][0], zone), "RRULE UNTIL")
    unit = _FREQ_UNITS.get(freq)
    # BYDAY / BYMONTHDAY that only repeat the first session's weekday or day (as Outlook and
    # Google write them) change nothing; any other rule leaves the course end unknown.
    same_day = {"BYDAY": [_WEEKDAYS[first.weekday()]], "BYMONTHDAY": [first.day]}
    extra = {
        k: v for k, v in rule.items() if k not in ("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST")
    }
    if unit is None or any(
        same_day.get(k) != [str(x) if k == "BYDAY" else x for x in v] for k, v in extra.items()
    ):
        return Course()
    every = (interval, unit)
    if rule.get("COUNT"):
        count = int(rule["COUNT"][0])
        if not 1 <= count <= 60:
            raise InputError("RRULE COUNT must be between 1 and 60 sessions.")
        return make_course(first, count, every, None, clinic)
    if rule.get("UNTIL"):
        return make_course(first, None, None, local_date(rule["UNTIL"][0], zone), clinic)
    return Course()


def _event(
    event, position: str, clinic: Clinic, zone: tzinfo
) -> tuple[Request | None, RowProblem | None, bool]:
    """The request of one VEVENT, or the problem that stops it; and whether it had CREATED."""
    name, patient_id, email = _patient(event)
    secrets = (name, patient_id, email)
    has_created = "CREATED" in event
    if str(event.get("STATUS", "")).strip().upper() == "CANCELLED":
        return None, RowProblem(position, "STATUS", "cancelled, skipped", error=False), has_created
    field = "DTSTART"
    try:
        start = _value(event, "DTSTART", date)
        if start is None:
            raise InputError("DTSTART is missing: the event has no start.")
        check_date(start if not isinstance(start, datetime) else start.date(), "DTSTART")
        field = "DTEND" if "DTEND" in event else "DURATION"
        if isinstance(start, datetime):
            local = to_local(start, zone)
            day, clock, duration = (
                local.date(),
                local.time().replace(second=0, microsecond=0),
                _duration(event, start, zone),
            )
        else:
            day, clock, duration = start, None, None
        field = "X-MESOCARE-AREA"
        service = _service(event, clinic)
        if service is None:
            raise InputError(
                "no treatment area: set X-MESOCARE-AREA, an area in CATEGORIES or a known "
                "service code in SUMMARY."
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
        field = "X-MESOCARE-LANGUAGE"
        languages = _texts(event, field)
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
            language=language_tag(languages[0]) if languages else None,
            email=secrets[2],
        )
        check_request(request)
    except Exception as err:  # noqa: BLE001 - any failure of one event is that event's problem
        return None, problem(position, field, row_failure(err), secrets), has_created
    return request, None, has_created


_SAFE_ZONES: list = []


def _use_safe_zones() -> None:
    """Make icalendar's zoneinfo look-up answer "unknown" for a TZID that names a folder of the
    zone database ("Europe") or an unreadable path, instead of raising (it then stays on the
    event, which reports it as an unknown zone)."""
    if _SAFE_ZONES:
        return
    from icalendar.timezone import tzp
    from icalendar.timezone.zoneinfo import ZONEINFO

    class SafeZones(ZONEINFO):
        def timezone(self, name: str):
            try:
                return super().timezone(name)
            except (OSError, ValueError, TypeError):
                return None

    tzp.use(SafeZones())
    _SAFE_ZONES.append(True)


def _no_events(calendars) -> None:
    """InputError when a calendar without events holds other things (to-dos, journal entries):
    "0 handouts" would hide that it is the wrong file. An empty calendar is an empty day."""
    names = {c.name for calendar in calendars for c in calendar.subcomponents} - {"VTIMEZONE"}
    if names:
        shown = sorted(n for n in names if n in _OTHER_COMPONENTS) or ["other entries"]
        raise InputError(
            f"the iCalendar file holds {', '.join(shown)} and no VEVENT: mesocare reads events "
            "(VEVENT), one per appointment."
        )


_OTHER_COMPONENTS = ("VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY", "VALARM")


def read_ics(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    import icalendar

    _use_safe_zones()
    zone = clinic_zone(clinic)
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:  # noqa: BLE001 - icalendar's own errors on a broken file
        calendars = []
    if not calendars:
        raise InputError(
            "the iCalendar file cannot be read: it needs BEGIN:VCALENDAR ... END:VCALENDAR."
        )
    rows: list[ScheduleRow] = []
    problems: list[RowProblem] = []
    booking_dates = False
    events = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    if not events:
        _no_events(calendars)
    if len(events) > MAX_ROWS:
        raise too_many_rows()
    for number, event in enumerate(events, start=1):
        position = f"event {number}"
        try:
            request, row_problem, has_created = _event(event, position, clinic, zone)
        except Exception as err:  # noqa: BLE001 - an event too broken to name its patient
            request, row_problem, has_created = (
                None,
                RowProblem(position, None, row_failure(err)),
                False,
            )
        booking_dates = booking_dates or has_created
        if row_problem is not None:
            problems.append(row_problem)
        if request is not None:
            rows.append(ScheduleRow(position=position, request=request))
    return Schedule(rows=tuple(rows), problems=tuple(problems), has_booking_dates=booking_dates)
