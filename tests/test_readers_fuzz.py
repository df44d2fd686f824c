"""Fuzzing every schedule reader with hypothesis: raw bytes, and nearly valid CSV rows,
VEVENTs, FHIR Appointments and HL7 segments. A reader either returns a Schedule (bad entries
named as problems) or raises our InputError; never anything else, and no message names the
patient."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesocare.errors import InputError
from mesocare.model import Clinic, Schedule
from mesocare.readers import FORMATS, read_schedule

CLINIC = Clinic(timezone="Europe/London")
NAME = "Zelda Quixote-Marsh"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def outcome(data: bytes, fmt: str | None = None, filename: str | None = None) -> Schedule | None:
    """The schedule, or None when the file is refused with our InputError (anything else fails)."""
    try:
        schedule = read_schedule(data, CLINIC, fmt=fmt, filename=filename)
    except InputError as err:
        assert "Traceback" not in str(err)
        assert "Zelda" not in str(err) and "Quixote" not in str(err)
        return None
    assert isinstance(schedule, Schedule)
    for p in schedule.problems:
        assert "Zelda" not in str(p) and "Quixote" not in str(p), str(p)
        assert "\n" not in p.problem
    return schedule


# --------------------------------------------------------------------------- raw bytes


@FUZZ
@given(data=st.binary(max_size=3000), fmt=st.sampled_from((None, *FORMATS)))
def test_any_bytes(data, fmt):
    outcome(data, fmt)


@FUZZ
@given(
    data=st.binary(max_size=1500),
    start=st.sampled_from(
        [
            b"MSH|^~\\&|",
            b"BEGIN:VCALENDAR\r\n",
            b'{"resourceType":',
            b"date,time,area\n",
            b"\xff\xfe",
            b"\xef\xbb\xbf",
        ]
    ),
)
def test_bytes_after_a_plausible_start(data, start):
    outcome(start + data)


# --------------------------------------------------------------------------- structured

junk = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
digits = st.from_regex(r"\A-?[0-9]{1,12}[dwm]?\Z")
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "", NAME]),
)
times = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.sampled_from(["25:00", "24:00", "", "10:00:00", NAME]),
)
areas = st.sampled_from(
    ["face", "neck", "face+neck", "face, neck", "scalp;hands", "", "face+", "Zelda", NAME]
)
cells = st.one_of(junk, digits, dates, times, areas, st.just(NAME), st.just('"'), st.just("a,b"))


@st.composite
def csv_files(draw) -> bytes:
    header = draw(
        st.lists(
            st.sampled_from(
                [
                    "date",
                    "time",
                    "area",
                    "name",
                    "every",
                    "sessions",
                    "duration",
                    "course_end",
                    "booked_on",
                    "language",
                    "email",
                    "notes",
                ]
            ),
            min_size=3,
            max_size=8,
        )
    )
    if draw(st.booleans()):
        header[:3] = ["date", "time", "area"]
    sep = draw(st.sampled_from([",", ";", "\t"]))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row = []
        for column in header:
            value = draw(
                {"date": dates, "time": times, "area": areas, "name": st.just(NAME)}.get(
                    column, cells
                )
            )
            if draw(st.integers(0, 9)) == 0:
                value = draw(cells)
            quoted = draw(st.integers(0, 5)) == 0
            row.append(f'"{value}"' if quoted else value)
        if draw(st.integers(0, 6)) == 0:
            row = row[: draw(st.integers(0, len(row)))]
        rows.append(sep.join(row))
    text = "\n".join([sep.join(header), *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(csv_files())
def test_nearly_valid_csv(data):
    outcome(data, filename="schedule.csv")


stamps = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y%m%dT%H%M%S")),
    st.sampled_from(
        ["99991231T100000Z", "00010101T000000", "20240610", "20240610T100000Z", "2024", "", NAME]
    ),
)
ics_lines = st.one_of(
    stamps.map(lambda s: f"DTSTART:{s}"),
    stamps.map(lambda s: f"DTSTART;TZID=Europe:{s}"),
    stamps.map(lambda s: f"DTSTART;TZID=Europe/Paris:{s}"),
    stamps.map(lambda s: f"DTEND:{s}"),
    stamps.map(lambda s: f"CREATED:{s}"),
    st.sampled_from(
        [
            "DURATION:PT30M",
            "DURATION:P99999999D",
            "DURATION:bogus",
            "STATUS:CANCELLED",
            "X-MESOCARE-AREA:face",
            "X-MESOCARE-AREA:Zelda",
            "CATEGORIES:neck,face",
            "SUMMARY:MESO-FACE",
            "X-MESOCARE-LANGUAGE:fre",
            f"ATTENDEE;CN={NAME}:mailto:z@example.org",
            "X-MESOCARE-TECHNIQUE:laser",
            "X-MESOCARE-PRESCRIBED:medrol",
        ]
    ),
    st.builds(
        lambda f, i, c, u: (
            f"RRULE:FREQ={f};INTERVAL={i};" + (f"COUNT={c}" if c is not None else f"UNTIL={u}")
        ),
        st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "BOGUS", "YEARLY"]),
        st.integers(-1, 10**6),
        st.one_of(st.none(), st.integers(-1, 10**12)),
        stamps,
    ),
    junk.map(lambda j: f"X-JUNK:{j}"),
)


@st.composite
def ics_files(draw) -> bytes:
    events = []
    for n in range(draw(st.integers(1, 4))):
        lines = draw(st.lists(ics_lines, max_size=8))
        events.append(
            "\r\n".join(
                ["BEGIN:VEVENT", f"UID:{n}", f"X-MESOCARE-PATIENT:{NAME}", *lines, "END:VEVENT"]
            )
        )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"
        + "\r\n".join(events)
        + "\r\nEND:VCALENDAR\r\n"
    ).encode()


@FUZZ
@given(ics_files())
def test_nearly_valid_icalendar(data):
    outcome(data, filename="calendar.ics")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), junk),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(junk, children, max_size=3)
    ),
    max_leaves=8,
)
instants = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "+01:00"),
    st.sampled_from(
        [
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+01:00",
            "2024-06-10",
            "2024-06-10T10:00:00",
            NAME,
        ]
    ),
)
appointment_fields = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["booked", "cancelled", "noshow", "proposed", "bogus", ""]),
        "start": instants,
        "end": instants,
        "created": instants,
        "minutesDuration": st.one_of(st.integers(-10, 10**40), junk),
        "serviceType": st.one_of(
            st.just([{"coding": [{"code": "MESO-FACE"}]}]), st.just([{"text": NAME}]), json_values
        ),
        "participant": st.one_of(
            st.just(
                [{"actor": {"reference": "Patient/C-1", "display": NAME}, "status": "accepted"}]
            ),
            json_values,
        ),
        "extension": st.one_of(
            st.just(
                [
                    {
                        "url": "http://mesocare.example/fhir/StructureDefinition/area",
                        "valueCode": "Zelda",
                    }
                ]
            ),
            st.just(
                [
                    {
                        "url": "http://mesocare.example/fhir/StructureDefinition/language",
                        "valueCode": "fre",
                    }
                ]
            ),
            json_values,
        ),
        "reason": json_values,
        "serviceCategory": json_values,
        "id": junk,
    },
)
patients = st.fixed_dictionaries(
    {"resourceType": st.just("Patient"), "id": st.just("C-1")},
    optional={"name": json_values, "communication": json_values, "telecom": json_values},
)


@st.composite
def fhir_files(draw) -> bytes:
    resources = [
        {"resourceType": "Appointment", **draw(appointment_fields)}
        for _ in range(draw(st.integers(1, 3)))
    ]
    entries = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    if draw(st.booleans()):
        entries.append({"resource": draw(patients), "search": {"mode": "include"}})
    if draw(st.booleans()):
        entries.append(
            {
                "resource": {"resourceType": "OperationOutcome", "issue": draw(json_values)},
                "search": {"mode": "outcome"},
            }
        )
    if draw(st.booleans()):
        entries.append(draw(json_values))
    return json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries}).encode()


@FUZZ
@given(fhir_files())
def test_nearly_valid_fhir(data):
    outcome(data, filename="bundle.json")


hl7_stamps = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y%m%d%H%M%S")),
    st.sampled_from(
        ["20240610100000+9999", "99991231100000", "00010101", "20240610", "2024", "", NAME]
    ),
)
hl7_text = st.text(alphabet="abcXYZ019 ^~&\\|-+.", max_size=15)


@st.composite
def hl7_files(draw) -> bytes:
    messages = []
    for n in range(draw(st.integers(1, 4))):
        event = draw(st.sampled_from(["S12", "S13", "S14", "S15", "A01", ""]))
        sch = (
            f"SCH|{draw(st.sampled_from(['A1', 'A2', '']))}|F{n}||||||"
            f"{draw(st.sampled_from(['MESO-FACE', 'ov', NAME, '']))}"
            f"|{draw(hl7_text)}|{draw(hl7_text)}"
            f"|^^{draw(hl7_text)}^{draw(hl7_stamps)}^{draw(hl7_stamps)}"
        )
        segments = [rf"MSH|^~\&|A|B|C|D|{draw(hl7_stamps)}||SIU^{event}|M{n}|P|2.5", sch]
        if draw(st.booleans()):
            segments.append(
                f"PID|1||C-{n}||Quixote-Marsh^Zelda||||||||{draw(hl7_text)}"
                "~^NET^Internet^z@example.org"
                f"||{draw(st.sampled_from(['fre', 'spa', '', NAME]))}"
            )
        if draw(st.booleans()):
            segments.append(
                f"AIS|1||{draw(hl7_text)}|{draw(hl7_stamps)}|||{draw(hl7_text)}|{draw(hl7_text)}"
            )
        if draw(st.booleans()):
            segments.append(draw(hl7_text))
        messages.append("\r".join(segments))
    return ("\r".join(messages) + "\r").encode()


@FUZZ
@given(hl7_files())
def test_nearly_valid_hl7(data):
    outcome(data, filename="feed.hl7")
