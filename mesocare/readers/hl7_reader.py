"""HL7 v2 SIU schedules (versions 2.2 to 2.8): one or more messages, MLLP-framed or not,
segments ended by CR, LF or CRLF. Positions: "message N" (1-based), fields as "SCH-11".

S12 books an appointment; S13 (reschedule) and S14 (modification) replace the earlier one with
the same placer (SCH-1) or filler (SCH-2) appointment id; S15 (cancel), S16 (discontinue) and
S17 (delete) remove it. Start: SCH-11 component 4, else TQ1-7, AIS-4, AIG-8, AIL-6, AIP-6.
Duration: SCH-9 in SCH-10 units (minutes by default), else the end in SCH-11 component 5 or
TQ1-8, else AIS-7 in AIS-8 units. Service: AIS-3, else SCH-7, else SCH-8 (code or text)
through the service map. Patient: PID-5 (family^given: "Given Family"), PID-3 (else PID-2)
first component. Booking date: MSH-7. Timestamps are YYYYMMDD[HH[MM[SS[.S]]]][+/-ZZZZ]; one
without an offset is in the clinic's zone; one without a time makes the appointment untimed.

Patient's language: PID-15 (ISO 639 codes such as fre/fra/fr, spa/es, or a text), as a BCP 47
tag; email address: PID-13, the repetition whose communication address (component 4, else 1)
holds an "@".

Field positions do not move between versions (v2.7+ withdrew SCH-9 to SCH-11, which real feeds
still fill). Components are taken from a field's first repetition by position. Splitting files
into messages and messages into fields is hl7_messages' job (by hand, for speed: see there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone, tzinfo

from mesocare.errors import InputError
from mesocare.model import Clinic, Request, RowProblem, Schedule, ScheduleRow
from mesocare.parse import parse_duration_minutes
from mesocare.readers.common import (
    MAX_ROWS,
    check_date,
    check_request,
    clinic_zone,
    decode_text,
    email_address,
    end_minutes,
    language_tag,
    local_date,
    problem,
    row_failure,
    showable,
    to_local,
    too_many_rows,
)
from mesocare.readers.hl7_messages import Bad, Message, parse_message, split_messages
from mesocare.readers.services import resolve_service

_WANTED = ("MSH", "SCH", "TQ1", "PID", "AIS", "AIG", "AIL", "AIP")
_BOOK, _CANCEL = ("S12", "S13", "S14"), ("S15", "S16", "S17")
_STARTS = (
    ("SCH", 11, 4),
    ("TQ1", 7, 1),
    ("AIS", 4, 1),
    ("AIG", 8, 1),
    ("AIL", 6, 1),
    ("AIP", 6, 1),
)
_SERVICES = (("AIS", 3), ("SCH", 7), ("SCH", 8))
_TS = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})?(?:(\d{2})(?:\.\d{1,4})?)?)?([+-]\d{4})?$"
)
_UNITS = {  # SCH-10 / AIS-8 unit codes (ISO+ and ANSI spellings) -> minutes
    **dict.fromkeys(("min", "mins", "minute", "minutes", "m"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1 / 60),
}
_CODE = re.compile(r"^[A-Za-z0-9]{1,8}$")
_SERVICE_CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


class _Coded(Bad):
    """A Bad whose message quotes a service code on purpose."""


def _timestamp(text: str, field: str, zone: tzinfo) -> datetime | date:
    """An HL7 timestamp: a datetime in the clinic's zone, or a date when it has no time."""
    m = _TS.match(text)
    if not m:
        shown = f" '{text}'" if showable(text) else ""
        raise Bad(field, f"{field}{shown} is not an HL7 timestamp (YYYYMMDD[HHMM[SS]][+/-ZZZZ]).")
    year, month, day, hour, minute, second, offset = m.groups()
    try:
        if hour is None:
            return check_date(date(int(year), int(month), int(day)), field)
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0)
        )
        check_date(moment.date(), field)
    except ValueError:
        raise Bad(field, f"{field} '{text}' is not a real date and time.") from None
    except InputError as err:
        raise Bad(field, str(err)) from None
    if offset:
        hours, minutes = int(offset[1:3]), int(offset[3:])
        if hours > 14 or minutes > 59:
            raise Bad(
                field,
                f"{field} has the UTC offset {offset}, which no place on Earth uses (-1200 to "
                "+1400).",
            )
        sign = -1 if offset[0] == "-" else 1
        moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return to_local(moment, zone)


