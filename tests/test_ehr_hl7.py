"""`--format hl7`: MDM^T02 messages that hl7apy parses at strict validation for v2.5, the PDF
embedded base64, ids from the schedule, every value escaped by the encoding characters."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from mesocare.ehr import hl7_mdm
from mesocare.handout import build_handout
from mesocare.model import Clinic, Request

pytestmark = pytest.mark.usefixtures("no_clinic_env")
DATA = Path(__file__).resolve().parent / "data" / "schedules"
PREP = (
    "prep",
    "--area",
    "face",
    "--today",
    "2026-06-01",
    "--tz",
    "Europe/London",
    "--format",
    "hl7",
)


ED_DATA = re.compile(r"(\|\^AP\^PDF\^Base64\^)([A-Za-z0-9+/=]+)(\|)")


def strict(text: str):
    """hl7apy at strict validation for v2.5. hl7apy parses every OBX-5 component as ST (199
    characters at most: it does not type OBX-5 by OBX-2, its issue #45), so the ED's base64 is
    cut to 64 characters for this check; the whole of it is checked by ``pdf_of``."""
    assert len(ED_DATA.findall(text)) == 1
    short = ED_DATA.sub(lambda m: m.group(1) + m.group(2)[:64] + m.group(3), text)
    msg = parse_message(short, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert msg.validate()
    return msg


def pdf_of(text: str) -> bytes:
    """The ED's data: base64 (nothing in its alphabet needs escaping), decoded strictly."""
    return base64.b64decode(ED_DATA.search(text).group(2), validate=True)


def fields(text: str):
    return hl7.parse(text)


def prep(*args) -> str:
    result = run_cli(*PREP, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_prep_message_is_strict_mdm_t02_with_the_pdf():
    text = prep(
        "--date", "2026-06-10", "--time", "10:00", "--patient-id", "P-1", "--appointment-id", "A-1"
    )
    strict(text)
    m = fields(text)
    assert str(m.segment("MSH")[9]) == "MDM^T02^MDM_T02"
    assert [str(s[0]) for s in m] == ["MSH", "EVN", "PID", "PV1", "TXA", "OBX", "OBX"]
    assert str(m.segment("PID")[3][0][0]) == "P-1"
    assert str(m.segment("PV1")[19]) == "A-1"
    ed = m.segments("OBX")[0]
    assert str(ed[2]) == "ED" and str(ed[3][0][0]) == "69730-0"
    pdf = pdf_of(text)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert "showers" in str(m.segments("OBX")[1][5]).lower()
    assert (
        str(m.segment("TXA")[6]) == "20260610100000+0100"
    )  # the appointment, in London summer time


def test_document_number_is_stable_for_the_appointment_and_version():
    def number(*args):
        return str(fields(prep(*args)).segment("TXA")[12])

    first = number("--date", "2026-06-10", "--patient-id", "P-1", "--appointment-id", "A-1")
    assert first == number(
        "--date",
        "2026-06-10",
        "--patient-id",
        "P-1",
        "--appointment-id",
        "A-1",
        "--today",
        "2026-06-05",
    )
    assert first == number(
        "--date", "2026-06-20", "--time", "09:00", "--patient-id", "P-1", "--appointment-id", "A-1"
    )  # moved
    assert first != number("--date", "2026-06-10", "--patient-id", "P-1", "--appointment-id", "A-2")


def test_control_id_is_the_same_for_the_same_content_on_another_day_and_new_when_moved():
    def control(*args):
        return str(
            fields(prep("--patient-id", "P-1", "--appointment-id", "A-1", *args)).segment("MSH")[10]
        )

    first = control("--date", "2026-06-10", "--time", "10:00")
    assert first == control("--date", "2026-06-10", "--time", "10:00", "--today", "2026-06-05")
    assert first != control("--date", "2026-06-10", "--time", "11:00")


def test_batch_of_an_hl7_schedule_keeps_the_siu_identifiers():
    result = run_cli(
        "batch",
        DATA / "appointments.hl7",
        "--format",
        "hl7",
        "--today",
        "2024-06-01",
        "--tz",
        "Europe/London",
    )
    assert result.exit_code == 3, result.output  # the feed has bad messages, named
    messages = ["MSH" + part for part in result.stdout.split("MSH")[1:]]
    assert len(messages) == 3
    for text in messages:
        strict(text)
        assert pdf_of(text).startswith(b"%PDF")
    first = fields(messages[0])
    assert str(first.segment("PID")[3][0][0]) == "P-1001"
    assert str(first.segment("PV1")[19]) == "F1001"  # SCH-2, the filler's appointment id


NASTY = st.text(alphabet=st.sampled_from(list("|^~\\&\r\n\tAbé1 -'")), min_size=1, max_size=20)
LINE = st.text(
    alphabet=st.sampled_from(list("|^~\\&\tAbé1 -'")), min_size=1, max_size=20
)  # one line


@settings(max_examples=30, deadline=None)
@given(name=NASTY, patient=NASTY, appointment=NASTY, line=LINE)
def test_every_value_is_escaped(ruleset, name, patient, appointment, line):
    clinic = Clinic(timezone="Europe/London")
    request = Request(
        date=date(2026, 6, 10),
        areas=("face",),
        time=time(10),
        name=name,
        patient_id=patient,
        appointment_id=appointment,
    )
    h = build_handout(request, ruleset, clinic, date(2026, 6, 1))
    text = hl7_mdm.message(h, b"%PDF-1.7", f"{line}\nsecond", datetime(2026, 6, 1, tzinfo=UTC))
    strict(text)
    m = fields(text)
    assert len(m) == 7  # no value broke a segment

    def clean(value):
        return hl7_mdm._CONTROL.sub(" ", value).strip()

    assert m.unescape(str(m.segment("PID")[3][0][0])) == clean(patient)
    assert m.unescape(str(m.segment("PID")[5])) == (clean(name) or "UNKNOWN")
    assert m.unescape(str(m.segment("PV1")[19])) == clean(appointment)
    assert m.unescape(str(m.segments("OBX")[1][5][0])) == clean(line)
