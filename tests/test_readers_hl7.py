"""HL7 v2 SIU schedules: framing, line ends, versions, S12-S15, real-world SCH-11 feeds."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesocare.errors import InputError
from mesocare.model import Clinic, Request, RowProblem
from mesocare.readers import read_schedule
from mesocare.readers.hl7_messages import Bad as _Bad
from mesocare.readers.hl7_reader import _timestamp, read_hl7

DATA = Path(__file__).resolve().parent / "data" / "schedules"
LONDON = Clinic(timezone="Europe/London")
MSH = r"MSH|^~\&|DESK|HARBOUR|MESOCARE|HARBOUR|{stamp}||SIU^{event}|M{n}|P|{version}"


def message(event="S12", *segments, stamp="20240601091200", version="2.5", n=1, end="\r") -> str:
    return end.join([MSH.format(stamp=stamp, event=event, version=version, n=n), *segments]) + end


def read(text: str, clinic: Clinic = LONDON):
    return read_hl7(text.encode("utf-8"), clinic)


@pytest.fixture(scope="module")
def feed():
    return read_schedule(
        (DATA / "appointments.hl7").read_bytes(), LONDON, filename="appointments.hl7"
    )


def test_feed_rows(feed):
    # message 1 was modified by message 6 (S14) in place; message 3 was cancelled by message 4
    assert [r.position for r in feed.rows] == ["message 6", "message 2", "message 8"]
    assert feed.rows[0].request == Request(
        date=date(2024, 6, 10),
        time=time(16, 0),
        duration_minutes=30,
        areas=("face",),
        technique="microneedling",
        name="Zoë Müller",
        patient_id="P-1001",
        booked=date(2024, 6, 4),  # the time changed: booked when the patient heard of the new time
        appointment_id="F1001",  # the filler's id (SCH-2), kept when the appointment moves
    )
    mllp = feed.rows[1].request
    assert (mllp.date, mllp.time, mllp.duration_minutes) == (
        date(2024, 6, 11),
        time(14, 30),
        30,
    )  # AIS-4 at +0200
    assert (mllp.areas, mllp.technique, mllp.name, mllp.booked) == (
        ("scalp",),
        "microneedling",
        "Ann Smith",
        date(2024, 6, 2),
    )
    untimed = feed.rows[2].request
    assert (untimed.date, untimed.time, untimed.duration_minutes, untimed.areas) == (
        date(2024, 6, 16),
        None,
        None,
        ("hands",),
    )
    assert feed.has_booking_dates


def test_feed_problems(feed):
    assert [(p.position, p.field, p.error) for p in feed.problems] == [
        ("message 4", None, False),
        ("message 5", "SCH-11", True),
        ("message 7", "SCH-7", True),
        ("message 9", "MSH-9", False),
        ("message 10", "SCH", True),
    ]
    assert feed.problems[0] == RowProblem(
        "message 4", None, "cancelled (the appointment of message 3), skipped", error=False
    )
    assert "'LASER'" in feed.problems[2].problem


def test_lf_line_ends_and_old_style_sch11():
    text = message(
        "S12",
        "SCH|A1|F1||||||MESO-NECK|||^^^200406221540",
        "PID|1||P-3||Turner^Ben",
        version="2.4",
        end="\n",
    )
    request = read(text).rows[0].request
    assert (request.date, request.time, request.areas, request.name) == (
        date(2004, 6, 22),
        time(15, 40),
        ("neck",),
        "Ben Turner",
    )


def test_sch11_duration_from_the_end_component():
    text = message(
        "S12", "SCH|A1|F1|||||MESO-FACE||||^^15^20190423140000^20190423141500", version="2.3"
    )
    request = read(text).rows[0].request
    assert (request.date, request.time, request.duration_minutes) == (
        date(2019, 4, 23),
        time(14, 0),
        15,
    )


def test_mllp_frame_with_several_messages():
    framed = "".join(
        "\x0b" + message("S12", f"SCH|A{i}||||||face||30|min|^^^2024061{i}0900", n=i) + "\x1c\r"
        for i in range(3)
    )
    assert [r.request.date for r in read(framed).rows] == [
        date(2024, 6, 10),
        date(2024, 6, 11),
        date(2024, 6, 12),
    ]


def test_v28_feed_with_tq1_and_aig_and_hours():
    text = message(
        "S12",
        "SCH|A1|F1|||||body^Body|||||",
        "TQ1|1||||||20240610093000|20240610110000",
        version="2.8",
    )
    assert read(text).rows[0].request.duration_minutes == 90
    text = message(
        "S12", "SCH|A1|F1|||||body||1|h", "AIG|1||DR^Lee|||||20240610093000", version="2.8"
    )
    request = read(text).rows[0].request
    assert (request.time, request.duration_minutes) == (time(9, 30), 60)


def test_ais_duration_and_service_precedence():
    text = message(
        "S12",
        "SCH|A1|F1|||||FACE-CONSULT^Consultation|MESO-SCALP",
        "AIS|1||hands|20240610100000|||45|min",
    )
    request = read(text).rows[0].request
    assert (request.areas, request.duration_minutes) == (("hands",), 45)
    assert read(message("S12", "SCH|A1|F1|||||ROUTINE|MESO-SCALP|||^^^20240610")).rows[
        0
    ].request.areas == ("scalp",)


def test_reschedule_by_filler_id_and_unmatched_cancel():
    text = (
        message("S12", "SCH|P1|F1|||||face||||^^^20240610100000", n=1)
        + message("S13", "SCH||F1|||||face||||^^^20240612100000", n=2, stamp="20240605")
        + message("S15", "SCH|P9|F9", n=3)
    )
    schedule = read(text)
    assert [(r.position, r.request.date, r.request.booked) for r in schedule.rows] == [
        ("message 2", date(2024, 6, 12), date(2024, 6, 5))
    ]
    assert schedule.problems == (
        RowProblem(
            "message 3", None, "cancelled (an appointment not in this file), skipped", error=False
        ),
    )


def test_modification_that_keeps_the_time_keeps_the_booking_date():
    text = message("S12", "SCH|P1||||||face||||^^^20240610100000", n=1, stamp="20240601") + message(
        "S14", "SCH|P1||||||face||45|min|^^^20240610100000", n=2, stamp="20240608"
    )
    request = read(text).rows[0].request
    assert (request.duration_minutes, request.booked) == (45, date(2024, 6, 1))


def test_broken_modification_drops_the_stale_appointment():
    text = message("S12", "SCH|P1||||||face||||^^^20240610100000", n=1) + message(
        "S14", "SCH|P1||||||face||||^^^20249999", n=2
    )
    schedule = read(text)
    assert schedule.rows == ()
    assert [(p.position, p.field) for p in schedule.problems] == [("message 2", "SCH-11")]


@pytest.mark.parametrize(
    "segments, field",
    [
        (["SCH|A1||||||face"], "SCH-11"),
        (["SCH|A1||||||face||x|min|^^^20240610100000"], "SCH-9"),
        (["SCH|A1||||||face||30|fortnights|^^^20240610100000"], "SCH-10"),
        (["SCH|A1||||||face||||^^^20240610100000^20240610090000"], "SCH-11"),
        (["SCH|A1||||||||||^^^20240610100000"], "SCH-7"),
        (["SCH|A1||||||face", "AIS|1||face|2024-06-10"], "AIS-4"),
    ],
)
def test_malformed_messages_name_the_field(segments, field):
    schedule = read(message("S12", *segments))
    assert schedule.rows == ()
    assert [(p.position, p.field, p.error) for p in schedule.problems] == [
        ("message 1", field, True)
    ]


def test_bad_msh7_and_missing_type():
    assert (
        read(message("S12", "SCH|A1||||||face||||^^^20240610", stamp="June")).problems[0].field
        == "MSH-7"
    )
    schedule = read("MSH|^~\\&|DESK\rSCH|A1\r")
    assert schedule.problems == (RowProblem("message 1", "MSH-9", "the message type is missing."),)


def test_escapes_custom_separators_and_batch_segments():
    text = (
        "FHS|^~\\&\rBHS|^~\\&\r"
        + "MSH#$~\\&#A#B#C#D#20240601##SIU$S12#1#P#2.5\rSCH#A1######face####$$$20240610\r"
        "PID#1##X7##O\\T\\Neill$Dan\rBTS|1\rFTS|1\r"
    )
    request = read(text).rows[0].request
    assert (request.name, request.patient_id, request.date) == (
        "Dan O&Neill",
        "X7",
        date(2024, 6, 10),
    )


def test_escape_sequences_formatting_removed_and_hex_as_latin1():
    text = message(
        "S12", "SCH|A1||||||face||||^^^20240610", r"PID|1||X7||M\XFC\ller\.sk5\\H\\.br\^Ann\Zq\ "
    )
    assert read(text).rows[0].request.name == "Ann\\Zq\\ Müller"


def test_text_before_the_first_message_is_reported():
    schedule = read("garbage line\r" + message("S12", "SCH|A1||||||face||||^^^20240610"))
    assert len(schedule.rows) == 1
    assert schedule.problems == (
        RowProblem("before message 1", None, "text before the first MSH segment, ignored"),
    )


def test_timestamps():
    zone = ZoneInfo("Europe/London")
    assert _timestamp("20240610", "X", zone) == date(2024, 6, 10)
    assert _timestamp("202406101030", "X", zone) == datetime(2024, 6, 10, 10, 30, tzinfo=zone)
    assert _timestamp("20240610103015.1234-0400", "X", zone) == datetime(
        2024, 6, 10, 15, 30, 15, tzinfo=zone
    )
    assert _timestamp("2024061010", "X", zone) == datetime(2024, 6, 10, 10, 0, tzinfo=zone)
    for bad in ("2024061", "20240230", "20240610T1030", "202406102560"):
        with pytest.raises(_Bad):
            _timestamp(bad, "X", zone)


def test_messages_never_name_the_patient():
    text = (
        message("S12", "SCH|A1||||||Doe||||^^^20240610", "PID|1||ID-4711||Doe^Jane", n=1)
        + message("S12", "SCH|A2||||||face||||^^^Jane", "PID|1||ID-4711||Doe^Jane", n=2)
        + message(
            "S12", "SCH|A3||||||face|ID-4711|min|^^^20240610100000", "PID|1||ID-4711||Doe^Jane", n=3
        )
    )
    problems = read(text).problems
    assert len(problems) == 3
    assert all(
        "Jane" not in str(p) and "Doe" not in str(p) and "4711" not in str(p) for p in problems
    )


def test_file_without_messages_raises():
    with pytest.raises(InputError, match=r"^feed\.hl7: .*no MSH segment"):
        read_schedule(b"PID|1||X\r", LONDON, filename="feed.hl7")


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="|^~&\\\r\nSCHAIPDT0123456789MSH -+", max_size=120))
def test_any_garbage_after_msh_gives_rows_or_problems(tail):
    read(message("S12", "SCH|A1||||||face||||^^^20240610") + "MSH|^~\\&|" + tail)