def _minutes(msg: Message, segment: str, field: int, units_field: int) -> int | None:
    """A duration field in its units field's unit (minutes when empty); None when it is 0."""
    name, units = f"{segment}-{field}", f"{segment}-{units_field}"
    amount, unit = msg.get(segment, field), msg.get(segment, units_field) or "min"
    factor = _UNITS.get(unit.lower()) or _UNITS.get(msg.get(segment, units_field, 2).lower())
    if factor is None:
        shown = f" '{unit}'" if _CODE.match(unit) else ""
        raise Bad(units, f"{units} unit{shown} is not minutes, hours or seconds.")
    try:
        minutes = round(float(amount) * factor)
    except (ValueError, OverflowError):
        raise Bad(name, f"{name} is not a number.") from None
    try:
        return parse_duration_minutes(minutes, name) if minutes else None
    except InputError as err:
        raise Bad(name, str(err)) from None


def _start(msg: Message, zone: tzinfo) -> datetime | date:
    for segment, field, component in _STARTS:
        text = msg.get(segment, field, component)
        if text:
            return _timestamp(text, f"{segment}-{field}", zone)
    raise Bad(
        "SCH-11",
        "no start time: SCH-11 component 4 and the TQ1, AIS, AIG, AIL and AIP segments have none.",
    )


def _duration(msg: Message, start: datetime | date, zone: tzinfo) -> int | None:
    if not isinstance(start, datetime):
        return None  # untimed: the appointment takes its day
    if msg.get("SCH", 9):
        return _minutes(msg, "SCH", 9, 10)
    for segment, field, component in (("SCH", 11, 5), ("TQ1", 8, 1)):
        text = msg.get(segment, field, component)
        end = _timestamp(text, f"{segment}-{field}", zone) if text else None
        if isinstance(end, datetime):
            try:
                return end_minutes(start, end, f"{segment}-{field} end")
            except InputError as err:
                raise Bad(f"{segment}-{field}", str(err)) from None
    if msg.get("AIS", 7):
        return _minutes(msg, "AIS", 7, 8)
    return None


def _service(msg: Message, clinic: Clinic) -> tuple[tuple[str, ...], str]:
    tried: list[tuple[str, str]] = []
    for segment, field in _SERVICES:
        texts = [msg.get(segment, field, 1), msg.get(segment, field, 2)]
        if any(texts):
            tried.append((f"{segment}-{field}", texts[0]))
            try:
                found = resolve_service(texts, clinic)
            except InputError as err:
                raise Bad(f"{segment}-{field}", str(err)) from None
            if found:
                return found
    if not tried:
        raise Bad("SCH-7", "no service: AIS-3, SCH-7 and SCH-8 are all empty.")
    # the first field whose code component holds a code, else the first with any text: free
    # text in SCH-7 ("office visit") must not hide the code in SCH-8 (ov^office visit)
    where, code = next(
        ((w, c) for w, c in tried if _SERVICE_CODE.match(c)),
        next(((w, c) for w, c in tried if c), tried[0]),
    )
    looked = "mesocare looks in AIS-3, SCH-7 and SCH-8"  # the order of _SERVICES
    if _SERVICE_CODE.match(code):
        raise _Coded(
            where,
            f"service code '{code}' (in {where}; {looked}) is not in the clinic's service map or "
            "the default one: "
            f"add it to the clinic config, for example: services: {{{code}: {{area: face}}}}",
        )
    raise Bad(
        where,
        f"the service in {where} ({looked}) is not in the clinic's service map or the default one.",
    )


