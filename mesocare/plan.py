"""A course plan: each session's date, whether it moved off a closed day, and why.

Pure: takes the first date, the count, the interval and the clinic; returns a Plan. The
words for closed days are plain English here (the CLI's `plan` command prints them);
``plan_lines`` writes the plan in another language, through the language layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import date as calendar_date  # for annotations beside a field named "date"
from typing import TYPE_CHECKING

from mesocare.course import closed_days_checker, make_course, session_dates
from mesocare.model import Clinic
from mesocare.vocab import WEEKDAYS

if TYPE_CHECKING:
    from mesocare.lang import Language


@dataclass(frozen=True)
class PlannedSession:
    number: int
    date: date
    moved_from: calendar_date | None  # the date it was counted to, when it moved
    reason: str | None  # why it moved

    def as_dict(self) -> dict:
        return {
            "session": self.number,
            "date": self.date.isoformat(),
            "moved_from": self.moved_from.isoformat() if self.moved_from else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Plan:
    first: date
    count: int
    every: tuple[int, str] | None
    sessions: tuple[PlannedSession, ...]
    end: date | None
    closed_words: str  # "closed on Sundays and public holidays of GB"
    warnings: tuple[str, ...]


def plan_course(first: date, count: int, every: tuple[int, str] | None, clinic: Clinic) -> Plan:
    """Every session of the course, moved off the clinic's closed days (the first never moves)."""
    course = make_course(first, sessions=count, every=every, clinic=clinic)
    planned = session_dates(first, count, every, None) if every else (first,)
    closed = closed_days_checker(clinic)
    sessions = []
    for number, (day, wanted) in enumerate(zip(course.sessions, planned, strict=True), start=1):
        moved = day != wanted
        reason = None
        if moved:
            reason = (
                closed_reason(wanted, clinic) if closed(wanted) else "after the previous session"
            )
        sessions.append(PlannedSession(number, day, wanted if moved else None, reason))
    warnings = []
    if closed(first):
        warnings.append(
            f"the first session, {first.isoformat()}, is on a closed day "
            f"({closed_reason(first, clinic)});"
            " it is the booked appointment and does not move."
        )
    return Plan(
        first, count, every, tuple(sessions), course.end, closed_words(clinic), tuple(warnings)
    )


def closed_reason(day: date, clinic: Clinic) -> str:
    """Why the clinic is closed on ``day``: "closed on Sundays", "public holiday: Boxing Day"."""
    if day.weekday() in clinic.closed_weekdays:
        return f"closed on {_days(day.weekday())}"
    if clinic.holidays_country:
        name = holiday_name(day, clinic, "en-GB")
        if name:
            return f"public holiday: {name}"
    return "closed"


def holiday_language(country: str, tag: str) -> str | None:
    """The holidays package's language for names in ``tag`` ("fr-CA"), if it has one for
    ``country``: the same region ("pt_BR"), else the same language ("it_IT" for "it", "en_GB"
    before "en_US" for "en-GB"); None: the country's own language (the package's default)."""
    import holidays

    offered = holidays.list_localized_countries().get(country.upper(), [])
    language, _, region = tag.replace("_", "-").partition("-")
    wanted = f"{language.lower()}_{region.upper()}" if region else None
    if wanted in offered:
        return wanted
    if language.lower() in offered:
        return language.lower()
    same = sorted(code for code in offered if code.split("_")[0] == language.lower())
    return same[0] if same else None


def holiday_name(day: date, clinic: Clinic, tag: str) -> str | None:
    """The name of the public holiday on ``day`` in the clinic's country, in the language of
    ``tag`` when the holidays package has the names in it, else in the country's language
    (whatever the machine's locale)."""
    country = clinic.holidays_country
    if not country:
        return None
    import holidays

    # always a language: without one the package follows the machine's locale (LANG)
    language = holiday_language(country, tag)
    if language is None:
        own = holidays.country_holidays(country, subdiv=clinic.holidays_subdiv)
        language = getattr(own, "default_language", None)
        if language is None:
            return own.get(day)
    return holidays.country_holidays(country, subdiv=clinic.holidays_subdiv, language=language).get(
        day
    )


def closed_words(clinic: Clinic) -> str:
    parts = []
    if clinic.closed_weekdays:
        parts.append("closed on " + ", ".join(_days(d) for d in sorted(clinic.closed_weekdays)))
    if clinic.holidays_country:
        region = f"-{clinic.holidays_subdiv}" if clinic.holidays_subdiv else ""
        parts.append(f"public holidays of {clinic.holidays_country}{region}")
    return " and ".join(parts) if parts else "no closed days set"


def _days(weekday: int) -> str:
    """0 -> "Mondays" (weekday as date.weekday())."""
    return f"{WEEKDAYS[weekday].capitalize()}s"


# ----------------------------------------------------------------------------- its words
# The text of `mesocare plan` in a language other than en-GB (the clinic's), through the
# language layer: each sentence a gettext msgid, dates and weekday names from CLDR.
def _weekday(lang: Language, index: int) -> str:
    return lang.locale.days["format"]["wide"][index]


def plan_closed_reason(lang: Language, day: date, clinic: Clinic) -> str:
    """Why a session moved, in the plan's language (holiday names in it where the holidays
    package has them)."""
    if day.weekday() in clinic.closed_weekdays:
        return lang._("closed on %(weekday)s", weekday=_weekday(lang, day.weekday()))
    if clinic.holidays_country:
        name = holiday_name(day, clinic, lang.tag)
        if name:
            return lang._("public holiday: %(name)s", name=name)
    return lang.gettext("closed")


def plan_lines(
    lang: Language, course: Plan, interval: tuple[int, str] | None, clinic: Clinic
) -> list[str]:
    """The text of ``mesocare plan`` in a language other than the default."""
    head = lang.n_("%(num)d session", "%(num)d sessions", course.count)
    if interval:
        n, unit = interval
        if n == 1:  # "every week", not "every 1 week" (German "jede Woche", not "alle 1 Woche")
            every = {
                "d": lang.gettext("every day"),
                "w": lang.gettext("every week"),
                "m": lang.gettext("every month"),
            }[unit]
        else:
            every = {
                "d": lang.n_("every %(num)d day", "every %(num)d days", n),
                "w": lang.n_("every %(num)d week", "every %(num)d weeks", n),
                "m": lang.n_("every %(num)d month", "every %(num)d months", n),
            }[unit]
        head += ", " + every
    parts = []
    if clinic.closed_weekdays:
        weekdays = lang.joined([_weekday(lang, d) for d in sorted(clinic.closed_weekdays)])
        parts.append(lang._("closed on %(weekday)s", weekday=weekdays))
    if clinic.holidays_country:
        region = f"-{clinic.holidays_subdiv}" if clinic.holidays_subdiv else ""
        parts.append(
            lang._("public holidays of %(country)s", country=clinic.holidays_country + region)
        )
    closed = lang.joined(parts) if parts else lang.gettext("no closed days set")
    lines = [lang.typo(f"{head}; {closed}.")]
    for s in course.sessions:
        line = f"{s.number:>3}  {lang.day(s.date)}"
        if s.moved_from:
            if s.reason != "after the previous session":
                reason = plan_closed_reason(lang, s.moved_from, clinic)
            else:
                reason = lang.gettext("after the previous session")
            line += "  " + lang._(
                "(moved from %(day)s: %(reason)s)", day=lang.day(s.moved_from), reason=reason
            )
        lines.append(line)
    if course.end:
        lines.append(lang._("The course ends on %(day)s.", day=lang.day(course.end)))
    return lines
