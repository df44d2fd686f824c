"""Clinic systems end to end: FHIR, HL7 v2 and iCalendar in; JSON, ndjson and calendars out.

Only the requested data goes to stdout; the summary goes to stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import REPO
from mesocare.cli import app

EXAMPLES = REPO / "examples"
DATA = REPO / "tests" / "data" / "schedules"
LONDON = ["--tz", "Europe/London", "--today", "2024-06-01"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    monkeypatch.chdir(tmp_path)


def batch(*args, input=None):
    return CliRunner().invoke(app, ["batch", *args], input=input)


@pytest.mark.parametrize(
    "example",
    [
        "schedule.csv",
        "schedule-excel.csv",
        "appointments.ics",
        "appointments-fhir.json",
        "appointments.hl7",
    ],
)
def test_every_example_schedule_gives_valid_ndjson(example):
    import jsonschema

    from mesocare.resources import schema_path

    schema = json.loads(schema_path("handout.schema.json").read_text())
    r = batch(str(EXAMPLES / example), "--format", "ndjson", *LONDON)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines, "no handouts"
    for line in lines:
        jsonschema.validate(json.loads(line), schema)
    assert "handout" in r.stderr  # the summary went to stderr, not into the data


def test_fhir_bundle_from_stdin_with_booking_dates():
    data = (EXAMPLES / "appointments-fhir.json").read_bytes()
    r = CliRunner().invoke(
        app, ["batch", "-", "--input-format", "fhir", "--format", "json", *LONDON], input=data
    )
    assert r.exit_code == 0, r.stderr
    handouts = json.loads(r.stdout)
    assert handouts[0]["booked"] is not None
    ids = [h["patient"]["id"] for h in handouts]
    assert all(ids) and not any(
        i.startswith("Patient/") for i in ids
    )  # the id, as in the README's file names


def test_malformed_fhir_and_hl7_are_named_and_the_rest_processed():
    for name in ("appointments-bundle.json", "appointments.hl7"):
        r = batch(str(DATA / name), "--format", "ndjson", *LONDON)
        assert r.exit_code == 3, (name, r.stderr)
        assert "skipped" in r.stderr
        assert r.stdout.strip(), f"{name}: the good entries were not printed"


def test_hl7_sniffed_from_content_without_extension(tmp_path):
    copy = tmp_path / "feed.txt"
    copy.write_bytes((EXAMPLES / "appointments.hl7").read_bytes())
    r = batch(str(copy), "--format", "ndjson", *LONDON)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.count("\n") >= 1


def test_calendar_files_one_per_patient(tmp_path):
    import icalendar

    out = tmp_path / "calendars"
    r = batch(
        str(EXAMPLES / "appointments-fhir.json"), "--format", "ics", "--out", f"{out}/", *LONDON
    )
    assert r.exit_code == 0, r.stderr
    files = sorted(out.glob("*.ics"))
    assert files and all(f.name.endswith(".ics") for f in files)
    for f in files:
        raw = f.read_bytes()
        assert b"\r\n" in raw  # RFC 5545 line ends survive the atomic write
        cal = icalendar.Calendar.from_ical(raw)
        assert cal.walk("VTIMEZONE") and cal.walk("VALARM")


def test_prep_ics_to_stdout_and_file(tmp_path):
    r = CliRunner().invoke(
        app,
        [
            "prep",
            "--date",
            "2024-06-10",
            "--time",
            "10:00",
            "--area",
            "face",
            "--format",
            "ics",
            *LONDON,
        ],
    )
    assert r.exit_code == 0 and r.stdout.startswith("BEGIN:VCALENDAR")
    out = tmp_path / "plan.ics"
    r = CliRunner().invoke(
        app, ["prep", "--date", "2024-06-10", "--area", "face", "--out", str(out), *LONDON]
    )
    assert r.exit_code == 0 and out.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


def test_pipe_to_a_json_reader_gets_only_data(tmp_path):
    """mesocare batch - --format ndjson < day.json | jq : stdout is pure ndjson."""
    env = dict(os.environ, MESOCARE_CLINIC="")
    with open(EXAMPLES / "appointments-fhir.json", "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "mesocare", "batch", "-", "--format", "ndjson", *LONDON],
            stdin=stdin,
            capture_output=True,
            env=env,
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.decode().splitlines():
        json.loads(line)
    assert b"handout" in done.stderr


def test_appointment_ids_come_from_every_source():
    expected = {
        "appointments-fhir.json": "Appointment/",
        "appointments.hl7": "",
        "appointments.ics": "",
    }
    for name, prefix in expected.items():
        r = batch(str(EXAMPLES / name), "--format", "ndjson", *LONDON)
        ids = [json.loads(line)["appointment"]["id"] for line in r.stdout.splitlines()]
        assert ids and all(i and i.startswith(prefix) for i in ids), (name, ids)
        assert len(set(ids)) == len(ids)


def test_csv_appointment_id_column(tmp_path):
    path = tmp_path / "day.csv"
    path.write_text("date,time,area,appointment_id\n2024-06-10,10:00,face,A-77\n")
    r = batch(str(path), "--format", "ndjson", *LONDON)
    assert json.loads(r.stdout)["appointment"]["id"] == "A-77"


def test_a_moved_appointment_keeps_its_calendar_uids():
    """Re-importing the plan of a rescheduled appointment replaces its entries."""
    import icalendar

    def uids(day):
        r = CliRunner().invoke(
            app,
            [
                "prep",
                "--date",
                day,
                "--time",
                "10:00",
                "--area",
                "face",
                "--patient-id",
                "P1",
                "--appointment-id",
                "A-77",
                "--format",
                "ics",
                *LONDON,
            ],
        )
        assert r.exit_code == 0
        return [str(e["UID"]) for e in icalendar.Calendar.from_ical(r.stdout).walk("VEVENT")]

    before, after = uids("2024-06-10"), uids("2024-06-14")
    assert before == after and len(set(before)) == len(before)
