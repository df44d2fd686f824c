"""Schedule readers: CSV, iCalendar, FHIR R4 Appointment and HL7 v2 SIU files -> a Schedule.

A file that cannot be read at all raises InputError (one sentence, naming the file). A bad
entry never raises: it becomes a RowProblem (position, field, problem) and the rest is read.
The readers load their parsing libraries only when called, to keep the CLI quick to start.
"""

from __future__ import annotations

import os

from mesocare.errors import InputError
from mesocare.model import Clinic, Schedule

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


def _content_format(data: bytes) -> str | None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"\x0b") or head.startswith((b"MSH|", b"FHS|", b"BHS|")):
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
    """The schedule format of a file: "csv", "ics", "fhir" or "hl7" (extension first, then content)."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError("the schedule is a spreadsheet workbook, not a CSV file: save it as CSV first.")
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
    raise InputError("the schedule's format cannot be recognised: use CSV, iCalendar (.ics), FHIR JSON or HL7 v2.")


def read_schedule(data: bytes, clinic: Clinic, fmt: str | None = None, filename: str | None = None) -> Schedule:
    """Read a schedule file of any supported format. ``fmt`` overrides the detected format."""
    try:
        kind = fmt.strip().lower() if fmt else sniff_format(data, filename)
        if kind not in FORMATS:
            raise InputError(f"schedule format '{fmt}' is not known: use one of {', '.join(FORMATS)}.")
        if kind == "csv":
            from mesocare.readers.csv_reader import read_csv as read
        elif kind == "ics":
            from mesocare.readers.ics_reader import read_ics as read
        elif kind == "fhir":
            from mesocare.readers.fhir_reader import read_fhir as read
        else:
            from mesocare.readers.hl7_reader import read_hl7 as read
        return read(data, clinic, filename)
    except InputError as err:
        if filename:
            raise InputError(f"{os.path.basename(filename)}: {err}") from None
        raise
