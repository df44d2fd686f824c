"""Schedule readers: CSV, iCalendar, FHIR R4 Appointment and HL7 v2 SIU files -> a Schedule.

A file that cannot be read at all raises InputError (one sentence, naming the file). A bad
entry never raises: whatever goes wrong in it (a bad value, a date out of range, a library's
own error) becomes a RowProblem (position, field, problem) and the rest is read. Messages
never quote a value that could be a patient's name or address.

``read_schedule`` returns the whole Schedule; ``stream_schedule`` yields the rows and problems
one by one (CSV is then read row by row, in bounded memory, whatever its size). Both take the
file's bytes or an open binary file. The readers load their parsing libraries only when called,
to keep the CLI quick to start.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import BinaryIO

from mesocare.errors import InputError
from mesocare.model import Clinic, RowProblem, Schedule, ScheduleRow
from mesocare.readers.common import MAX_FILE_BYTES, too_big

FORMATS: tuple[str, ...] = ("csv", "ics", "fhir", "hl7")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".ics": "ics",
    ".ical": "ics",
    ".ifb": "ics",
    ".json": "fhir",
    ".ndjson": "fhir",
    ".jsonl": "fhir",
    ".hl7": "hl7",
    ".er7": "hl7",
}
_HEAD = 64 * 1024  # what format sniffing looks at


def _content_format(data: bytes) -> str | None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"\x0b", b"MSH|", b"FHS|", b"BHS|")):
        return "hl7"
    if head[:15].upper() == b"BEGIN:VCALENDAR":
        return "ics"
    if head[:1] in (b"{", b"[") and b'"resourceType"' in data:
        return "fhir"
    return None


def _looks_like_csv(data: bytes) -> bool:
    first = data.lstrip(b"\xef\xbb\xbf\r\n").split(b"\n", 1)[0]
    return any(sep in first for sep in (b",", b";", b"\t"))


def sniff_format(data: bytes, filename: str | None) -> str:
    """The schedule format of a file: "csv", "ics", "fhir" or "hl7" (extension first, then
    content). ``data`` may be only the file's first kilobytes."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(
            "the schedule is a spreadsheet workbook, not a CSV file: save it as CSV first."
        )
    ext = os.path.splitext(filename)[1].lower() if filename else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if ext == ".txt":
        return "hl7" if _content_format(data) == "hl7" else "csv"
    found = _content_format(data)
    if found:
        return found
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_csv(data):
        return "csv"
    if not data.strip():
        raise InputError("the schedule file is empty.")
    raise InputError(
        "the schedule's format cannot be recognised: use CSV, iCalendar (.ics), "
        "FHIR JSON or HL7 v2."
    )


class ScheduleStream:
    """A schedule read lazily: iterate for its ScheduleRows and RowProblems, in input order.

    ``has_booking_dates`` is final once the iteration has ended. A file-level failure met on
    the way (the file is cut short, too many rows) raises InputError naming the file.
    """

    def __init__(
        self, source: bytes | BinaryIO, clinic: Clinic, fmt: str | None, filename: str | None
    ):
        self.has_booking_dates = False
        self._name = os.path.basename(filename) if filename else None
        self._items = self._guard(self._open(source, clinic, fmt, filename))

    def __iter__(self) -> Iterator[ScheduleRow | RowProblem]:
        return self._items

    def _fail(self, err: BaseException) -> InputError:
        if isinstance(err, InputError):
            message = str(err)
        elif isinstance(err, RecursionError):
            message = "the schedule is nested too deeply to read."
        elif isinstance(err, MemoryError):
            message = "the schedule is too large to read in this machine's memory: split it."
        else:
            message = "the schedule cannot be read: the file is malformed."
        return InputError(f"{self._name}: {message}" if self._name else message)

    def _guard(self, items: Iterator) -> Iterator[ScheduleRow | RowProblem]:
        try:
            yield from items
        except InputError as err:
            raise self._fail(err) from None
        except Exception as err:  # noqa: BLE001 - any library failure on a hostile file is our input error
            raise self._fail(err) from None

    def _open(
        self, source: bytes | BinaryIO, clinic: Clinic, fmt: str | None, filename: str | None
    ):
        stream: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        # a format given needs no sniffing: nothing is read ahead (a pipe still being written
        # gives its first rows at once)
        head = b"" if fmt else _peek(stream)
        kind = fmt.strip().lower() if fmt else sniff_format(head, filename)
        if kind not in FORMATS:
            raise InputError(
                f"schedule format '{fmt}' is not known: use one of {', '.join(FORMATS)}."
            )
        if kind == "csv":
            from mesocare.readers.csv_reader import stream_csv

            yield from stream_csv(_Rejoined(head, stream), clinic, self)
            return
        data = head + stream.read(MAX_FILE_BYTES + 1 - len(head))
        if len(data) > MAX_FILE_BYTES:
            raise too_big({"ics": "iCalendar", "fhir": "FHIR", "hl7": "HL7"}[kind])
        if kind == "ics":
            from mesocare.readers.ics_reader import read_ics as read
        elif kind == "fhir":
            from mesocare.readers.fhir_reader import read_fhir as read
        else:
            from mesocare.readers.hl7_reader import read_hl7 as read
        schedule = read(data, clinic, filename)
        self.has_booking_dates = schedule.has_booking_dates
        # a Schedule keeps rows and problems apart: the order between the two does not matter
        yield from schedule.problems
        yield from schedule.rows


def _peek(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < _HEAD:
        chunk = stream.read(_HEAD - len(head))
        if not chunk:
            break
        head += chunk
    return head


class _Rejoined(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        # read1: what the stream has now (at least a byte), not a full buffer: rows coming
        # down a pipe are read as they come
        read = getattr(self._rest, "read1", self._rest.read)
        chunk = read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def stream_schedule(
    source: bytes | BinaryIO, clinic: Clinic, fmt: str | None = None, filename: str | None = None
) -> ScheduleStream:
    """A schedule's rows and problems, read as they are iterated (``fmt`` overrides the
    detected format). Raises InputError (naming the file) while iterating if the file fails."""
    return ScheduleStream(source, clinic, fmt, filename)


def read_schedule(
    source: bytes | BinaryIO, clinic: Clinic, fmt: str | None = None, filename: str | None = None
) -> Schedule:
    """Read a schedule file of any supported format. ``fmt`` overrides the detected format."""
    stream = stream_schedule(source, clinic, fmt, filename)
    rows: list[ScheduleRow] = []
    problems: list[RowProblem] = []
    for item in stream:
        if isinstance(item, ScheduleRow):
            rows.append(item)
        else:
            problems.append(item)
    return Schedule(
        rows=tuple(rows), problems=tuple(problems), has_booking_dates=stream.has_booking_dates
    )
