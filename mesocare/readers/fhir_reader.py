"""FHIR R4 Appointment schedules: one Appointment, a Bundle of them, a JSON list, or ndjson.

Each Appointment is checked with fhir.resources (its R4B models read R4 Appointments).
start (an instant) is converted to the clinic's zone; end, else minutesDuration, gives the
duration; created is the booking date. The participant whose actor.reference is a Patient
gives patient_id (the id in the reference: "Patient/C-0001" gives "C-0001") and the name
(actor.display, else the Patient's name when the Patient is in the file). Area and technique
come from the extensions below, else from serviceType / appointmentType codings (code,
display or text) through the service map.

The patient's language: the Patient's ``communication.language`` (the preferred one first) when
the Patient is in the file, else the Appointment's language extension (below); the email
address: the Patient's ``telecom`` with ``system: email``.

Appointments with status cancelled, noshow or entered-in-error are skipped (not errors).
Bundle entries with ``search.mode: include`` and Patient resources anywhere are read for the
patient's details and never counted as skipped; an OperationOutcome (``search.mode: outcome``)
with only information or warnings is reported, not counted as skipped.
Positions: "entry N" (Bundle entry, list item or the single resource), "line N" (ndjson).
A file more deeply nested than MAX_JSON_DEPTH is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, tzinfo
from typing import Any

from mesocare.errors import InputError
from mesocare.model import Clinic, Request, RowProblem, Schedule, ScheduleRow
from mesocare.parse import parse_areas, parse_duration_minutes, parse_prescribed, parse_technique
from mesocare.readers.common import (
    MAX_JSON_DEPTH,
    MAX_ROWS,
    CodeError,
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
    to_local,
    too_many_rows,
)
from mesocare.readers.fhir_file import (
    BAD_JSON,
    TOO_DEEP,
    Entry,
    field_name,
    release,
    resources,
    validation_message,
)
from mesocare.readers.services import resolve_service, unknown_service

EXTENSION = "http://mesocare.example/fhir/StructureDefinition/"
AREA_URL = EXTENSION + "area"  # valueCode, repeatable: face, neck, body, hands, scalp
TECHNIQUE_URL = EXTENSION + "technique"  # valueCode: needle, microneedling, needleless
PRESCRIBED_URL = EXTENSION + "prescribed"  # valueCode, repeatable: medrol, lasix
LANGUAGE_URL = (
    EXTENSION + "language"
)  # valueCode: the patient's language (BCP 47), when no Patient is in the file
SKIPPED_STATUSES: dict[str, str] = {
    "cancelled": "cancelled, skipped",
    "noshow": "a no-show, skipped",
    "entered-in-error": "entered in error, skipped",
}
_TYPE_NAME = re.compile(r"^[A-Za-z]{1,64}$")
_CODE = re.compile(r"^[A-Za-z0-9.-]{1,40}$")
_SUPPORTING = ("Patient",)  # resources read for details, never rows


# --------------------------------------------------------------------------- patients


def _reference_id(reference: str) -> str | None:
    """The Patient id of a reference: "Patient/C-0001",
    ".../fhir/Patient/C-0001/_history/2" -> "C-0001"."""
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1]:
        return parts[-1]
    return None


def _patients(entries: list[Entry]) -> dict[str, dict]:
    """The Patients in the file, by id."""
    found: dict[str, dict] = {}
    for _, raw, _ in entries:
        if (
            isinstance(raw, dict)
            and raw.get("resourceType") == "Patient"
            and isinstance(raw.get("id"), str)
        ):
            found.setdefault(raw["id"], raw)
    return found


def _listed(value) -> list:
    return value if isinstance(value, list) else []


def _patient_name(patient: dict) -> str | None:
    names = [n for n in _listed(patient.get("name")) if isinstance(n, dict)]
    order: dict[Any, int] = {"usual": 0, "official": 1}
    names.sort(key=lambda n: order.get(n.get("use"), 2))
    for name in names:
        if isinstance(name.get("text"), str) and name["text"].strip():
            return name["text"].strip()
        given = [g for g in _listed(name.get("given")) if isinstance(g, str)]
        family = name.get("family") if isinstance(name.get("family"), str) else ""
        whole = " ".join(p.strip() for p in (*given, family) if p and p.strip())
        if whole:
            return whole
    return None


def _patient_language(patient: dict) -> str | None:
    spoken = [c for c in _listed(patient.get("communication")) if isinstance(c, dict)]
    spoken.sort(key=lambda c: c.get("preferred") is not True)
    for communication in spoken:
        concept = communication.get("language")
        if not isinstance(concept, dict):
            continue
        codes = [c.get("code") for c in _listed(concept.get("coding")) if isinstance(c, dict)]
        text = next((c for c in codes if isinstance(c, str) and c.strip()), None) or concept.get(
            "text"
        )
        if isinstance(text, str) and text.strip():
            return language_tag(text)
    return None


def _patient_email(patient: dict) -> str | None:
    for point in _listed(patient.get("telecom")):
        if (
            isinstance(point, dict)
            and point.get("system") == "email"
            and isinstance(point.get("value"), str)
        ):
            address = email_address(point["value"])
            if address:
                return address
    return None


# --------------------------------------------------------------------------- appointments


def _patient_participant(appointment) -> tuple[str | None, str | None]:
    for participant in appointment.participant or []:
        actor = participant.actor
        reference = (actor.reference or "") if actor else ""
        if _reference_id(reference):
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
        found = resolve_service(
            [t for c in codings for t in (c.code, c.display) if t] + [concept.text or ""], clinic
        )
        if found:
            return found
    if not concepts:
        raise InputError("no service: give a serviceType coding or the area extension.")
    raise CodeError(unknown_service(codes))


def _secrets(raw: dict, patients: dict[str, dict]) -> tuple[str | None, ...]:
    actors = [p.get("actor") for p in _listed(raw.get("participant")) if isinstance(p, dict)]
    found: list[str | None] = []
    for actor in actors:
        if not isinstance(actor, dict):
            continue
        found.extend(str(actor.get(k)) for k in ("display", "reference") if actor.get(k))
        patient = patients.get(_reference_id(str(actor.get("reference") or "")) or "")
        if patient:
            found.extend((_patient_name(patient), _patient_email(patient)))
    return tuple(found)


def _appointment(
    raw: dict, position: str, clinic: Clinic, zone: tzinfo, patients: dict[str, dict], secrets
) -> Request | RowProblem:
    from fhir.resources.R4B.appointment import Appointment
    from pydantic import ValidationError

    try:
        appointment = Appointment.model_validate(raw)
    except (ValueError, TypeError, RecursionError) as err:
        if not isinstance(err, ValidationError):
            return problem(position, None, row_failure(err), secrets)
        errors = err.errors(include_url=False, include_input=False)
        first: Mapping[str, Any] = errors[0] if errors else {}
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        return problem(
            position, field_name(first), validation_message(first).rstrip(".") + more + ".", secrets
        )
    name, reference = _patient_participant(appointment)
    patient_id = _reference_id(reference) if reference else None
    patient = patients.get(patient_id or "")
    field = "start"
    try:
        if appointment.start is None:
            raise InputError("start is missing: the appointment has no start time.")
        check_date(appointment.start.date(), "start")
        start = to_local(appointment.start, zone)
        field = "end" if appointment.end else "minutesDuration"
        duration = None
        if appointment.end:
            check_date(appointment.end.date(), "end")
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
        field = "language"
        language = _patient_language(patient) if patient else None
        if language is None:
            language = next((language_tag(c) for c in _codes(appointment, LANGUAGE_URL)), None)
        field = "created"
        created = appointment.created
        request = Request(
            date=start.date(),
            time=start.time().replace(second=0, microsecond=0, tzinfo=None),
            duration_minutes=duration,
            areas=areas,
            technique=technique,
            prescribed=prescribed,
            name=name or (_patient_name(patient) if patient else None),
            patient_id=patient_id,
            booked=local_date(created, zone) if isinstance(created, date) else None,
            appointment_id=f"Appointment/{appointment.id}" if appointment.id else None,
            language=language,
            email=_patient_email(patient) if patient else None,
        )
        check_request(request)
    except Exception as err:  # noqa: BLE001 - any failure of one entry is that entry's problem
        return problem(position, field, row_failure(err), secrets)
    return request


def _outcome(raw: dict, position: str) -> RowProblem:
    """A search's OperationOutcome: reported; an error only when an issue is an error."""
    issues = [i for i in _listed(raw.get("issue")) if isinstance(i, dict)]
    severities = [str(i.get("severity")) for i in issues]
    codes = sorted(
        {
            str(i.get("code"))
            for i in issues
            if isinstance(i.get("code"), str) and _CODE.match(i["code"])
        }
    )
    code_words = f" (code {', '.join(codes)})" if codes else ""
    if any(s in ("error", "fatal") for s in severities):
        return RowProblem(
            position,
            "OperationOutcome",
            f"the server reports an error in the search{code_words}: the list may be incomplete",
        )
    count = len(issues)
    return RowProblem(
        position,
        "OperationOutcome",
        f"a note from the server's search ({count} information or warning "
        f"issue{'s' if count != 1 else ''}{code_words}), not an appointment",
        error=False,
    )


