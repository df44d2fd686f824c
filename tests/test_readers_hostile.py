"""Hostile and broken schedules, format by format: every bad row is that row's named problem
(never a traceback, never a patient's name or address in a message), a file that cannot be
read is one InputError naming it, and the patient's language and email address are read."""

from __future__ import annotations

import io
import json
import time
import tracemalloc

import pytest

from mesocare.errors import InputError
from mesocare.model import Clinic, RowProblem, ScheduleRow
from mesocare.readers import read_schedule, stream_schedule
from mesocare.readers.common import MAX_JSON_DEPTH

LONDON = Clinic(timezone="Europe/London")
NAME = "Zelda Quixote-Marsh"
EMAIL = "zelda@example.org"


def read(data: bytes, name: str):
    return read_schedule(data, LONDON, filename=name)


def private(schedule) -> None:
    """No message names the patient or gives her address."""
    for p in schedule.problems:
        text = str(p)
        for secret in ("Zelda", "Quixote", "Marsh", EMAIL):
            assert secret not in text, text


# --------------------------------------------------------------------------- CSV


def csv(*lines: str) -> bytes:
    return "\n".join(lines).encode()


def test_csv_columns_in_the_wrong_order_never_quote_the_name():
    schedule = read(csv("date,time,area,name", f"2024-06-10,{NAME},face,10:00"), "s.csv")
    assert schedule.rows == ()
    assert [(p.position, p.field) for p in schedule.problems] == [("row 2", "time")]
    assert schedule.problems[0].problem.startswith("the time value is not a time")
    private(schedule)


def test_csv_digit_values_are_still_quoted():
    schedule = read(csv("date,time,area", "2024-06-10,25:00,face"), "s.csv")
    assert "'25:00'" in schedule.problems[0].problem


def test_csv_unquoted_comma_in_a_name_is_an_error_for_that_row():
    schedule = read(
        csv(
            "date,time,area,name",
            "2024-06-10,10:00,face,Quixote-Marsh, Zelda",
            "2024-06-11,10:00,neck,Bo Ray",
        ),
        "s.csv",
    )
    assert [r.position for r in schedule.rows] == ["row 3"]
    assert schedule.problems == (
        RowProblem(
            "row 2",
            None,
            "the row has 5 cells but the header has 4: a cell that holds the separator (a comma "
            "in a name) needs quotes around it.",
        ),
    )
    private(schedule)


def test_csv_short_or_long_rows_are_errors_but_the_headers_own_trailing_cells_are_not():
    schedule = read(
        csv(
            "date,time,area,name",
            "2024-06-10,10:00,face",
            "2024-06-11,10:00,face,Ann,,",
            "2024-06-11,10:00,face,Bo",
        ),
        "s.csv",
    )
    assert [r.position for r in schedule.rows] == ["row 4"]
    assert [p.position for p in schedule.problems] == ["row 2", "row 3"]
    excel = read(
        csv("date;time;area;;", "2024-06-10;10:00;face;;", "2024-06-11;10:00;neck"), "s.csv"
    )
    assert [r.position for r in excel.rows] == ["row 2", "row 3"]


def test_csv_shifted_row_with_an_empty_last_cell_is_caught():
    schedule = read(
        csv("date,time,area,name,sessions", "2024-06-10,10:00,face,Quixote-Marsh, Zelda,"), "s.csv"
    )
    assert schedule.rows == ()
    assert schedule.problems[0].problem.startswith("the row has 6 cells but the header has 5")


def test_csv_shifted_area_still_lists_the_areas():
    schedule = read(csv("date,time,area,name", f"2024-06-10,10:00,{NAME},face"), "s.csv")
    assert (
        schedule.problems[0].problem
        == "the area value is not a known area: use one of face, neck, body, hands, scalp."
    )


def test_csv_unterminated_quote_never_gives_a_handout_with_other_rows():
    data = csv(
        "date,time,area,name",
        f'2024-06-10,10:00,face,"{NAME}',
        "2024-06-11,10:00,face,Other Patient",
        "2024-06-12,10:00,face,Third One",
    )
    schedule = read(data, "s.csv")
    assert schedule.rows == ()
    assert [p.position for p in schedule.problems] == ["row 2"]
    assert "quote" in schedule.problems[0].problem
    assert all("Other" not in str(p) for p in schedule.problems)
    private(schedule)