def _email(msg: Message) -> str | None:
    """PID-13's email address: the repetition whose communication address holds an "@"."""
    for repetition in msg.repetitions("PID", 13):
        for component in (4, 1):
            text = msg.get("PID", 13, component, repetition)
            if "@" in text:
                return email_address(text)
    return None


def _language(msg: Message) -> str | None:
    return language_tag(msg.get("PID", 15, 1) or msg.get("PID", 15, 2))


def _patient(msg: Message) -> tuple[str | None, str | None]:
    name = " ".join(p for p in (msg.get("PID", 5, 2), msg.get("PID", 5, 1)) if p)
    return name or None, msg.get("PID", 3) or msg.get("PID", 2) or None


def _request(msg: Message, position: str, clinic: Clinic, zone: tzinfo) -> Request | RowProblem:
    """The appointment a booking message describes, or the problem that stops it."""
    name, patient_id = _patient(msg)
    email = _email(msg)
    secrets = (name, patient_id, email)
    try:
        stamp = msg.get("MSH", 7)
        booked = local_date(_timestamp(stamp, "MSH-7", zone), zone) if stamp else None
        start = _start(msg, zone)
        duration = _duration(msg, start, zone)
        areas, technique = _service(msg, clinic)
    except _Coded as bad:
        return problem(position, bad.field, str(bad), secrets)
    except Bad as bad:
        return problem(position, bad.field, row_failure(InputError(str(bad))), secrets)
    if isinstance(start, datetime):
        day, at = start.date(), start.time().replace(second=0, microsecond=0, tzinfo=None)
    else:
        day, at = start, None
    request = Request(
        date=day,
        time=at,
        duration_minutes=duration,
        areas=areas,
        technique=technique,
        name=name,
        patient_id=patient_id,
        booked=booked,
        appointment_id=msg.get("SCH", 2) or msg.get("SCH", 1) or None,
        language=_language(msg),
        email=email,
    )
    try:
        check_request(request)
    except InputError as err:
        return problem(position, None, str(err), secrets)
    return request


@dataclass(eq=False)
class _Booking:
    placer: str
    filler: str
    row: ScheduleRow


class _Bookings:
    """The appointments booked so far, in order, found by placer (SCH-1) or filler (SCH-2) id
    in constant time (a feed of 20,000 messages must not compare each with all before it)."""

    def __init__(self) -> None:
        self._all: dict[int, _Booking] = {}  # insertion order
        self._placer: dict[str, _Booking] = {}
        self._filler: dict[str, _Booking] = {}

    def find(self, placer: str, filler: str) -> _Booking | None:
        by_placer = self._placer.get(placer) if placer else None
        by_filler = self._filler.get(filler) if filler else None
        if by_placer is None or by_filler is None or by_placer is by_filler:
            return by_placer or by_filler
        order = list(self._all)  # two different bookings: the earlier one (rare)
        return min((by_placer, by_filler), key=lambda b: order.index(id(b)))

    def add(self, booking: _Booking) -> None:
        self._all[id(booking)] = booking
        self._index(booking)

    def _index(self, booking: _Booking) -> None:
        if booking.placer:
            self._placer.setdefault(booking.placer, booking)
        if booking.filler:
            self._filler.setdefault(booking.filler, booking)

    def update(self, booking: _Booking, placer: str, filler: str, row: ScheduleRow) -> None:
        booking.placer, booking.filler, booking.row = (
            placer or booking.placer,
            filler or booking.filler,
            row,
        )
        self._index(booking)

    def remove(self, booking: _Booking) -> None:
        del self._all[id(booking)]
        for index in (self._placer, self._filler):
            for key in [k for k in (booking.placer, booking.filler) if index.get(k) is booking]:
                del index[key]

    def rows(self) -> tuple[ScheduleRow, ...]:
        return tuple(b.row for b in self._all.values())


