"""FHIR R4 Appointment schedules: one Appointment, a Bundle of them, a JSON list, or ndjson.

Each Appointment is checked with fhir.resources (its R4B models read R4 Appointments).
start (an instant) is converted to the clinic's zone; end, else minutesDuration, gives the
duration; created is the booking date. The participant whose actor.reference is a Patient
gives patient_id (the reference, "Patient/123") and the name (actor.display). Area and
technique come from the extensions below, else from serviceType / appointmentType codings
(code, display or text) through the service map. Appointments with status cancelled, noshow
or entered-in-error are skipped; Bundle entries with search.mode "include" are ignored.
Positions: "entry N" (Bundle entry, list item or the single resource), "line N" (ndjson).
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, tzinfo

from mesocare.errors import InputError
from mesocare.model import Clinic, Request, RowProblem, Schedule, ScheduleRow
from mesocare.parse import parse_areas, parse_duration_minutes, parse_prescribed, parse_technique
from mesocare.readers.common import clinic_zone, decode_text, end_minutes, local_date, problem, to_local
from mesocare.readers.services import resolve_service, unknown_service

EXTENSION = "http://mesocare.example/fhir/StructureDefinition/"
AREA_URL = EXTENSION + "area"  # valueCode, repeatable: face, neck, body, hands, scalp
TECHNIQUE_URL = EXTENSION + "technique"  # valueCode: needle, microneedling, needleless
PRESCRIBED_URL = EXTENSION + "prescribed"  # valueCode, repeatable: medrol, lasix
SKIPPED_STATUSES: tuple[str, ...] = ("cancelled", "noshow", "entered-in-error")
_TYPE_NAME = re.compile(r"^[A-Za-z]{1,64}$")
_BAD_JSON = object()  # stands for an ndjson line that is not JSON


def _expand(value, position: str) -> list[tuple[str, object]]:
    """(position, resource) pairs of a parsed JSON value: a Bundle's entries, or the value itself."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = value.get("entry") or []
        if not isinstance(entries, list):
            raise InputError("the FHIR Bundle's entry is not a list.")
        prefix = f"{position}, " if position else ""
        return [
            (f"{prefix}entry {n}", entry.get("resource") if isinstance(entry, dict) else None)
            for n, entry in enumerate(entries, start=1)
            if not (isinstance(entry, dict) and (entry.get("search") or {}).get("mode") == "include")
        ]
    return [(position or "entry 1", value)]


