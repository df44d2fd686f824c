"""FHIR R4 Appointment schedules: Bundle, single resource, ndjson; the service map."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path

import pytest

from mesocare.errors import InputError
from mesocare.model import Clinic, Request, RowProblem
from mesocare.readers import read_schedule
from mesocare.readers.fhir_reader import read_fhir
from mesocare.readers.services import DEFAULT_SERVICES, resolve_service

DATA = Path(__file__).resolve().parent / "data" / "schedules"
LONDON = Clinic(timezone="Europe/London")


def appointment(**fields) -> dict:
    base = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2024-06-10T10:00:00+01:00",
        "serviceType": [{"coding": [{"code": "MESO-FACE"}]}],
        "participant": [
            {"actor": {"reference": "Patient/p1", "display": "Jane Doe"}, "status": "accepted"}
        ],
    }
    return {**base, **fields}


def read_one(resource: dict, clinic: Clinic = LONDON):
    return read_fhir(json.dumps(resource).encode(), clinic)


@pytest.fixture(scope="module")
def bundle():
    return read_schedule(
        (DATA / "appointments-bundle.json").read_bytes(),
        LONDON,
        filename="appointments-bundle.json",
    )


def test_r4b_models_read_r4_appointments():
    from fhir.resources.R4B.appointment import Appointment

    assert Appointment.model_validate(appointment()).participant[0].actor.reference == "Patient/p1"


def test_bundle_rows(bundle):
    assert [r.position for r in bundle.rows] == ["entry 1", "entry 5"]
    assert bundle.rows[0].request == Request(
        date=date(2024, 6, 10),
        time=time(9, 0),  # 10:00+02:00 is 09:00 in London
        duration_minutes=45,
        areas=("face",),
        technique="needle",
        prescribed=("medrol",),
        name="Zoë Müller",
        patient_id="p-1001",  # the id, without the resource type
        booked=date(2024, 6, 2),  # created 23:30 UTC is 00:30 the next day in London
        appointment_id="Appointment/a1",
    )
    extension_row = bundle.rows[1].request
    assert (extension_row.areas, extension_row.technique, extension_row.duration_minutes) == (
        ("scalp",),
        "microneedling",
        40,
    )
    assert (extension_row.time, extension_row.booked) == (time(14, 0), date(2024, 6, 5))
    assert bundle.has_booking_dates


def test_bundle_problems(bundle):
    assert [(p.position, p.field, p.error) for p in bundle.problems] == [
        ("entry 2", "status", False),
        ("entry 3", "serviceType", True),
        ("entry 6", "start", True),
        ("entry 7", "start", True),
    ]
    assert bundle.problems[0] == RowProblem("entry 2", "status", "cancelled, skipped", error=False)
    assert (
        str(bundle.problems[0]) == "entry 2, status: cancelled, skipped"
    )  # not "status: status cancelled"
    assert "LASER-01" in bundle.problems[1].problem
    assert "UTC offset" in bundle.problems[3].problem


def test_ndjson_by_extension():
    schedule = read_schedule(
        (DATA / "appointments.ndjson").read_bytes(), LONDON, filename="appointments.ndjson"
    )
    assert [r.position for r in schedule.rows] == ["line 1"]
    request = schedule.rows[0].request
    assert (request.areas, request.time, request.duration_minutes, request.name) == (
        ("hands",),
        time(9, 30),
        30,
        "Gus Hill",
    )
    assert [(p.position, p.field, p.error) for p in schedule.problems] == [
        ("line 2", None, True),
        ("line 4", "status", False),
        ("line 5", "end", True),
    ]
    assert not schedule.has_booking_dates


def test_ndjson_recognised_without_a_file_name():
    data = (DATA / "appointments.ndjson").read_bytes()
    assert [r.position for r in read_schedule(data, LONDON).rows] == ["line 1"]


def test_single_appointment_and_json_list():
    assert read_one(appointment()).rows[0].position == "entry 1"
    data = json.dumps([appointment(), appointment(status="entered-in-error")]).encode()
    schedule = read_fhir(data, LONDON)
    assert [r.position for r in schedule.rows] == ["entry 1"]
    assert schedule.problems == (
        RowProblem("entry 2", "status", "entered in error, skipped", error=False),
    )


def test_end_wins_over_minutes_duration_and_equal_end_means_default():
    request = (
        read_one(appointment(end="2024-06-10T11:00:00+01:00", minutesDuration=20)).rows[0].request
    )
    assert request.duration_minutes == 60
    assert (
        read_one(appointment(end="2024-06-10T10:00:00+01:00")).rows[0].request.duration_minutes
        is None
    )


def test_coding_display_text_and_appointment_type():
    by_display = appointment(serviceType=[{"coding": [{"code": "X99", "display": "Neck"}]}])
    assert read_one(by_display).rows[0].request.areas == ("neck",)
    by_text = appointment(serviceType=[{"text": "body"}])
    assert read_one(by_text).rows[0].request.areas == ("body",)
    by_type = appointment(serviceType=None, appointmentType={"coding": [{"code": "meso-hands-mn"}]})
    request = read_one(by_type).rows[0].request
    assert (request.areas, request.technique) == (("hands",), "microneedling")


def test_clinic_service_map_wins_over_defaults():
    clinic = Clinic(
        timezone="UTC", services={"MESO-FACE": {"area": "face+neck", "technique": "needleless"}}
    )
    request = read_one(appointment(), clinic).rows[0].request
    assert (request.areas, request.technique) == (("face", "neck"), "needleless")


def test_validation_errors_name_the_field_once_per_entry_in_our_words():
    schedule = read_one(
        appointment(
            minutesDuration="long", participant=[{"actor": {"reference": 5}, "status": "accepted"}]
        )
    )
    assert [(p.field, p.problem) for p in schedule.problems] == [
        ("minutesDuration", "should be a whole number (and 1 more problem).")
    ]


def test_bad_extension_values_are_row_problems():
    ext = "http://mesocare.example/fhir/StructureDefinition/"
    schedule = read_one(appointment(extension=[{"url": ext + "technique", "valueCode": "laser"}]))
    assert [(p.position, p.field) for p in schedule.problems] == [
        ("entry 1", "technique extension")
    ]
    schedule = read_one(
        appointment(extension=[{"url": ext + "prescribed", "valueCode": "ibuprofen"}])
    )
    assert [(p.position, p.field) for p in schedule.problems] == [
        ("entry 1", "prescribed extension")
    ]


def test_no_service_at_all():
    schedule = read_one(appointment(serviceType=None))
    assert [(p.field, p.problem.split(":")[0]) for p in schedule.problems] == [
        ("serviceType", "no service")
    ]


def test_messages_never_name_the_patient():
    resources = [
        appointment(serviceType=[{"coding": [{"code": "Doe"}]}]),
        appointment(start="Jane Doe"),
        appointment(
            extension=[
                {
                    "url": "http://mesocare.example/fhir/StructureDefinition/area",
                    "valueCode": "Jane",
                }
            ]
        ),
    ]
    problems = read_fhir(json.dumps(resources).encode(), LONDON).problems
    assert len(problems) == 3
    assert all("Jane" not in str(p) and "Doe" not in str(p) for p in problems)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"{not json", "not valid JSON"),
        (b'{"kind": "Appointment"}', "no resourceType"),
        (b"[1, 2", "not valid JSON"),
    ],
)
def test_unreadable_files_raise(data, message):
    with pytest.raises(InputError, match=message):
        read_fhir(data, LONDON)


def test_non_resources_in_a_list_are_row_problems():
    data = json.dumps([42, {"resourceType": "Observation"}, appointment()]).encode()
    schedule = read_fhir(data, LONDON)
    assert [(p.position, p.problem) for p in schedule.problems] == [
        ("entry 1", "not a FHIR resource, skipped"),
        ("entry 2", "an Observation resource, not an Appointment, skipped"),
    ]
    assert len(schedule.rows) == 1


def test_resolve_service_rules():
    clinic = Clinic(services={"face": {"area": "scalp"}})
    assert resolve_service(["  Face "], clinic) == (("scalp",), "needle")  # the clinic's map first
    assert resolve_service(["unknown", "MESO-body-nl"], Clinic()) == (("body",), "needleless")
    assert resolve_service(["Face mesotherapy"], Clinic()) is None
    assert DEFAULT_SERVICES["MESO-FACE-MN"] == {"area": "face", "technique": "microneedling"}
    assert resolve_service(["meso-face-neck"], Clinic()) == (("face", "neck"), "needle")
