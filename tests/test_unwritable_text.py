"""Text that is not valid Unicode to write: bytes that are not UTF-8 in a command-line argument
(Python escapes them as lone surrogates, U+DC80-U+DCFF) and lone surrogates from a JSON escape.
Every text option, in every output format, ends in a handout (each such character shown as
U+FFFD) or one sentence: never a UnicodeEncodeError."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from mesocare.model import Clinic, Request

pytestmark = pytest.mark.usefixtures("no_clinic_env")

PREP = [
    "prep",
    "--date",
    "2026-12-10",
    "--time",
    "10:00",
    "--area",
    "face",
    "--tz",
    "Europe/London",
    "--today",
    "2026-12-01",
]
FORMATS = ["text", "markdown", "html", "json", "ics", "terminal"]
FIELDS = ["--name", "--patient-id", "--appointment-id"]
NAME = "Zelda \udcff\udcfe Quixote"  # --name $'Zelda \xff\xfe Quixote'

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
# joined by hand: st.text over characters() | characters() merges them, and loses the surrogates
texts = (
    st.lists(
        st.one_of(st.characters(blacklist_categories=["Cc"]), surrogates), min_size=1, max_size=20
    )
    .map("".join)
    .filter(lambda t: t.strip() and not t.startswith("-"))
)


@pytest.mark.parametrize("fmt", [*FORMATS, "pdf"])
def test_a_name_that_is_not_utf8_in_every_format(fmt, tmp_path):
    out = tmp_path / f"handout.{fmt}"
    result = run_cli(
        *PREP,
        "--name",
        NAME,
        "--patient-id",
        "P\udcff1",
        "--appointment-id",
        "A\udcff",
        "--format",
        fmt,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    data = out.read_bytes()
    data.decode("utf-8") if fmt != "pdf" else None
    if fmt in ("text", "markdown", "html", "json", "terminal"):
        assert "Zelda \ufffd\ufffd Quixote" in data.decode("utf-8")


@given(st.sampled_from(FORMATS), st.sampled_from(FIELDS), texts)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_in_any_field_and_format_writes(fmt, field, text):
    result = run_cli(*PREP, field, text, "--format", fmt)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    if fmt == "json" and result.exit_code == 0:
        json.loads(result.stdout)
    result.stdout.encode("utf-8")
    if any("\ud800" <= c <= "\udfff" for c in text) and field == "--name" and result.exit_code == 0:
        assert "\ufffd" in result.stdout or fmt == "ics"


@given(texts, texts, texts)
@settings(max_examples=100, deadline=None)
def test_every_text_of_a_request_and_a_clinic_can_be_written(name, pid, phone):
    request = Request(
        date=date(2026, 12, 10),
        areas=("face",),
        name=name,
        patient_id=pid,
        email=pid,
        appointment_id=name,
        language=pid,
        prescribed=(name,),
    )
    for value in (
        request.name,
        request.patient_id,
        request.email,
        request.appointment_id,
        request.language,
        *request.prescribed,
    ):
        value.encode("utf-8")
    assert len(request.name) == len(name)  # each surrogate is one U+FFFD
    clinic = Clinic(name=name, phone=phone, reviewed_by=pid)
    for value in (clinic.name, clinic.phone, clinic.reviewed_by):
        value.encode("utf-8")


def test_init_with_a_name_that_is_not_utf8(tmp_path):
    result = run_cli(
        "init",
        tmp_path / "c\udcff",
        "--name",
        "Harb\udcffour",
        "--phone",
        "0\udcff2",
        "--tz",
        "Europe/London",
    )
    assert result.exit_code == 0, result.output
    config = (tmp_path / "c\udcff" / "mesocare.yaml").read_text(encoding="utf-8")
    assert "Harb\ufffdour" in config and "0\ufffd2" in config


# lone surrogates from a FHIR file's JSON escapes (the Patient is read as JSON, not validated)
FHIR = r"""{"resourceType":"Bundle","entry":[
{"resource":{"resourceType":"Patient","id":"p1","name":[{"family":"Qu\udcffixote","given":["Ze\ud800lda"]}],
 "telecom":[{"system":"email","value":"z@example.org"}]}},
{"resource":{"resourceType":"Appointment","id":"a1","status":"booked","start":"2026-12-10T10:00:00Z",
 "serviceType":[{"coding":[{"code":"MESO-FACE"}]}],
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}}]}"""


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json", "ics", "pdf"])
def test_a_schedules_name_with_lone_surrogates_in_every_format(tmp_path, fmt):
    schedule = tmp_path / "day.json"
    schedule.write_text(FHIR, encoding="utf-8")
    out = tmp_path / f"day.{fmt}"
    result = run_cli(
        "batch", schedule, "--tz", "UTC", "--today", "2026-12-01", "--format", fmt, "--out", out
    )
    assert result.exit_code == 0, result.output
    if fmt in ("text", "markdown", "html"):
        assert "Ze\ufffdlda Qu\ufffdixote" in out.read_text(encoding="utf-8")


def test_an_email_to_a_patient_whose_name_has_lone_surrogates(tmp_path):
    schedule = tmp_path / "day.json"
    schedule.write_text(FHIR, encoding="utf-8")
    config = tmp_path / "mesocare.yaml"
    config.write_text(
        "name: Harbour\ntimezone: UTC\nphone: '1'\nemail:\n  from: clinic@example.org\n"
        "  host: 127.0.0.1\n  port: 2525\n  security: none\n",
        encoding="utf-8",
    )
    result = run_cli(
        "send", schedule, "--clinic", config, "--today", "2026-12-01", "--dry-run", tmp_path / "eml"
    )
    assert result.exit_code == 0, result.output
    [message] = (tmp_path / "eml").glob("*.eml")
    message.read_bytes().decode("ascii")  # headers and body as sent: 7-bit, encoded