def _holds_appointments(entries) -> None:
    """InputError when the file holds resources and not one is an Appointment (a Patient, a
    Bundle of Practitioners): saying "0 handouts" would hide that it is the wrong file. An
    empty Bundle, or a search that returned only a note (OperationOutcome), is an empty day."""
    kinds = [raw.get("resourceType") if isinstance(raw, dict) else None for _, raw, _ in entries]
    if not kinds or "Appointment" in kinds or set(kinds) <= {"OperationOutcome", None}:
        return
    named = sorted({k for k in kinds if isinstance(k, str) and _TYPE_NAME.match(k)})
    if not named:
        return  # entries that are not FHIR at all: each is its own problem below
    held = " and ".join(named) if len(named) <= 3 else f"{', '.join(named[:3])} and others"
    count = len([k for k in kinds if k in named])
    raise InputError(
        f"the FHIR file holds {count} {held} resource{'s' if count != 1 else ''} and no "
        "Appointment: "
        "mesocare reads FHIR Appointments (one, a Bundle of them, or ndjson with one per line): "
        "export the day's appointments."
    )


def read_fhir(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    zone = clinic_zone(clinic)
    text = decode_text(data, "FHIR")
    ndjson = os.path.splitext(filename or "")[1].lower() in (".ndjson", ".jsonl")
    entries = resources(text, ndjson)
    patients = _patients(entries)
    rows: list[ScheduleRow] = []
    problems: list[RowProblem] = []
    booking_dates = False
    release_said = False
    _holds_appointments(entries)
    for position, raw, mode in entries:
        if raw is BAD_JSON:
            problems.append(RowProblem(position, None, "not valid JSON, skipped"))
            continue
        if raw is TOO_DEEP:
            problems.append(
                RowProblem(
                    position, None, f"nested more than {MAX_JSON_DEPTH} levels deep, skipped"
                )
            )
            continue
        kind = raw.get("resourceType") if isinstance(raw, dict) else None
        if mode == "include" or kind in _SUPPORTING:
            continue  # read above for the patients' details
        if kind == "OperationOutcome" and mode in ("outcome", None):
            problems.append(_outcome(raw, position))
            continue
        if kind != "Appointment":
            if isinstance(kind, str) and _TYPE_NAME.match(kind):
                what = f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind} resource, not an Appointment"
            else:
                what = "not a FHIR resource"
            problems.append(RowProblem(position, "resourceType", f"{what}, skipped"))
            continue
        if len(rows) >= MAX_ROWS:
            raise too_many_rows()
        booking_dates = booking_dates or bool(raw.get("created"))
        status = raw.get("status")
        if isinstance(status, str) and status in SKIPPED_STATUSES:
            problems.append(RowProblem(position, "status", SKIPPED_STATUSES[status], error=False))
            continue
        older = release(raw)
        if older and not release_said:
            release_said = True
            problems.append(
                RowProblem(
                    "file",
                    None,
                    f"this looks like a FHIR {older} file, and mesocare reads FHIR R4: "
                    "ask the booking system for an R4 export",
                    error=False,  # a note: the entries themselves are counted
                )
            )
        result = _appointment(raw, position, clinic, zone, patients, _secrets(raw, patients))
        if isinstance(result, RowProblem):
            problems.append(result)
        else:
            rows.append(ScheduleRow(position=position, request=result))
    return Schedule(rows=tuple(rows), problems=tuple(problems), has_booking_dates=booking_dates)
