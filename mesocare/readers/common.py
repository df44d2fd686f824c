"""Helpers shared by the schedule readers: text decoding, time zones, safe problem messages."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from mesocare.errors import InputError
from mesocare.model import Clinic, RowProblem
from mesocare.parse import parse_duration_minutes, parse_zone


def decode_text(data: bytes, what: str) -> str:
    """Text from bytes: UTF-16 with a BOM, else UTF-8 (a BOM dropped), else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"the {what} file starts like UTF-16 text but cannot be decoded.") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        raise InputError(f"the {what} file is not a text file: save it as UTF-8 text.")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # decodes any byte


def clinic_zone(clinic: Clinic) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(parse_zone(clinic.timezone))


def to_local(moment: datetime, zone: tzinfo) -> datetime:
    """A timestamp in the clinic's zone: one without a zone is taken to be in it already."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def local_date(value: date | datetime, zone: tzinfo) -> date:
    """The calendar date of a date or timestamp, in the clinic's zone."""
    if isinstance(value, datetime):
        return to_local(value, zone).date()
    return value


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end (elapsed time when both carry a zone)."""
    return round((end - start).total_seconds() / 60)


def end_minutes(start: datetime, end: datetime, field: str) -> int | None:
    """The duration from a start and an end (``field`` names the end); None when they are equal."""
    minutes = minutes_between(start, end)
    if minutes < 0:
        raise InputError(f"{field} is before the start.")
    return parse_duration_minutes(minutes, field) if minutes else None


def redact(text: str, secrets: tuple[str | None, ...]) -> str:
    """``text`` with any patient name or identifier (and each word of a name) removed."""
    words: set[str] = set()
    for secret in secrets:
        if secret and len(secret.strip()) >= 2:
            words.add(secret.strip())
            words.update(w for w in re.split(r"[\s,^&]+", secret) if len(w) >= 3)
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "[patient]", text, flags=re.IGNORECASE)
    return text


def problem(position: str, field: str | None, message: str, secrets: tuple[str | None, ...] = (), error: bool = True) -> RowProblem:
    """A RowProblem whose message cannot name the patient."""
    return RowProblem(position, field, redact(message, secrets), error=error)
