"""Parsing of the values a user types or a schedule carries. Each raises InputError with a
sentence that names the field and the value's problem (never the patient)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from mesocare.dates import check_day, zone
from mesocare.errors import InputError
from mesocare.vocab import (
    AREAS,
    EVERY_MAX_DAYS,
    EVERY_UNITS,
    PAPER_SIZES,
    PRESCRIPTIONS,
    TECHNIQUES,
    Duration,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _short(value) -> str:
    """A typed value as a message quotes it: at most 40 characters (a 5,000-digit value is not
    a 5,000-character message)."""
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "..."


def parse_date(value: str, field: str = "date", today: date | None = None) -> date:
    """An ISO date (2024-06-10) in the supported range; with ``today`` given, also ``today``
    and ``tomorrow``."""
    text = value.strip()
    low = text.lower()
    if today is not None and low == "today":
        return check_day(today, field)
    if today is not None and low == "tomorrow":
        return check_day(check_day(today, field) + timedelta(days=1), field)
    if not _DATE.match(text):
        raise InputError(
            f"{field} '{_short(value)}' is not a date: write it as YYYY-MM-DD, "
            "for example 2024-06-10."
        )
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{field} '{_short(value)}' is not a real calendar date.") from None
    return check_day(day, field)


def parse_time(value: str, field: str = "time") -> time:
    """A 24-hour clock time, HH:MM."""
    m = _TIME.match(value.strip())
    if not m:
        raise InputError(
            f"{field} '{_short(value)}' is not a time: write it as HH:MM on the 24-hour clock, "
            "for example 14:30."
        )
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise InputError(
            f"{field} '{_short(value)}' is not a real time: "
            "hours go from 00 to 23 and minutes from 00 to 59."
        )
    return time(hour, minute)


def parse_area(value: str, field: str = "area") -> str:
    area = value.strip().lower()
    if area not in AREAS:
        raise InputError(
            f"{field} '{_short(value)}' is not a known area: use one of {', '.join(AREAS)}."
        )
    return area


def parse_areas(values: list[str] | tuple[str, ...], field: str = "area") -> tuple[str, ...]:
    """One or more areas, in the order given, without repeats. Accepts "face,neck" and
    "face+neck" too; an empty part ("face+", "face,,neck") is an error."""
    out: list[str] = []
    for value in values:
        parts = re.split(r"[,;+]", value)
        if len(parts) > 1 and any(not p.strip() for p in parts):
            raise InputError(
                f"{field} '{_short(value)}' has an empty part: "
                "join areas like face+neck, with nothing left over."
            )
        for part in parts:
            if part.strip():
                area = parse_area(part, field)
                if area not in out:
                    out.append(area)
    if not out:
        raise InputError(f"{field} is missing: name at least one area ({', '.join(AREAS)}).")
    return tuple(out)


def parse_technique(value: str | None, field: str = "technique") -> str:
    if value is None or not value.strip():
        return "needle"
    tech = value.strip().lower()
    if tech not in TECHNIQUES:
        raise InputError(
            f"{field} '{_short(value)}' is not a known technique: "
            f"use one of {', '.join(TECHNIQUES)}."
        )
    return tech


def parse_prescribed(
    values: list[str] | tuple[str, ...], field: str = "prescribed"
) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for part in re.split(r"[,;]", value):
            name = part.strip().lower()
            if not name:
                continue
            if name not in PRESCRIPTIONS:
                raise InputError(
                    f"{field} '{_short(part.strip())}' is not a medicine mesocare knows: "
                    f"use {' or '.join(PRESCRIPTIONS)}."
                )
            if name not in out:
                out.append(name)
    return tuple(out)


def parse_paper(value: str, field: str = "paper") -> str:
    """A paper size, any case: "A4" or "Letter" (vocab.PAPER_SIZES)."""
    wanted = {size.lower(): size for size in PAPER_SIZES}.get(value.strip().lower())
    if wanted is None:
        raise InputError(f"{field} '{value[:40]}' is not known: use {' or '.join(PAPER_SIZES)}.")
    return wanted


def parse_duration_minutes(value: str | int, field: str = "duration") -> int:
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise InputError(f"{field} '{_short(value)}' is not a whole number of minutes.") from None
    if not 1 <= minutes <= 24 * 60:
        raise InputError(f"{field} '{_short(value)}' must be between 1 and 1440 minutes.")
    return minutes


def parse_every(value: str, field: str = "every") -> Duration:
    """A session interval: 14d, 4w or 1m (calendar months), at most a year. A Duration,
    which unpacks as (count, unit)."""
    try:
        return Duration.parse(value.lower(), EVERY_UNITS, EVERY_MAX_DAYS, allow_zero=False)
    except ValueError as e:
        if "too long" in str(e):
            raise InputError(
                f"{field} '{_short(value)}' is too long: sessions can be at most a year apart "
                "(52w or 12m)."
            ) from None
        raise InputError(
            f"{field} '{_short(value)}' is not an interval: "
            "write a number and d, w or m, for example 4w or 1m."
        ) from None


def parse_sessions(value: str | int, field: str = "sessions") -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise InputError(f"{field} '{_short(value)}' is not a whole number.") from None
    if not 1 <= n <= 60:
        raise InputError(f"{field} '{_short(value)}' must be between 1 and 60.")
    return n


def parse_zone(value: str, field: str = "timezone") -> str:
    """An IANA zone name such as Europe/London; checked against the zone database."""
    name = value.strip()
    zone(name, field)  # InputError with one sentence when it is not a zone
    return name
