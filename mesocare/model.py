"""The dataclasses every module speaks: an appointment request in, a handout out.

Nothing here reads a clock, a file or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import date as calendar_date  # for annotations beside a field named "date"
from datetime import time as clock_time
from typing import TYPE_CHECKING

# the vocabulary lives in mesocare.vocab; these names stay importable from here for renderers
from mesocare.banner import Banner
from mesocare.vocab import AREA_WORDS, AREAS, TECHNIQUE_WORDS, TECHNIQUES  # noqa: F401

if TYPE_CHECKING:
    from mesocare.lang import Language
    from mesocare.settings import EhrSettings, EmailSettings


def _default_language() -> Language:
    """en-GB, for a handout made without one (tests, examples)."""
    from mesocare.lang import get

    return get(None)


@dataclass(frozen=True)
class Clinic:
    """The clinic's settings (from its YAML config, or built-in defaults)."""

    name: str = "Your mesotherapy clinic"
    phone: str | None = None
    email: str | None = None  # the clinic's address (the calendar's ORGANIZER)
    timezone: str = "UTC"
    duration_minutes: int = 30
    paper: str = "A4"  # "A4" or "Letter"
    units: str = "metric"  # "metric" or "us"
    rules_dir: str | None = None  # the clinic's own rule folder (overlays ours)
    templates_dir: str | None = None  # the clinic's own templates (override ours)
    closed_weekdays: tuple[int, ...] = ()  # 0 = Monday ... 6 = Sunday
    holidays_country: str | None = None  # e.g. "GB", "US" (the `holidays` package)
    country: str | None = None  # ISO 3166-1 alpha-2: the emergency number on handouts
    holidays_subdiv: str | None = None
    services: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> {area, technique}
    reviewed_by: str | None = None  # the clinician who signed off the rules in force; None: not yet
    language: str = "en-GB"  # the clinic's language (BCP 47): handouts without one, cover sheets
    languages: tuple[str, ...] = ()  # every language the clinic hands out (rules check checks them)
    mail: EmailSettings | None = (
        None  # the mail server (config ``email:`` with a host); None: no sending
    )
    state_dir: str | None = None  # where the sent log lives (None: the user's data folder)
    mail_problem: str | None = None  # why the config's email addresses cannot be used (mail only)
    large_print: bool = False  # config `print: large` or --large-print: 18 pt body text
    reviews: tuple[tuple[str, str, str], ...] = ()  # (language tag, reviewed_by, ISO date)
    ehr: EhrSettings | None = None  # where `push` delivers (config ``ehr:``); None: nowhere

    @property
    def emergency_country(self) -> str | None:
        """The country whose emergency number the handouts print: ``country``, else the
        holidays country (both ISO 3166 codes)."""
        return self.country or self.holidays_country

    def review(self, tag: str) -> tuple[str, str] | None:
        """(reviewer, ISO date) of the clinician who reviewed the handout text in ``tag``."""
        return next(((by, on) for t, by, on in self.reviews if t == tag), None)

    def __post_init__(self):
        for name in ("name", "phone", "email", "reviewed_by"):
            value = getattr(self, name)
            if isinstance(value, str) and writable(value) is not value:
                object.__setattr__(self, name, writable(value))


@dataclass(frozen=True)
class Course:
    """A course of sessions. ``sessions`` lists the known session dates (first = this one)."""

    sessions: tuple[date, ...] = ()
    end: date | None = None  # the last session's date; None when unknown


@dataclass(frozen=True)
class Request:
    """What the desk (or a schedule row) asks for: one appointment of one patient."""

    date: date
    areas: tuple[str, ...]
    time: clock_time | None = None
    duration_minutes: int | None = None  # None: the clinic's default
    technique: str = "needle"
    prescribed: tuple[str, ...] = ()
    course: Course = field(default_factory=Course)
    name: str | None = None
    patient_id: str | None = None
    booked: calendar_date | None = None  # None: no booking date known, nothing is late
    appointment_id: str | None = None  # the booking system's id (keeps calendar entries stable)
    language: str | None = None  # the patient's language tag (BCP 47); None: the clinic's
    email: str | None = None  # the patient's email address, when the schedule gives one (private)

    def __post_init__(self):
        for name in ("name", "patient_id", "appointment_id", "language", "email"):
            value = getattr(self, name)
            if value is not None and writable(value) is not value:
                object.__setattr__(self, name, writable(value))
        if any(writable(p) is not p for p in self.prescribed):
            object.__setattr__(self, "prescribed", tuple(writable(p) for p in self.prescribed))


