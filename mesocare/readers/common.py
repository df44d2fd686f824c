"""Helpers shared by the schedule readers: text decoding, time zones, safe problem messages."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from mesocare.errors import InputError
from mesocare.model import Clinic, RowProblem
from mesocare.parse import parse_duration_minutes, parse_zone
from mesocare.vocab import FIRST_DAY, LAST_DAY


def decode_text(data: bytes, what: str) -> str:
    """Text from bytes: UTF-16 with a BOM, else UTF-8 (a BOM dropped), else Windows-1252, else
    Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(
                f"the {what} file starts like UTF-16 text but cannot be decoded."
            ) from None
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
    """``text`` with any patient name or identifier (and each word of a name) removed. Words
    of mesocare's own vocabulary (areas, techniques) stay: a shifted row can put "face" in the
    name column, and the message that lists the areas must still read."""
    from mesocare.model import AREAS, TECHNIQUES

    words: set[str] = set()
    for secret in secrets:
        if secret and len(secret.strip()) >= 2:
            words.add(secret.strip())
            words.update(w for w in re.split(r"[\s,^&]+", secret) if len(w) >= 3)
    words -= {w for w in words if w.casefold() in AREAS + TECHNIQUES}
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "[patient]", text, flags=re.IGNORECASE)
    return text


def problem(
    position: str,
    field: str | None,
    message: str,
    secrets: tuple[str | None, ...] = (),
    error: bool = True,
) -> RowProblem:
    """A RowProblem whose message cannot name the patient."""
    return RowProblem(position, field, redact(message, secrets), error=error)


# --------------------------------------------------------------------------- limits
# The limits of what a schedule may hold (documented in docs/batch.md, "Schedule files").

MAX_FILE_MB = 64  # FHIR, iCalendar and HL7 files are read whole: this many megabytes at most
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_ROWS = 200_000  # appointments (rows, events, entries, messages) in one schedule
MAX_CELL_CHARS = 10_000  # one CSV cell, one HL7 segment's field (a longer one is an error)
MAX_JSON_DEPTH = 40  # nesting of arrays and objects in a FHIR file
FIRST_YEAR, LAST_YEAR = FIRST_DAY.year, LAST_DAY.year  # the supported date range (vocab)


def too_big(what: str) -> InputError:
    return InputError(
        f"the {what} file is larger than {MAX_FILE_MB} MB, the most mesocare reads at once: "
        "split it into smaller files."
    )


def too_many_rows() -> InputError:
    return InputError(
        f"the schedule has more than {MAX_ROWS:,} appointments, the most one batch reads: split it."
    )


def check_date(value: date, field: str) -> date:
    """``value`` when it is in the years a schedule may use; else InputError naming ``field``."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InputError(
            f"{field} is in the year {value.year}: mesocare reads dates from {FIRST_YEAR} to "
            f"{LAST_YEAR}."
        )
    return value


def check_request(request) -> None:
    """InputError when a request's dates (appointment, booking, course) leave the years a
    schedule may use, or its time zone arithmetic would: read before a handout is built."""
    check_date(request.date, "the appointment date")
    if request.booked is not None:
        check_date(request.booked, "the booking date")
    for session in request.course.sessions:
        check_date(session, "a session of the course")
    if request.course.end is not None:
        check_date(request.course.end, "the course end")


# --------------------------------------------------------------------------- safe messages

_SHOWABLE = re.compile(r"^[0-9][0-9 :./+T-]{0,24}[A-Za-z]{0,2}$")  # 25:00, 2024-02-30, 3000000d
# Greedy and across line ends: a value may hold a quote (O'Brien) or a line end (a CSV quote
# left open), and hiding too much of a message is safe where hiding too little is not.
_QUOTED = re.compile(r"'(.{0,400})'", re.DOTALL)


_ZONE_LIKE = re.compile(r"^[A-Za-z][A-Za-z_-]*(/[A-Za-z0-9_+-]+)+$")  # Mars/Olympus


def showable(value: str) -> bool:
    """True when a cell's value may be quoted in a message: short and made of digits (a date,
    time or number) or shaped like a zone name (Area/City), so it cannot be a name or an email
    address whatever column it came from."""
    value = value.strip()
    return len(value) <= 40 and bool(_SHOWABLE.match(value) or _ZONE_LIKE.match(value))


def hide_values(message: str) -> str:
    """``message`` with every quoted value that is not showable taken out ("time 'Zelda' is not
    a time" -> "the time cell is not a time")."""

    def one(match: re.Match) -> str:
        return match.group(0) if showable(match.group(1)) else "\0"

    hidden = _QUOTED.sub(one, message)
    hidden = re.sub(r"^([\w-]+(?: [\w-]+)?) \0", r"the \1 value", hidden)
    return hidden.replace(" \0", "").replace("\0", "a value")


class CodeError(InputError):
    """A row's problem that quotes a service code on purpose (only code-like text is quoted:
    see services.unknown_service); its message is not hidden like a cell's value."""


def row_failure(err: BaseException) -> str:
    """The sentence for an exception raised while one row was read: ours as it is (values that
    could be a name hidden); any other (a value out of range, a library's own error) in our
    words, without its text, which may quote the row."""
    if isinstance(err, CodeError):
        return str(err)
    if isinstance(err, InputError):
        return hide_values(str(err))
    if isinstance(err, (OverflowError, ArithmeticError)):
        return (
            "a value is out of the range mesocare can compute with (a date or number far too "
            "large)."
        )
    if isinstance(err, RecursionError):
        return "the entry is nested too deeply to read."
    return "a value cannot be read: it is malformed or out of range."


# --------------------------------------------------------------------------- language, email


def language_tag(text: str | None) -> str | None:
    """A patient's language as a BCP 47 tag, read by the language layer's one tag parser
    (HL7/ISO 639-2 "fre" -> "fr", "en_gb" -> "en-GB", "fr-Latn-FR" -> "fr-FR"); None for an
    empty value. A value that is no tag, or a language mesocare does not write, is the row's
    LanguageError (an InputError: the row's message names the field, not the value)."""
    if text is None or not str(text).strip():
        return None
    from mesocare.lang.tags import short_tag

    return short_tag(str(text), "the language")


def email_address(text: str | None) -> str | None:
    """A patient's email address ("mailto:" dropped, spaces stripped); None for an empty value.
    Not checked here: a bad address is the mail layer's to report (never quoting it)."""
    if text is None:
        return None
    value = str(text).strip()
    if value[:7].lower() == "mailto:":
        value = value[7:].strip()
    return value or None
