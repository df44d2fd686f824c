"""A schedule file that holds the wrong kind of thing (a FHIR Patient, a calendar of to-dos, an
HL7 ADT feed, a CSV without our columns) says what it holds and what mesocare reads, exit 1,
and writes nothing: never "0 handouts." and exit 0. An empty day (an empty Bundle, an empty
calendar, a CSV header alone) is still an empty day."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli

pytestmark = pytest.mark.usefixtures("no_clinic_env")

BATCH = ["--tz", "Europe/London", "--today", "2026-12-01", "--format", "json"]
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "name": [{"family": "Quixote", "given": ["Zelda"]}],
}
CAL = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n{}END:VCALENDAR\r\n"
TODO = "BEGIN:VTODO\r\nUID:1\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:Zelda Quixote\r\nEND:VTODO\r\n"
ADT = "MSH|^~\\&|A|B|C|D|20261201||ADT^A01|1|P|2.5\rPID|1||123||Quixote^Zelda\r"

WRONG = [
    ("patient.json", json.dumps(PATIENT), "holds 1 Patient resource and no Appointment"),
    (
        "bundle.json",
        json.dumps({"resourceType": "Bundle", "entry": [{"resource": PATIENT}] * 2}),
        "holds 2 Patient resources and no Appointment",
    ),
    (
        "patients.ndjson",
        json.dumps(PATIENT) + "\n" + json.dumps(PATIENT | {"resourceType": "Practitioner"}),
        "holds 2 Patient and Practitioner resources and no Appointment",
    ),
    ("list.json", json.dumps([{"resourceType": "Observation"}]), "holds 1 Observation resource"),
    ("todo.ics", CAL.format(TODO), "holds VTODO and no VEVENT"),
    ("adt.hl7", ADT, "holds ADT^A01 messages and no SIU"),
    (
        "adt2.hl7",
        ADT + "\r\n" + ADT.replace("ADT^A01", "ORM^O01"),
        "holds ADT^A01 and ORM^O01 messages",
    ),
    ("other.csv", "colour,size\nred,2\n", "has no 'date' column"),
]


@pytest.mark.parametrize("name, content, says", WRONG, ids=[w[0] for w in WRONG])
def test_a_file_of_the_wrong_kind_says_what_it_holds(tmp_path, name, content, says):
    schedule = tmp_path / name
    schedule.write_text(content, encoding="utf-8")
    out = tmp_path / "out.json"
    result = run_cli("batch", schedule, *BATCH, "--out", out)
    assert result.exit_code == 1, result.output
    assert f"{name}: " in result.stderr and says in result.stderr
    assert "0 handouts" not in result.output and not out.exists()
    assert "Zelda" not in result.output and "Quixote" not in result.output


EMPTY = [
    ("empty.json", json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": []})),
    ("empty.ics", CAL.format("")),
    ("header.csv", "date,time,area\n"),
]


@pytest.mark.parametrize("name, content", EMPTY, ids=[e[0] for e in EMPTY])
def test_an_empty_day_is_still_an_empty_day(tmp_path, name, content):
    schedule = tmp_path / name
    schedule.write_text(content, encoding="utf-8")
    result = run_cli("batch", schedule, *BATCH)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


resource_types = st.sampled_from(
    [
        "Patient",
        "Practitioner",
        "Observation",
        "Encounter",
        "Slot",
        "Schedule",
        "Location",
        "Organization",
        "Appointment",
    ]
)


@given(
    st.lists(resource_types, min_size=1, max_size=4), st.sampled_from(["bundle", "list", "ndjson"])
)
@settings(max_examples=40, deadline=None)
def test_any_fhir_file_without_appointments_is_refused_and_with_one_is_read(kinds, shape):
    import tempfile
    from pathlib import Path

    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-10T10:00:00Z",
        "serviceType": [{"coding": [{"code": "MESO-FACE"}]}],
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
    }
    resources = [
        appointment if k == "Appointment" else {"resourceType": k, "id": "x"} for k in kinds
    ]
    if shape == "bundle":
        text, name = (
            json.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}),
            "f.json",
        )
    elif shape == "list":
        text, name = json.dumps(resources), "f.json"
    else:
        text, name = "\n".join(json.dumps(r) for r in resources), "f.ndjson"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        result = run_cli("batch", path, *BATCH)
    if "Appointment" in kinds:
        assert result.exit_code in (0, 3), result.output
        assert len(json.loads(result.stdout)) == kinds.count("Appointment")
    else:
        assert result.exit_code == 1, result.output
        assert "and no Appointment: mesocare reads FHIR Appointments" in result.stderr