def _apply(
    msg: Message, position: str, bookings: _Bookings, clinic: Clinic, zone: tzinfo
) -> RowProblem | None:
    """Book, move or cancel the message's appointment in ``bookings``; the problem, if any."""
    kind, event = msg.get("MSH", 9, 1).upper(), msg.get("MSH", 9, 2).upper()
    if not kind:
        return RowProblem(position, "MSH-9", "the message type is missing.")
    if kind != "SIU" or event not in _BOOK + _CANCEL:
        label = "^".join(p for p in (kind, event) if p)
        shown = label if re.fullmatch(r"[A-Z0-9^]{1,12}", label) else "the message"
        return RowProblem(
            position,
            "MSH-9",
            f"{shown} does not book, move or cancel an appointment, skipped",
            error=False,
        )
    if "SCH" not in msg.segments:
        return RowProblem(position, "SCH", "the message has no SCH segment.")
    placer, filler = msg.get("SCH", 1), msg.get("SCH", 2)
    earlier = bookings.find(placer, filler)
    if event in _CANCEL:
        if not (placer or filler):
            return RowProblem(
                position, "SCH-1", "the cancellation names no appointment id (SCH-1 or SCH-2)."
            )
        if earlier:
            bookings.remove(earlier)
        whose = (
            f"the appointment of {earlier.row.position}"
            if earlier
            else "an appointment not in this file"
        )
        return RowProblem(position, None, f"cancelled ({whose}), skipped", error=False)
    request = _request(msg, position, clinic, zone)
    if isinstance(request, RowProblem):
        if earlier and event != "S12":
            bookings.remove(earlier)  # its details are out of date: do not print them
        return request
    row = ScheduleRow(position=position, request=request)
    if earlier is None:
        bookings.add(_Booking(placer, filler, row))
        return None
    old = earlier.row.request
    if (old.date, old.time) == (request.date, request.time) and old.booked and request.booked:
        row = replace(
            row, request=replace(request, booked=min(old.booked, request.booked))
        )  # time unchanged
    bookings.update(earlier, placer, filler, row)
    return None


def read_hl7(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    zone = clinic_zone(clinic)
    messages, stray = split_messages(decode_text(data, "HL7"))
    if not messages:
        raise InputError("the HL7 file has no MSH segment: it is not an HL7 v2 message file.")
    problems: list[RowProblem] = []
    if stray:
        problems.append(
            RowProblem("before message 1", None, "text before the first MSH segment, ignored")
        )
    if len(messages) > MAX_ROWS:
        raise too_many_rows()
    bookings = _Bookings()
    has_booking_dates = False
    kinds: list[str] = []
    for number, segments in enumerate(messages, start=1):
        position = f"message {number}"
        try:
            msg = parse_message(segments, _WANTED)
        except Bad as bad:
            problems.append(RowProblem(position, bad.field, str(bad)))
            continue
        kinds.append("^".join(p for p in (msg.get("MSH", 9, 1), msg.get("MSH", 9, 2)) if p).upper())
        has_booking_dates = has_booking_dates or bool(msg.get("MSH", 7))
        try:
            found = _apply(msg, position, bookings, clinic, zone)
        except Exception as err:  # noqa: BLE001 - any failure of one message is that message's problem
            found = RowProblem(position, None, row_failure(err))
        if found is not None:
            problems.append(found)
    _holds_siu(kinds)
    return Schedule(
        rows=bookings.rows(), problems=tuple(problems), has_booking_dates=has_booking_dates
    )


def _holds_siu(kinds: list[str]) -> None:
    """InputError when the file's messages have types and not one is SIU (an ADT feed given
    by mistake): "0 handouts" would hide that it is the wrong file."""
    typed = [k for k in kinds if k]
    if not typed or any(k.split("^")[0] == "SIU" for k in typed):
        return
    shown = sorted({k for k in typed if re.fullmatch(r"[A-Z0-9^]{1,12}", k)})
    held = " and ".join(shown[:3]) + (" and others" if len(shown) > 3 else "") if shown else "other"
    raise InputError(
        f"the HL7 file holds {held} messages and no SIU: mesocare reads SIU scheduling messages "
        "(S12 to S17): export the day's appointments."
    )