def writable(text: str) -> str:
    """``text`` as it can be written in any format: each lone surrogate (a byte that was not
    UTF-8 in a command-line argument, which Python escapes so; a ``\\udcff`` in a JSON file)
    becomes U+FFFD, the replacement character. The same object when there is none."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


@dataclass(frozen=True)
class Item:
    """One dated instruction on a handout."""

    rule: str  # the rule id (public interface)
    name: str  # a short noun phrase: "ginkgo biloba"
    phase: str  # before | day | after
    start: datetime  # aware, in the clinic's zone
    end: datetime | None  # aware; None when the course end is unknown or open-ended
    status: str  # upcoming | started | passed
    late: bool
    text: str  # patient-facing instruction
    when: str  # the dates in words: "From Friday 31 May 2024"
    reason: str
    source: str
    basis: str
    prescription: bool
    origin: str = "mesocare"  # "mesocare" or "clinic"
    resume: str | None = None  # what the patient may do again when the window ends (calendar)


@dataclass(frozen=True)
class Note:
    """An undated paragraph on the handout (what to expect, who should talk to us first...)."""

    id: str
    section: str  # one of vocab.NOTE_SECTIONS
    text: str
    source: str
    origin: str = "mesocare"


@dataclass(frozen=True)
class Handout:
    """Everything a renderer needs; renderers add no facts of their own."""

    clinic: Clinic
    patient_name: str | None
    patient_id: str | None
    start: datetime  # appointment start, aware (00:00 when untimed)
    end: datetime  # appointment end, aware (24:00 of the day when untimed)
    timed: bool
    areas: tuple[str, ...]
    technique: str
    prescribed: tuple[str, ...]
    course: Course
    items: tuple[Item, ...]
    notes: tuple[Note, ...]
    banners: tuple[str, ...]  # shown at the top: late booking, past appointment (one text each)
    warnings: tuple[str, ...]  # also printed on stderr; no patient details
    today: date
    booked: date | None
    rules_version: str  # sha256 hex of the effective rule set
    reviewed_on: date | None  # the latest review date in the rule set
    clinic_rules: tuple[str, ...] = ()  # ids of rules that came from the clinic's folder
    appointment_id: str | None = None  # the booking system's id, when known
    # the handout's language, decided once where it is built (mesocare.lang.handout_language)
    lang: Language = field(default_factory=_default_language)
    translation: str | None = None  # the translation record, in that language (None: English)
    banner_parts: tuple[Banner, ...] = ()  # the same banners, as a lead, a list and a closing
    emergency: str = ""  # whom to call for a severe reaction, in that language (every handout)
    emergency_numbers: tuple[str, ...] = ()  # the clinic's country's numbers (none known: empty)

    @property
    def language(self) -> str:
        """The handout's language tag (BCP 47), as JSON and mail headers write it."""
        return self.lang.tag

    @property
    def timezone(self) -> str:
        return self.clinic.timezone

    def phase(self, phase: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.phase == phase)

    def section(self, section: str) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.section == section)

    @property
    def past(self) -> bool:
        """The appointment's day is before today (its handout carries a warning)."""
        return self.start.date() < self.today

    @property
    def shown_banners(self) -> tuple[Banner, ...]:
        """The banners as lead, list and closing (a handout built with texts alone: each a lead)."""
        if len(self.banner_parts) == len(self.banners):
            return self.banner_parts
        return tuple(Banner(text) for text in self.banners)

    @property
    def late_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.late)


@dataclass(frozen=True)
class ScheduleRow:
    """One appointment read from a schedule (CSV, iCalendar, FHIR, HL7 v2)."""

    position: str  # where it was in the input, for messages: "row 4", "message 2", "entry 3"
    request: Request


@dataclass(frozen=True)
class RowProblem:
    """A schedule entry that was not turned into a handout, named in the batch summary.

    ``error`` is True for bad input (the batch exits 3); False for entries skipped on purpose
    (a cancelled appointment), which are reported but are not errors.
    Messages name the position and field, never the patient.
    """

    position: str
    field: str | None
    problem: str
    error: bool = True

    def __str__(self) -> str:
        what = f", {self.field}" if self.field else ""
        return f"{self.position}{what}: {self.problem}"


@dataclass(frozen=True)
class Schedule:
    """What a reader returns: the good rows and the problems, in input order."""

    rows: tuple[ScheduleRow, ...]
    problems: tuple[RowProblem, ...] = ()
    has_booking_dates: bool = False  # True when the input carries booking dates at all


@dataclass(frozen=True)
class Batch:
    """A day's (or a schedule's) handouts for printing together, with what the cover sheet says."""

    clinic: Clinic
    today: date
    day: date | None  # the --date filter, when one was given
    handouts: tuple[Handout, ...]  # sorted by appointment start
    booking_checked: bool  # False: the schedule had no booking dates, late bookings unchecked
    problems: tuple[RowProblem, ...] = ()  # rows skipped, each named
    positions: tuple[str, ...] = ()  # where each handout's row was in the schedule ("row 4")
    step_names: tuple[tuple[str, str], ...] = ()  # (rule id, name) in the cover sheet's language
    lang: Language = None  # type: ignore[assignment]  # the cover sheet's; None: the clinic's

    def __post_init__(self):
        if self.lang is None:
            from mesocare.lang import clinic_language

            object.__setattr__(self, "lang", clinic_language(self.clinic))

    @property
    def to_call(self) -> tuple[Handout, ...]:
        """Patients with late items: phone them before the appointment."""
        return tuple(h for h in self.handouts if h.late_items)

    @property
    def errors(self) -> tuple[RowProblem, ...]:
        return tuple(p for p in self.problems if p.error)