def test_csv_runaway_quote_in_a_big_file_stops_with_a_named_problem():
    rows = [f"2024-06-{10 + n % 10},10:00,face,Patient {n}" for n in range(20000)]
    data = csv(
        "date,time,area,name", "2024-06-10,10:00,face,Ann", '2024-06-10,10:00,face,"Open', *rows
    )
    schedule = read(data, "s.csv")
    assert [r.position for r in schedule.rows] == ["row 2"]
    assert [p.position for p in schedule.problems] == [
        "row 3"
    ] and "never closed" in schedule.problems[0].problem


def test_csv_multiline_note_in_an_unknown_column_is_fine():
    data = csv("date,time,area,notes", '2024-06-10,10:00,face,"line one', 'line two"')
    schedule = read(data, "s.csv")
    assert [r.position for r in schedule.rows] == ["row 2"]


@pytest.mark.parametrize(
    "cells, field",
    [
        ("9999-12-31,10:00,face,,", "date"),
        ("0001-01-01,10:00,face,,", "date"),
        ("2024-06-10,10:00,face,3,3000000d", "every"),
        ("2024-06-10,10:00,face,60,1000m", "every"),
        ("2999-06-10,10:00,face,12,4w", "sessions"),  # a session past 2999
    ],
)
def test_csv_out_of_range_rows_are_skipped_and_the_rest_read(cells, field):
    schedule = read(csv("date,time,area,sessions,every", cells, "2024-06-11,10:00,neck,,"), "s.csv")
    assert [r.position for r in schedule.rows] == ["row 3"]
    assert [(p.position, p.field) for p in schedule.problems] == [("row 2", field)]


def test_csv_language_and_email_columns():
    data = csv(
        "date,time,area,name,language,email",
        f"2024-06-10,10:00,face,{NAME},fre,{EMAIL}",
        "2024-06-10,11:00,face,Ann,en_gb, mailto:ann@example.org ",
        "2024-06-10,12:00,face,Bo,,",
    )
    requests = [r.request for r in read(data, "s.csv").rows]
    assert [(r.language, r.email) for r in requests] == [
        ("fr", EMAIL),
        ("en-GB", "ann@example.org"),
        (None, None),
    ]


def test_csv_bad_row_never_shows_the_email_address():
    schedule = read(csv("date,time,area,email", f"2024-06-10,{EMAIL},face,{EMAIL}"), "s.csv")
    private(schedule)


class _Generated(io.RawIOBase):
    """A CSV file of ``rows`` rows made as it is read (nothing held in memory)."""

    def __init__(self, rows: int):
        self.rows, self.n, self.pending = rows, 0, b"date,time,area,name,patient_id\n"
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer) and self.n < self.rows:
            self.n += 1
            self.pending += (
                f"2024-06-{10 + self.n % 18},{8 + self.n % 10}:30,"
                f"face+neck,Patient Number {self.n},P-{self.n}\n"
            ).encode()
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        self.read_so_far += size
        return size


def test_csv_is_read_as_a_stream_in_bounded_memory():
    source = _Generated(8_000)  # about 0.5 MB; its rows as Requests would take about 8 MB
    stream = stream_schedule(source, LONDON, filename="big.csv")
    items = iter(stream)
    first = next(items)
    assert (
        isinstance(first, ScheduleRow) and source.read_so_far <= 128 * 1024
    )  # the first row before the file is read
    tracemalloc.start()
    count = 1
    for item in items:
        assert isinstance(item, ScheduleRow)
        count += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 8_000
    assert peak < 3 * 1024 * 1024, peak  # flat: a few buffers, not the file or its rows


# --------------------------------------------------------------------------- FHIR


def appointment(**fields) -> dict:
    base = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2024-06-10T10:00:00+01:00",
        "serviceType": [{"coding": [{"code": "MESO-FACE"}]}],
        "participant": [{"actor": {"reference": "Patient/C-0001"}, "status": "accepted"}],
    }
    return {**base, **fields}


