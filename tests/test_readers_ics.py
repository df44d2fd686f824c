"""iCalendar schedules: time zones, durations, the documented X- properties, cancelled events."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from mesocare.errors import InputError
from mesocare.model import Clinic, Course, Request, RowProblem
from mesocare.readers import read_schedule
from mesocare.readers.ics_reader import read_ics

DATA = Path(__file__).resolve().parent / "data" / "schedules"
LONDON = Clinic(timezone="Europe/London")


def calendar(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}\r\nDTSTAMP:20240601T080000Z\r\n{e.strip()}\r\nEND:VEVENT\r\n"
        for n, e in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}END:VCALENDAR\r\n".encode()


@pytest.fixture(scope="module")
def fixture():
    return read_schedule(
        (DATA / "appointments.ics").read_bytes(), LONDON, filename="appointments.ics"
    )


def test_rows_and_positions(fixture):
    assert [r.position for r in fixture.rows] == ["event 1", "event 2", "event 3", "event 7"]
    assert fixture.has_booking_dates


def test_tzid_event_with_documented_properties(fixture):
    assert fixture.rows[0].request == Request(
        date=date(2024, 6, 10),
        time=time(9, 0),  # 10:00 in Paris is 09:00 in London
        duration_minutes=45,
        areas=("face", "neck"),
        technique="needle",
        prescribed=("medrol",),
        name="Zoë Müller",
        patient_id="P-1001",
        booked=date(2024, 6, 1),  # CREATED 22:30 UTC is 23:30 in London
        appointment_id="evt-1@harbour.example",  # the event's UID
    )


def test_utc_event_with_duration_categories_and_attendee(fixture):
    request = fixture.rows[1].request
    assert (request.date, request.time, request.duration_minutes) == (
        date(2024, 6, 11),
        time(14, 30),
        40,
    )
    assert request.areas == ("neck",)
    assert request.name == "Ann Smith"  # the first ATTENDEE's CN
    assert request.booked is None  # DTSTAMP is not a booking date


def test_all_day_event_is_untimed_and_summary_code_maps(fixture):
    request = fixture.rows[2].request
    assert (request.date, request.time, request.duration_minutes) == (date(2024, 6, 12), None, None)
    assert (request.areas, request.technique, request.patient_id) == (
        ("scalp",),
        "microneedling",
        "P-1003",
    )


def test_floating_time_and_rrule_course(fixture):
    request = fixture.rows[3].request
    assert (request.time, request.duration_minutes, request.technique) == (
        time(15, 0),
        30,
        "needleless",
    )
    assert request.course == Course(
        sessions=(date(2024, 6, 17), date(2024, 7, 1), date(2024, 7, 15)), end=date(2024, 7, 15)
    )


def test_problems(fixture):
    assert [(p.position, p.field, p.error) for p in fixture.problems] == [
        ("event 4", "STATUS", False),
        ("event 5", "X-MESOCARE-AREA", True),
        ("event 6", "DTEND", True),
    ]
    assert fixture.problems[0] == RowProblem("event 4", "STATUS", "cancelled, skipped", error=False)
    assert "before the start" in fixture.problems[2].problem


def test_clinic_zone_decides_floating_and_converts_utc():
    data = calendar(
        "DTSTART:20240610T100000Z\r\nSUMMARY:face", "DTSTART:20240610T100000\r\nSUMMARY:face"
    )
    new_york = read_ics(data, Clinic(timezone="America/New_York"))
    assert [r.request.time for r in new_york.rows] == [time(6, 0), time(10, 0)]


def test_utc_late_evening_lands_on_the_next_local_day():
    data = calendar("DTSTART:20240610T233000Z\r\nDURATION:PT1H\r\nSUMMARY:face")
    request = read_ics(data, LONDON).rows[0].request
    assert (request.date, request.time, request.duration_minutes) == (
        date(2024, 6, 11),
        time(0, 30),
        60,
    )


def test_clinic_service_codes_win():
    clinic = Clinic(
        timezone="UTC", services={"facial-1": {"area": "face", "technique": "needleless"}}
    )
    data = calendar("DTSTART:20240610T100000Z\r\nSUMMARY:Jo Bloggs FACIAL-1")
    request = read_ics(data, clinic).rows[0].request
    assert (request.areas, request.technique) == (("face",), "needleless")


def test_several_category_areas_merge():
    data = calendar("DTSTART:20240610T100000Z\r\nCATEGORIES:Face,Mesotherapy\r\nCATEGORIES:neck")
    assert read_ics(data, LONDON).rows[0].request.areas == ("face", "neck")


def test_unknown_tzid_and_broken_start_are_row_problems():
    data = calendar(
        "DTSTART;TZID=Mars/Olympus:20240610T100000\r\nSUMMARY:face",
        "DTSTART:2024-06-10\r\nSUMMARY:face",
        "SUMMARY:face",
        "DTSTART:20240610T100000\r\nSUMMARY:face\r\nX-MESOCARE-TECHNIQUE:laser",
        "DTSTART:20240610T100000\r\nSUMMARY:face\r\nX-MESOCARE-PRESCRIBED:aspirin",
        "DTSTART:20240610T100000\r\nDURATION:PT30H\r\nSUMMARY:face",
    )
    schedule = read_ics(data, LONDON)
    assert schedule.rows == ()
    assert [(p.position, p.field) for p in schedule.problems] == [
        ("event 1", "DTSTART"),
        ("event 2", "DTSTART"),
        ("event 3", "DTSTART"),
        ("event 4", "X-MESOCARE-TECHNIQUE"),
        ("event 5", "X-MESOCARE-PRESCRIBED"),
        ("event 6", "DURATION"),
    ]
    assert "Mars/Olympus" in schedule.problems[0].problem


def test_rrule_that_cannot_be_a_course_leaves_it_unknown():
    data = calendar(
        "DTSTART:20240610T100000\r\nSUMMARY:face\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=6"
    )
    assert read_ics(data, LONDON).rows[0].request.course == Course()


def test_no_booking_dates_without_created():
    assert not read_ics(
        calendar("DTSTART:20240610T100000Z\r\nSUMMARY:face"), LONDON
    ).has_booking_dates


def test_messages_never_name_the_patient():
    data = calendar(
        "DTSTART:20240610T100000Z\r\nSUMMARY:Jane Doe\r\nX-MESOCARE-PATIENT:Jane Doe\r\n"
        "X-MESOCARE-PATIENT-ID:ID-4711",
        "DTSTART:20240610T100000Z\r\nX-MESOCARE-AREA:Doe\r\n"
        "ATTENDEE;CN=Jane Doe:mailto:j@example.com",
    )
    problems = read_ics(data, LONDON).problems
    assert len(problems) == 2
    assert all(
        "Jane" not in str(p) and "Doe" not in str(p) and "4711" not in str(p) for p in problems
    )


def test_not_a_calendar_raises():
    with pytest.raises(InputError, match=r"^cal\.ics: .*VCALENDAR"):
        read_schedule(b"hello", LONDON, filename="cal.ics")


# ------------------------------------------------------------------------- whose address (issue 21)

ZELDA = "ATTENDEE;CN=Zelda Quixote-Marsh:tel:+447700900123"
OTHER = "ATTENDEE;CN=Other Person:mailto:other.person@example.net"


def _who(*lines: str) -> tuple:
    event = "DTSTART:20240610T100000Z\r\nSUMMARY:face\r\n" + "\r\n".join(lines)
    request = read_ics(calendar(event), LONDON).rows[0].request
    return request.name, request.email


@pytest.mark.parametrize(
    "lines, expected",
    [
        ((ZELDA, OTHER), ("Zelda Quixote-Marsh", None)),  # the patient has a phone, no address
        (("X-MESOCARE-PATIENT:Zelda Quixote-Marsh", ZELDA, OTHER), ("Zelda Quixote-Marsh", None)),
        (("X-MESOCARE-PATIENT:Zelda Quixote-Marsh", OTHER), ("Zelda Quixote-Marsh", None)),
        (
            (
                "X-MESOCARE-PATIENT:Zelda Quixote-Marsh",
                OTHER,
                "ATTENDEE;CN=zelda  quixote-marsh:mailto:z@example.org",
            ),
            ("Zelda Quixote-Marsh", "z@example.org"),
        ),  # the attendee of that name, wherever it is
        (
            ("X-MESOCARE-PATIENT:Zelda", "ATTENDEE:mailto:z@example.org"),
            ("Zelda", "z@example.org"),
        ),  # the lone one
        (
            (
                "X-MESOCARE-PATIENT:Zelda",
                "ATTENDEE:mailto:z@example.org",
                "ATTENDEE:mailto:o@example.net",
            ),
            ("Zelda", None),
        ),
        (
            (OTHER, ZELDA),
            ("Other Person", "other.person@example.net"),
        ),  # the first attendee, name and address
        (("ATTENDEE;CN=Zelda:mailto:z@example.org",), ("Zelda", "z@example.org")),
    ],
)
def test_the_name_and_the_address_come_from_the_same_attendee(lines, expected):
    assert _who(*lines) == expected


def test_no_attendee_pairs_a_name_with_another_persons_address():
    """Property: whatever the attendees (CN or not, mailto: or tel:) and X-MESOCARE-PATIENT, the
    address read is the one of the attendee whose name was read, or none."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    people = st.sampled_from(["Zelda Q", "Other P", "Ann S", ""])
    attendee = st.tuples(people, st.sampled_from(["mailto", "tel"]))

    @settings(max_examples=150, deadline=None)
    @given(st.lists(attendee, max_size=4), st.one_of(st.none(), people.filter(bool)))
    def check(attendees, patient):
        lines = [f"X-MESOCARE-PATIENT:{patient}"] if patient else []
        owners = {}
        for n, (cn, scheme) in enumerate(attendees):
            value = f"mailto:a{n}@example.org" if scheme == "mailto" else f"tel:+4477009001{n:02d}"
            lines.append(f"ATTENDEE{';CN=' + cn if cn else ''}:{value}")
            owners[f"a{n}@example.org"] = cn
        name, email = _who(*lines)
        if email is not None:
            assert owners[email] in (name, "")  # its owner is the patient read (or has no name)
            if owners[email] == "":
                assert patient is None or len(attendees) == 1  # then the first, or the only one

    check()
