"""CSV schedules, as typed by hand or saved by Excel (BOM, ';' separator, CRLF, Windows-1252).

Columns (header names are case-insensitive; spaces and '-' in them count as '_'):
required ``date`` (YYYY-MM-DD), ``time`` (HH:MM, a cell may be empty: untimed), ``area``
("face", "face+neck", "face, neck"); optional ``name``, ``patient_id``, ``booked_on``,
``technique``, ``prescribed``, ``duration`` (minutes), ``sessions``, ``every``, ``course_end``.
Row numbers are spreadsheet rows: the header is row 1.
"""

from __future__ import annotations

import csv
import io
import re

from mesocare.errors import InputError
from mesocare.model import Clinic, Request, RowProblem, Schedule, ScheduleRow
from mesocare.parse import (
    parse_areas,
    parse_date,
    parse_duration_minutes,
    parse_every,
    parse_prescribed,
    parse_sessions,
    parse_technique,
    parse_time,
)
from mesocare.readers.common import decode_text, problem
from mesocare.course import make_course

REQUIRED: tuple[str, ...] = ("date", "time", "area")
OPTIONAL: tuple[str, ...] = (
    "name",
    "patient_id",
    "appointment_id",
    "booked_on",
    "technique",
    "prescribed",
    "duration",
    "sessions",
    "every",
    "course_end",
)
_SECONDS = re.compile(r"^\s*(\d{1,2}:\d{2}):00\s*$")  # Excel writes 14:30:00


def _column_name(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def _delimiter(text: str) -> tuple[str, str]:
    """The separator and the text to read: Excel's "sep=;" first line (then dropped), else the
    most frequent of , ; and tab in the header line."""
    first, _, rest = text.lstrip("\r\n").partition("\n")
    hint = re.fullmatch(r"sep=(.)", first.rstrip("\r"))
    if hint:
        return hint.group(1), rest
    return max((",", ";", "\t"), key=first.count), text


def _header(cells: list[str]) -> tuple[dict[str, int], list[RowProblem]]:
    columns: dict[str, int] = {}
    problems: list[RowProblem] = []
    for index, cell in enumerate(cells):
        name = _column_name(cell)
        if not name:
            continue
        if name not in REQUIRED + OPTIONAL:
            problems.append(RowProblem("header", cell.strip(), "unknown column, ignored", error=False))
        elif name in columns:
            problems.append(RowProblem("header", name, "repeated column, only the first is read", error=False))
        else:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(columns) or "none"
        raise InputError(
            f"the schedule has no '{missing[0]}' column: it needs {', '.join(REQUIRED)} (known columns found: {found})."
        )
    return columns, problems


def _row(cells: dict[str, str], position: str, clinic: Clinic) -> tuple[Request | None, list[RowProblem]]:
    secrets = (cells.get("name"), cells.get("patient_id"))
    problems: list[RowProblem] = []
    values: dict[str, object] = {}

    def read(field: str, parser) -> None:
        text = cells.get(field, "")
        if not text:
            return
        try:
            values[field] = parser(text)
        except InputError as err:
            problems.append(problem(position, field, str(err), secrets))

    if not cells.get("date"):
        problems.append(RowProblem(position, "date", "date is empty: write it as YYYY-MM-DD."))
    read("date", lambda t: parse_date(t, "date"))
    read("time", lambda t: parse_time(_SECONDS.sub(r"\1", t), "time"))
    if not cells.get("area"):
        problems.append(RowProblem(position, "area", "area is empty: name at least one area."))
    read("area", lambda t: parse_areas([t], "area"))
    read("technique", lambda t: parse_technique(t, "technique"))
    read("prescribed", lambda t: parse_prescribed([t], "prescribed"))
    read("duration", lambda t: parse_duration_minutes(t, "duration"))
    read("sessions", lambda t: parse_sessions(t, "sessions"))
    read("every", lambda t: parse_every(t, "every"))
    read("course_end", lambda t: parse_date(t, "course_end"))
    read("booked_on", lambda t: parse_date(t, "booked_on"))
    if problems:
        return None, problems
    try:
        course = make_course(
            values["date"], values.get("sessions"), values.get("every"), values.get("course_end"), clinic
        )
    except InputError as err:
        field = "course_end" if "course_end" in values else "sessions"
        return None, [problem(position, field, str(err), secrets)]
    request = Request(
        date=values["date"],
        time=values.get("time"),
        duration_minutes=values.get("duration"),
        areas=values["area"],
        technique=values.get("technique", "needle"),
        prescribed=values.get("prescribed", ()),
        course=course,
        name=cells.get("name") or None,
        patient_id=cells.get("patient_id") or None,
        appointment_id=cells.get("appointment_id") or None,
        booked=values.get("booked_on"),
    )
    return request, []


def read_csv(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    delimiter, text = _delimiter(decode_text(data, "CSV"))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise InputError(f"the CSV file cannot be read: {err}.") from None
    numbered = [(n, cells) for n, cells in enumerate(records, start=1) if any(c.strip() for c in cells)]
    if not numbered:
        raise InputError("the CSV file is empty: it needs a header row with date, time and area.")
    (_, header), body = numbered[0], numbered[1:]
    columns, problems = _header(header)
    rows: list[ScheduleRow] = []
    booking_dates = False
    for number, record in body:
        cells = {name: record[i].strip() if i < len(record) else "" for name, i in columns.items()}
        booking_dates = booking_dates or bool(cells.get("booked_on"))
        request, row_problems = _row(cells, f"row {number}", clinic)
        problems.extend(row_problems)
        if request is not None:
            rows.append(ScheduleRow(position=f"row {number}", request=request))
    return Schedule(rows=tuple(rows), problems=tuple(problems), has_booking_dates=booking_dates)