PATIENT = {
    "resourceType": "Patient",
    "id": "C-0001",
    "name": [{"use": "official", "family": "Quixote-Marsh", "given": ["Zelda"]}],
    "communication": [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}},
        {"language": {"coding": [{"code": "es"}], "text": "Spanish"}, "preferred": True},
    ],
    "telecom": [{"system": "phone", "value": "0123"}, {"system": "email", "value": EMAIL}],
}


def bundle(*entries) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    ).encode()


def test_fhir_included_patient_gives_name_language_and_email():
    data = bundle(
        {"resource": appointment(), "search": {"mode": "match"}},
        {"resource": PATIENT, "search": {"mode": "include"}},
    )
    schedule = read(data, "b.json")
    assert schedule.problems == ()
    request = schedule.rows[0].request
    assert (request.name, request.patient_id, request.language, request.email) == (
        NAME,
        "C-0001",
        "es",
        EMAIL,
    )


def test_fhir_language_extension_without_a_patient():
    ext = [{"url": "http://mesocare.example/fhir/StructureDefinition/language", "valueCode": "por"}]
    request = read(bundle({"resource": appointment(extension=ext)}), "b.json").rows[0].request
    assert (request.language, request.email) == ("pt", None)


def test_fhir_search_outcome_with_warnings_is_reported_not_skipped():
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "informational", "diagnostics": NAME}],
    }
    schedule = read(
        bundle({"resource": appointment()}, {"resource": outcome, "search": {"mode": "outcome"}}),
        "b.json",
    )
    assert len(schedule.rows) == 1
    assert [(p.position, p.error) for p in schedule.problems] == [("entry 2", False)]
    private(schedule)
    failed = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "too-costly"}],
    }
    schedule = read(
        bundle({"resource": appointment()}, {"resource": failed, "search": {"mode": "outcome"}}),
        "b.json",
    )
    assert [(p.position, p.error) for p in schedule.problems] == [("entry 2", True)]


def test_fhir_stu3_file_is_named_once_in_our_words():
    stu3 = appointment(reason=[{"text": "x"}], serviceCategory={"text": "meso"})
    schedule = read(bundle({"resource": stu3}, {"resource": stu3}), "b.json")
    assert [(p.position, p.error) for p in schedule.problems] == [
        ("file", False),
        ("entry 1", True),
        ("entry 2", True),
    ]
    assert "STU3" in schedule.problems[0].problem and "R4" in schedule.problems[0].problem
    for p in schedule.problems[1:]:
        assert "Input should" not in p.problem and "Extra inputs" not in p.problem
        assert "more problem" in p.problem


def test_fhir_deeply_nested_arrays_are_one_input_error():
    with pytest.raises(InputError, match=r"^b\.json: .*nested more than"):
        read(b"[" * 100_000 + b"]" * 100_000, "b.json")
    with pytest.raises(InputError, match="nested more than"):
        nested: list = [1]
        for _ in range(MAX_JSON_DEPTH):
            nested = [nested]
        read(json.dumps(appointment(extension=nested)).encode(), "b.json")
    assert MAX_JSON_DEPTH >= 20  # real Bundles nest about 10 deep


def test_fhir_ndjson_line_nested_too_deep_is_that_lines_problem():
    data = (json.dumps(appointment()) + "\n" + "[" * 5000 + "]" * 5000 + "\n").encode()
    schedule = read(data, "a.ndjson")
    assert [r.position for r in schedule.rows] == ["line 1"]
    assert [p.position for p in schedule.problems] == ["line 2"]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"start": "9999-12-31T23:00:00-05:00"}, "start"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "start"),
        ({"minutesDuration": "HUGE"}, None),
        ({"start": "2024-06-10T10:00:00+01:00", "end": "9999-12-31T10:00:00+01:00"}, "end"),
    ],
)
def test_fhir_out_of_range_entries_are_skipped_and_the_rest_read(fields, field):
    first = json.dumps(appointment(**fields)).replace('"HUGE"', "9" * 5000)  # a 5,000-digit number
    data = (
        f'{{"resourceType": "Bundle", "entry": [{{"resource": {first}}}, {{"resource": '
        f"{json.dumps(appointment())}}}]}}"
    ).encode()
    schedule = read(data, "b.json")
    assert [r.position for r in schedule.rows] == ["entry 2"]
    assert [p.position for p in schedule.problems] == ["entry 1"]
    if field:
        assert schedule.problems[0].field == field