def _resources(text: str, ndjson: bool) -> list[tuple[str, object]]:
    if not ndjson:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            lines = [line for line in text.splitlines() if line.strip()]
            if len(lines) < 2 or not _is_json_object(lines[0]):
                raise InputError(f"the FHIR file is not valid JSON (line {err.lineno}, column {err.colno}).") from None
        else:
            if isinstance(value, list):
                return [(f"entry {n}", item) for n, item in enumerate(value, start=1)]
            if not isinstance(value, dict) or "resourceType" not in value:
                raise InputError("the file is JSON but not a FHIR resource: it has no resourceType.")
            return _expand(value, "")
    found: list[tuple[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.extend(_expand(json.loads(line), f"line {number}"))
        except json.JSONDecodeError:
            found.append((f"line {number}", _BAD_JSON))
    return found


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def _validation_message(message: str) -> str:
    """fhir.resources' validation message in words a desk can act on."""
    message = message.removeprefix("Value error, ")
    kind = message.split(" value string does not match spec regex")[0]
    if kind == message:
        return message
    if kind == "Instant":
        return "not a FHIR instant: write date, time and UTC offset, for example 2024-06-10T10:00:00+01:00."
    return f"not a valid FHIR {kind[:1].lower()}{kind[1:]} value."


def _patient_participant(appointment) -> tuple[str | None, str | None]:
    for participant in appointment.participant or []:
        actor = participant.actor
        reference = (actor.reference or "") if actor else ""
        if reference.startswith("Patient/") or "/Patient/" in reference:
            return (actor.display or None), reference
    return None, None


def _codes(appointment, url: str) -> list[str]:
    return [
        str(ext.valueCode or ext.valueString)
        for ext in appointment.extension or []
        if ext.url == url and (ext.valueCode or ext.valueString)
    ]


def _service(appointment, clinic: Clinic) -> tuple[tuple[str, ...], str]:
    areas = _codes(appointment, AREA_URL)
    if areas:
        return parse_areas(areas, "area extension"), "needle"
    concepts = list(appointment.serviceType or []) + [c for c in [appointment.appointmentType] if c]
    codes: list[str] = []
    for concept in concepts:
        codings = concept.coding or []
        codes.extend(c.code for c in codings if c.code)
        found = resolve_service([t for c in codings for t in (c.code, c.display) if t] + [concept.text or ""], clinic)
        if found:
            return found
    if not concepts:
        raise InputError("no service: give a serviceType coding or the area extension.")
    raise InputError(unknown_service(codes))


def _appointment(raw: dict, position: str, clinic: Clinic, zone: tzinfo) -> tuple[Request | None, list[RowProblem]]:
    from fhir.resources.R4B.appointment import Appointment
    from pydantic import ValidationError

    actors = [p.get("actor") for p in raw.get("participant") or [] if isinstance(p, dict)]
    secrets = tuple(str(a.get(k)) for a in actors if isinstance(a, dict) for k in ("display", "reference") if a.get(k))
    try:
        appointment = Appointment.model_validate(raw)
    except ValidationError as err:
        return None, [
            problem(position, ".".join(str(p) for p in e["loc"]) or None, _validation_message(e["msg"]), secrets)
            for e in err.errors()
        ]
    name, patient_id = _patient_participant(appointment)
    field = "start"
    try:
        if appointment.start is None:
            raise InputError("start is missing: the appointment has no start time.")
        start = to_local(appointment.start, zone)
        field = "end" if appointment.end else "minutesDuration"
        duration = None
        if appointment.end:
            duration = end_minutes(appointment.start, appointment.end, "end")
        elif appointment.minutesDuration:
            duration = parse_duration_minutes(appointment.minutesDuration, "minutesDuration")
        field = "serviceType"
        areas, technique = _service(appointment, clinic)
        field = "technique extension"
        techniques = _codes(appointment, TECHNIQUE_URL)
        technique = parse_technique(techniques[0], field) if techniques else technique
        field = "prescribed extension"
        prescribed = parse_prescribed(_codes(appointment, PRESCRIBED_URL), field)
    except InputError as err:
        return None, [problem(position, field, str(err), secrets)]
    created = appointment.created
    return Request(
        date=start.date(),
        time=start.time().replace(second=0, microsecond=0, tzinfo=None),
        duration_minutes=duration,
        areas=areas,
        technique=technique,
        prescribed=prescribed,
        name=name,
        patient_id=patient_id,
        booked=local_date(created, zone) if isinstance(created, date) else None,
        appointment_id=f"Appointment/{appointment.id}" if appointment.id else None,
    ), []


def read_fhir(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    zone = clinic_zone(clinic)
    text = decode_text(data, "FHIR")
    ndjson = os.path.splitext(filename or "")[1].lower() in (".ndjson", ".jsonl")
    rows: list[ScheduleRow] = []
    problems: list[RowProblem] = []
    booking_dates = False
    for position, raw in _resources(text, ndjson):
        kind = raw.get("resourceType") if isinstance(raw, dict) else None
        if raw is _BAD_JSON:
            problems.append(RowProblem(position, None, "not valid JSON, skipped"))
            continue
        if kind != "Appointment":
            known = isinstance(kind, str) and _TYPE_NAME.match(kind)
            what = f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind} resource, not an Appointment" if known else "not a FHIR resource"
            problems.append(RowProblem(position, "resourceType", f"{what}, skipped"))
            continue
        booking_dates = booking_dates or bool(raw.get("created"))
        status = raw.get("status")
        if status in SKIPPED_STATUSES:
            problems.append(RowProblem(position, "status", f"status {status}, skipped", error=False))
            continue
        request, row_problems = _appointment(raw, position, clinic, zone)
        problems.extend(row_problems)
        if request is not None:
            rows.append(ScheduleRow(position=position, request=request))
    return Schedule(rows=tuple(rows), problems=tuple(problems), has_booking_dates=booking_dates)
