"""CSV schedules, as typed by hand or saved by Excel (BOM, ';' separator, CRLF, Windows-1252).

Columns (header names are case-insensitive; spaces and '-' in them count as '_'):
required ``date`` (YYYY-MM-DD), ``time`` (HH:MM, a cell may be empty: untimed), ``area``
("face", "face+neck", "face, neck"); optional ``name``, ``patient_id``, ``appointment_id``,
``booked_on``, ``technique``, ``prescribed``, ``duration`` (minutes), ``sessions``, ``every``,
``course_end``, ``language`` (a language tag: fr, es, en-GB; ISO 639-2 fre/spa too) and
``email``. An empty cell means "not given".
Row numbers are spreadsheet rows: the header is row 1.

The file is read as a stream, row by row, so memory does not grow with its size. Each line is
decoded on its own (UTF-8, else Windows-1252); a file with a UTF-16 byte-order mark is read as
UTF-16. A row whose cell count differs from the header's, or whose cell runs over several
lines (a quote opened and not closed), is an error for that row. Messages quote a cell's value
only when it is made of digits (a date, time or number): any other cell could hold a name.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from mesocare.course import make_course
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
from mesocare.readers.common import (
    LAST_YEAR,
    MAX_CELL_CHARS,
    MAX_ROWS,
    check_date,
    check_request,
    email_address,
    language_tag,
    problem,
    row_failure,
    showable,
    too_many_rows,
)

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
    "language",
    "email",
)
_SECONDS = re.compile(r"^\s*(\d{1,2}:\d{2}):00\s*$")  # Excel writes 14:30:00
_MAX_LINE = 1024 * 1024  # bytes in one line of the file
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")  # old Mac line ends


def _column_name(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def _header(cells: list[str]) -> tuple[dict[str, int], list[RowProblem]]:
    columns: dict[str, int] = {}
    problems: list[RowProblem] = []
    for index, cell in enumerate(cells):
        name = _column_name(cell)
        if not name:
            continue
        if name not in REQUIRED + OPTIONAL:
            shown = cell.strip() if re.fullmatch(r"[\w .-]{1,40}", cell.strip()) else None
            problems.append(RowProblem("header", shown, "unknown column, ignored", error=False))
        elif name in columns:
            problems.append(
                RowProblem("header", name, "repeated column, only the first is read", error=False)
            )
        else:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(columns) or "none"
        raise InputError(
            f"the schedule has no '{missing[0]}' column: it needs {', '.join(REQUIRED)} (known "
            f"columns found: {found})."
        )
    return columns, problems


def _row(
    cells: dict[str, str], position: str, clinic: Clinic
) -> tuple[Request | None, list[RowProblem]]:
    secrets = (cells.get("name"), cells.get("patient_id"), cells.get("email"))
    problems: list[RowProblem] = []
    values: dict[str, Any] = {}

    def read(field: str, parser) -> None:
        text = cells.get(field, "")
        if not text:
            return
        try:
            values[field] = parser(text)
        except Exception as err:  # noqa: BLE001 - any failure of one cell is that row's problem
            # the failing cell itself may hold a name (columns shifted by a stray quote or comma)
            hidden = secrets if showable(text) else (*secrets, text)
            problems.append(problem(position, field, row_failure(err), hidden))

    if not cells.get("date"):
        problems.append(RowProblem(position, "date", "date is empty: write it as YYYY-MM-DD."))
    read("date", lambda t: check_date(parse_date(t, "date"), "date"))
    read("time", lambda t: parse_time(_SECONDS.sub(r"\1", t), "time"))
    if not cells.get("area"):
        problems.append(RowProblem(position, "area", "area is empty: name at least one area."))
    read("area", lambda t: parse_areas([t], "area"))
    read("technique", lambda t: parse_technique(t, "technique"))
    read("prescribed", lambda t: parse_prescribed([t], "prescribed"))
    read("duration", lambda t: parse_duration_minutes(t, "duration"))
    read("sessions", lambda t: parse_sessions(t, "sessions"))
    read("every", lambda t: parse_every(t, "every"))
    read("course_end", lambda t: check_date(parse_date(t, "course_end"), "course_end"))
    read("booked_on", lambda t: check_date(parse_date(t, "booked_on"), "booked_on"))
    read("language", language_tag)
    if problems:
        return None, problems
    field = "course_end" if "course_end" in values else "sessions"
    try:
        course = make_course(
            values["date"],
            values.get("sessions"),
            values.get("every"),
            values.get("course_end"),
            clinic,
        )
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
            language=values.get("language"),
            email=email_address(cells.get("email")),
        )
        check_request(request)
    except (OverflowError, ArithmeticError, ValueError):  # dates past datetime's year 9999
        field = "every" if "every" in values else field
        return None, [
            RowProblem(
                position,
                field,
                f"the course's sessions go past the year {LAST_YEAR}: check sessions and every.",
            )
        ]
    except Exception as err:  # noqa: BLE001
        return None, [problem(position, field, row_failure(err), secrets)]
    return request, []


def _lines(stream: io.RawIOBase | io.BufferedIOBase) -> Iterator[str]:
    """The file's lines as text (line ends kept), decoded one by one."""
    buffered = (
        io.BufferedReader(stream, 1 << 16) if not isinstance(stream, io.BufferedReader) else stream
    )
    head = buffered.peek(4)[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = io.TextIOWrapper(buffered, encoding="utf-16", newline="")
        try:
            while line := text.readline(_MAX_LINE):
                yield line
        except UnicodeError:
            raise InputError(
                "the CSV file starts like UTF-16 text but cannot be decoded."
            ) from None
        return
    if head.startswith(codecs.BOM_UTF8):
        buffered.read(3)
    number = 0
    while raw := buffered.readline(_MAX_LINE):
        number += 1
        if len(raw) >= _MAX_LINE and not raw.endswith(b"\n"):
            raise InputError(
                f"line {number} is longer than 1 MB: this is not a schedule a booking system "
                "writes."
            )
        if b"\x00" in raw and number == 1:
            raise InputError("the CSV file is not a text file: save it as UTF-8 text.")
        for part in _LONE_CR.split(raw) if b"\r" in raw[:-2] else (raw,):
            try:
                yield part.decode("utf-8")
            except UnicodeDecodeError:
                yield part.decode("cp1252", errors="replace")


def _records(lines: Iterator[str]) -> tuple[str, Iterator[tuple[list[str], int]]]:
    """The separator, and (cells, the line where the record ends) for each record. The
    separator is Excel's "sep=;" first line (then dropped), else the most frequent of , ; and
    tab in the first line that is not blank."""
    skipped: list[str] = []
    for first in lines:
        if first.strip():
            break
        skipped.append(first)
    else:
        return ",", iter(())
    hint = re.fullmatch(r"sep=(.)", first.rstrip("\r\n"))
    delimiter = hint.group(1) if hint else max((",", ";", "\t"), key=first.count)

    def chained() -> Iterator[str]:
        yield from skipped
        if not hint:
            yield first
        yield from lines

    def records() -> Iterator[tuple[list[str], int]]:
        reader = csv.reader(chained(), delimiter=delimiter)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                raise _Runaway(reader.line_num) from None
            yield cells, reader.line_num + (1 if hint else 0)

    return delimiter, records()


class _Runaway(Exception):
    """The CSV parser gave up (a quoted cell longer than its limit: a quote never closed)."""

    def __init__(self, line: int):
        self.line = line


def stream_csv(
    stream: io.RawIOBase | io.BufferedIOBase, clinic: Clinic, found
) -> Iterator[ScheduleRow | RowProblem]:
    """The rows of a CSV file, one by one; ``found.has_booking_dates`` is set on the way."""
    delimiter, records = _records(_lines(stream))
    number = 0
    header: list[str] | None = None
    columns: dict[str, int] = {}
    width = 0
    rows = 0
    try:
        for cells, line in records:
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                columns, header_problems = _header(header)
                yield from header_problems
                width = len(header)
                while width and not header[width - 1].strip():
                    width -= 1
                continue
            position = f"row {number}"
            broken = _shape(cells, width, len(header), line, delimiter)
            if broken:
                yield RowProblem(position, None, broken)
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise too_many_rows()
            values = {
                name: cells[i].strip() if i < len(cells) else "" for name, i in columns.items()
            }
            found.has_booking_dates = found.has_booking_dates or bool(values.get("booked_on"))
            request, row_problems = _row(values, position, clinic)
            yield from row_problems
            if request is not None:
                yield ScheduleRow(position=position, request=request)
    except _Runaway as runaway:
        yield RowProblem(
            f"row {number + 1}",
            None,
            'a quote (") opened in this row is never closed, '
            f"so the file could not be read past line {runaway.line}: "
            "close the quote or take it out.",
        )
        return
    if header is None:
        raise InputError("the CSV file is empty: it needs a header row with date, time and area.")


def _shape(
    cells: list[str], width: int, header_length: int, line: int, delimiter: str
) -> str | None:
    """Why a record cannot be a row (its cells do not line up with the header), or None. A cell
    over several lines (Alt+Enter in Excel) is fine unless its later lines hold the separator:
    then they are rows swallowed by a quote that was never closed. A row may stop short of
    the header's own trailing empty cells, never have more cells than the header: an unquoted
    separator shifts the cells after it, and the shifted row must not be read."""
    for cell in cells:
        if "\n" in cell and delimiter in cell.split("\n", 1)[1]:
            return (
                f"a cell runs over several lines, up to line {line}: "
                'a quote (") is not closed where it should be, '
                "so the rows after it were read into this one and are not used. Close the quote."
            )
        if len(cell) > MAX_CELL_CHARS:
            return f"a cell is longer than {MAX_CELL_CHARS:,} characters."
    if len(cells) < width or len(cells) > header_length:
        return (
            f"the row has {len(cells)} cells but the header has {width}: "
            "a cell that holds the separator (a comma in a name) needs quotes around it."
        )
    return None


def read_csv(data: bytes, clinic: Clinic, filename: str | None = None) -> Schedule:
    """A whole CSV file's Schedule (``stream_csv`` reads one row at a time)."""

    class Found:
        has_booking_dates = False

    found = Found()
    rows: list[ScheduleRow] = []
    problems: list[RowProblem] = []
    for item in stream_csv(io.BytesIO(data), clinic, found):
        if isinstance(item, ScheduleRow):
            rows.append(item)
        else:
            problems.append(item)
    return Schedule(
        rows=tuple(rows), problems=tuple(problems), has_booking_dates=found.has_booking_dates
    )