# --------------------------------------------------------------------------- iCalendar


def ics(*lines: str) -> bytes:
    body = "\r\n".join(lines)
    good = (
        "BEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20240611T100000Z\r\nX-MESOCARE-AREA:neck\r\nEND:VEVENT"
    )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        f"X-MESOCARE-AREA:face\r\n{body}\r\nEND:VEVENT\r\n{good}\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize(
    "lines, field",
    [
        (("DTSTART;TZID=Europe:20240610T100000",), "DTSTART"),
        (("DTSTART:99991231T100000Z",), "DTSTART"),
        (("DTSTART;VALUE=DATE:00010101",), "DTSTART"),
        (("DTSTART:20240610T100000Z", "RRULE:FREQ=BOGUS;COUNT=3"), "RRULE"),
        (("DTSTART:20240610T100000Z", "RRULE:FREQ=WEEKLY;INTERVAL=0;COUNT=3"), "RRULE"),
        (("DTSTART:20240610T100000Z", "RRULE:FREQ=WEEKLY;UNTIL=99991231T000000Z"), "RRULE"),
        (("DTSTART:20240610T100000Z", "RRULE:FREQ=DAILY;COUNT=99999999999"), "RRULE"),
        (("DTSTART:20240610T100000Z", "RRULE:FREQ=MONTHLY;INTERVAL=100000;COUNT=40"), "RRULE"),
    ],
)
def test_ics_broken_events_are_skipped_and_the_rest_read(lines, field):
    schedule = read(ics(*lines), "c.ics")
    assert [r.position for r in schedule.rows] == ["event 2"]
    assert [(p.position, p.field) for p in schedule.problems] == [("event 1", field)]


def test_ics_language_and_attendee_email():
    data = ics(
        "DTSTART:20240610T100000Z",
        "X-MESOCARE-LANGUAGE:spa",
        f'ATTENDEE;CN="{NAME}":mailto:{EMAIL}',
        "ATTENDEE:mailto:other@example.org",
    )
    request = read(data, "c.ics").rows[0].request
    assert (request.name, request.language, request.email) == (NAME, "es", EMAIL)


def test_ics_problem_never_shows_the_attendee():
    schedule = read(
        ics(f'ATTENDEE;CN="{NAME}":mailto:{EMAIL}', "DTSTART:99991231T100000Z"), "c.ics"
    )
    assert len(schedule.problems) == 1
    private(schedule)


# --------------------------------------------------------------------------- HL7

MSH = r"MSH|^~\&|DESK|HARBOUR|MESOCARE|HARBOUR|20240601091200||SIU^S12|M{n}|P|2.5"


def hl7(*segments: str, n: int = 1) -> str:
    return "\r".join([MSH.format(n=n), *segments]) + "\r"


def test_hl7_language_and_email_from_pid():
    text = hl7(
        "SCH|A1|F1||||||MESO-FACE|||^^30^20240610100000",
        f"PID|1||C-0001||Quixote-Marsh^Zelda||||||||^PRN^PH^^^^0123~^NET^Internet^{EMAIL}||fre^French^ISO639",
    )
    request = read(text.encode(), "f.hl7").rows[0].request
    assert (request.name, request.patient_id, request.language, request.email) == (
        NAME,
        "C-0001",
        "fr",
        EMAIL,
    )


def test_hl7_unknown_service_names_the_code_the_fields_and_the_config_line():
    schedule = read(
        hl7("SCH|A1|F1||||||OV15^Office visit|||^^30^20240610100000", "AIS|1||ov^Visit").encode(),
        "f.hl7",
    )
    (problem,) = schedule.problems
    assert problem.field == "AIS-3"
    assert (
        "'ov'" in problem.problem
        and "AIS-3, SCH-7 and SCH-8" in problem.problem
        and "services: {ov: {area: face}}" in problem.problem
    )


