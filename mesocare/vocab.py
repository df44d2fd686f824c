"""The words mesocare knows, each defined once: areas, techniques, phases, note sections,
prescriptions, weekdays, paper sizes, units, the supported date range, and durations.

The rule-file and clinic-config schemas take their ``Literal`` types from here; the tuples
(``AREAS``...) are the same words for code that lists or checks them. Nothing here reads a
file, a clock or the environment, and nothing heavy is imported.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, NamedTuple, get_args

Area = Literal["face", "neck", "body", "hands", "scalp"]
AREAS: tuple[str, ...] = get_args(Area)
AREA_WORDS: dict[str, str] = {
    "face": "face",
    "neck": "neck and décolletage",
    "body": "body",
    "hands": "hands",
    "scalp": "scalp",
}

Technique = Literal["needle", "microneedling", "needleless"]
TECHNIQUES: tuple[str, ...] = get_args(Technique)
TECHNIQUE_WORDS: dict[str, str] = {
    "needle": "needle mesotherapy",
    "microneedling": "microneedling",
    "needleless": "needleless mesotherapy",
}

Phase = Literal["before", "day", "after"]
PHASES: tuple[str, ...] = get_args(Phase)
PHASE_ORDER: dict[str, int] = {phase: i for i, phase in enumerate(PHASES)}  # before, day, after

NoteSection = Literal["expect", "after", "talk-first", "call-us", "caution"]
NOTE_SECTIONS: tuple[str, ...] = get_args(NoteSection)

Prescription = Literal["medrol", "lasix"]  # medicines a clinician may prescribe with a course
PRESCRIPTIONS: tuple[str, ...] = get_args(Prescription)

# What a rule asks the patient to do or forbids (``asks:`` / ``forbids:``): two rules on the
# same handout, at the same time and on the same area, must never ask and forbid one of these.
Concept = Literal[
    "topical-on-area",  # creams, lotions, oils, sprays on the treated area (arnica included)
    "sunscreen",  # sunscreen on the skin (a topical the sun rules ask for)
    "herbal-supplements",
    "vitamin-e",
    "aspirin",
    "nsaids",
    "painkillers",  # any painkiller (the ones that are not aspirin or NSAIDs)
    "caffeine",
    "stimulants",
    "medrol",
    "lasix",
    "washing-area",
    "food",
    "drinking-water",
    "shower-bath",
    "hot-tub-sauna",
    "exercise",
    "sun",
    "loose-clothing",
]
CONCEPTS: tuple[str, ...] = get_args(Concept)

Basis = Literal["clinic-policy", "evidence", "product-label"]
BASES: tuple[str, ...] = get_args(Basis)

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)  # index 0 = Monday, as date.weekday()

Paper = Literal["A4", "Letter"]
PAPER_SIZES: tuple[str, ...] = get_args(Paper)

Units = Literal["metric", "us"]
UNITS: tuple[str, ...] = get_args(Units)

PrintSize = Literal["normal", "large"]  # large: 18 pt body text in HTML and PDF
PRINT_SIZES: tuple[str, ...] = get_args(PrintSize)

Until = Literal["appointment", "course-end", "open"]
UNTIL_WORDS: tuple[str, ...] = get_args(Until)

# The dates mesocare computes with (appointments, course ends, today, booking dates).
# Outside them a date is refused with one sentence (docs/limits-and-safety.md).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

# ----------------------------------------------------------------------------- durations

_UNIT_WORDS = {"h": "hours", "d": "days", "w": "weeks", "m": "months"}
_UNIT_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "m": 365 / 12}
_DURATION = re.compile(r"^\s*(\d{1,9})\s*([a-z])\s*$")

WINDOW_UNITS = "hdw"  # rule windows: 48h, 10d, 2w
WINDOW_MAX_DAYS = 3660  # a rule window spans at most about ten years
EVERY_UNITS = "dwm"  # session intervals: 14d, 4w, 1m (calendar months)
EVERY_MAX_DAYS = 366  # sessions are at most a year apart


class Duration(NamedTuple):
    """A length of time as written: a count and a unit (h, d, w or m). A tuple, so
    ``count, unit = duration`` works."""

    count: int  # type: ignore[assignment]  # a field may shadow tuple.count; typeshed says no
    unit: str

    @classmethod
    def parse(
        cls,
        text: str,
        units: str = WINDOW_UNITS,
        max_days: float = WINDOW_MAX_DAYS,
        allow_zero: bool = True,
    ) -> Duration:
        """``48h``, ``10d``, ``2w``, ``1m`` (only the ``units`` given); ValueError with a
        sentence when the text is not one or is longer than ``max_days``."""
        m = _DURATION.match(str(text))
        shown = (
            str(text) if len(str(text)) <= 40 else str(text)[:40] + "..."
        )  # never a 5,000-digit message
        if m and len(m.group(1)) > 9:
            raise ValueError(f"'{shown}' is too long: mesocare counts at most {max_days:g} days")
        if not m or m.group(2) not in units or (not allow_zero and int(m.group(1)) == 0):
            examples = {"h": "48h", "d": "10d", "w": "2w", "m": "1m"}
            raise ValueError(
                f"'{shown}' is not a duration: write a number and {_or(list(units))}, "
                f"for example {_or([examples[u] for u in units])}"
            )
        duration = cls(int(m.group(1)), m.group(2))
        if duration.days > max_days:
            raise ValueError(f"'{shown}' is too long: mesocare counts at most {max_days:g} days")
        return duration

    @classmethod
    def matches(cls, text: str, units: str = WINDOW_UNITS) -> bool:
        try:
            cls.parse(text, units)
        except ValueError:
            return False
        return True

    @property
    def days(self) -> float:
        """The length in days (months counted as 1/12 of a year, for limits only)."""
        return self.count * _UNIT_DAYS[self.unit]

    @property
    def hours(self) -> int:
        """The length in hours, for h, d and w."""
        return self.count * {"h": 1, "d": 24, "w": 168}[self.unit]

    @property
    def whole_days(self) -> int:
        """The length in calendar days, for d and w."""
        return self.count * 7 if self.unit == "w" else self.count

    def words(self) -> str:
        """2 days, 1 day, 48 hours (for tables; not patient text)."""
        word = _UNIT_WORDS[self.unit]
        return f"{self.count} {word[:-1] if self.count == 1 else word}"

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


def _or(units: list[str]) -> str:
    return ", ".join(units[:-1]) + " or " + units[-1] if len(units) > 1 else units[0]