@pytest.mark.parametrize(
    "sch11, field",
    [
        ("^^30^20240610100000+9999", "SCH-11"),
        ("^^30^99991231100000", "SCH-11"),
        ("^^30^00010101", "SCH-11"),
        (f"^^30^{NAME}", "SCH-11"),
    ],
)
def test_hl7_out_of_range_messages_are_skipped_and_the_rest_read(sch11, field):
    text = hl7(f"SCH|A1|F1||||||MESO-FACE|||{sch11}", "PID|1||C-1||Quixote-Marsh^Zelda") + hl7(
        "SCH|A2|F2||||||MESO-NECK|||^^30^20240611100000", n=2
    )
    schedule = read(text.encode(), "f.hl7")
    assert [r.position for r in schedule.rows] == ["message 2"]
    assert [(p.position, p.field) for p in schedule.problems] == [("message 1", field)]
    private(schedule)


def test_hl7_twenty_thousand_messages_and_a_huge_message_are_quick():
    one = MSH + "\rSCH|A{n}|F{n}||||||MESO-FACE|||^^30^20240610100000\rPID|1||P-{n}||Doe^Jane\r"
    data = "".join(one.format(n=n) for n in range(20_000)).encode()
    started = time.process_time()
    assert len(read(data, "f.hl7").rows) == 20_000
    huge = (
        hl7(
            "SCH|A1|F1||||||MESO-FACE|||^^30^20240610100000",
            "PID|1||P-1||Doe^Jane" + "^x" * 5_000_000,
        )
    ).encode()
    assert len(read(huge, "f.hl7").rows) == 1
    assert time.process_time() - started < 40  # hl7apy took about a minute for the messages alone


def test_files_beyond_the_size_limit_are_refused_in_one_sentence(monkeypatch):
    import mesocare.readers as readers

    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1000)
    with pytest.raises(InputError, match=r"^f\.hl7: the HL7 file is larger than"):
        read(hl7("SCH|A1|F1||||||MESO-FACE|||^^30^20240610100000" + "x" * 2000).encode(), "f.hl7")


# --------------------------------------------------------------------------- the shared rules


@pytest.mark.parametrize(
    "raw, tag",
    [
        ("fre", "fr"),
        ("fra", "fr"),
        ("FR", "fr"),
        ("spa", "es"),
        ("por", "pt"),
        ("ita", "it"),
        ("deu", "de"),
        ("ger", "de"),
        ("eng", "en"),
        ("en_gb", "en-GB"),
        ("pt-br", "pt-BR"),
        ("", None),
        ("  ", None),
        (None, None),
        ("fr-Latn-FR", "fr-FR"),
        ("de-DE-u-fw-sun", "de-DE"),
        ("es-419", "es-419"),
        ("fr-FX", "fr-FR"),
    ],
)
def test_language_tags_are_read_by_the_one_parser(raw, tag):
    from mesocare.readers.common import language_tag

    assert language_tag(raw) == tag


@pytest.mark.parametrize("raw", ["French", "Zelda Quixote", "fr--FR", "x", "123", "ja", "fr-Cyrl"])
def test_a_language_that_is_no_tag_or_not_ours_is_the_rows_error_without_its_value(raw):
    from mesocare.lang import LanguageError
    from mesocare.readers.common import language_tag

    with pytest.raises(LanguageError) as e:
        language_tag(raw)
    assert str(e.value).startswith("the language is not a language") and raw not in str(e.value)


def test_an_open_file_is_read_like_bytes_and_failures_name_the_file(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_bytes(csv("date,time,area", "2024-06-10,10:00,face"))
    with path.open("rb") as source:
        assert [r.position for r in read_schedule(source, LONDON, filename="plan.csv").rows] == [
            "row 2"
        ]
    with pytest.raises(InputError, match=r"^plan\.csv: the schedule has no 'area' column"):
        list(
            stream_schedule(
                io.BytesIO(csv("date,time", "2024-06-10,10:00")), LONDON, filename="plan.csv"
            )
        )


def test_a_library_failure_inside_a_file_is_our_input_error(monkeypatch):
    import mesocare.readers.hl7_reader as hl7_reader

    def broken(*_):
        raise RecursionError("deep")

    monkeypatch.setattr(hl7_reader, "split_messages", broken)
    with pytest.raises(InputError, match=r"^f\.hl7: the schedule is nested too deeply to read\.$"):
        read(hl7().encode(), "f.hl7")
