"""The batch cover sheet, as plain data: who comes in, and whom to phone first.

The cover sheet is for the nurse: it is in the batch's language (``batch.lang``, the clinic's,
decided once where the batch is built), whatever the patients read. Its sentences are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mesocare.lang import ui
from mesocare.lang.language import Language
from mesocare.lang.ui import N_
from mesocare.model import Batch, Handout


@dataclass(frozen=True)
class CoverRow:
    time: str  # "10:00", or "no time"
    day: str  # "Monday 10 June 2024"
    who: str  # the patient's name, else id, else "no name"
    area: str
    late: str  # "ginkgo biloba (from Friday 31 May 2024), ..." or ""
    past: bool = False  # the appointment is before today: its time reads "10:00 (past)"
    language: str = ""  # the handout's language, in the cover's language: "French (France)"


PAST_MARK = N_("(past)")


def cover_title(lang: Language, day: date | None) -> str:
    if day is None:
        return lang.gettext("Appointments")
    return lang._("Appointments on %(day)s", day=lang.day(day))


def handout_count(lang: Language, n: int) -> str:
    return lang.n_("%(num)d handout", "%(num)d handouts", n)


def past_warning(count: int, lang: Language) -> str:
    """The cover sheet's warning when some appointments are before today (as their handouts say)."""
    return lang.n_(
        "%(num)d appointment is in the past (marked past): "
        "check its date before you give out its handout.",
        "%(num)d appointments are in the past (marked past): "
        "check their dates before you give out their handouts.",
        count,
    )


def made_on(lang: Language, day: date) -> str:
    return lang._("Made on %(day)s.", day=lang.day(day))


def language_name(lang: Language, other: Language) -> str:
    """A handout's language as the cover sheet's reader says it: "French (Canada)" in English,
    "francés (Canadá)" in Spanish (CLDR's names)."""
    if lang.is_default and other == lang:
        return lang.display_name
    return other.locale.get_display_name(lang.locale)


def who(h: Handout, lang: Language) -> str:
    return h.patient_name or h.patient_id or lang.gettext("no name")


def mixed_languages(batch: Batch) -> bool:
    """True when some handout is not in the cover sheet's language (the cover then lists them)."""
    return any(h.lang != batch.lang for h in batch.handouts)


def cover_rows(batch: Batch) -> list[CoverRow]:
    lang = batch.lang
    mark = " " + lang.gettext(PAST_MARK)
    show = mixed_languages(batch)
    names = dict(batch.step_names)
    return [
        CoverRow(
            time=(lang.clock(h.start) if h.timed else lang.gettext("no time"))
            + (mark if h.past else ""),
            day=lang.day(h.start.date()),
            who=who(h, lang),
            area=ui.areas(lang, h.areas),
            late=lang.joined(
                [
                    ui.late_step(lang, names.get(i.rule, i.name), i.start.date())
                    for i in h.late_items
                ]
            ),
            past=h.past,
            language=language_name(lang, h.lang) if show else "",
        )
        for h in batch.handouts
    ]


def cover_context(batch: Batch) -> dict:
    from mesocare.render.view import html_lang

    lang = batch.lang
    rows = cover_rows(batch)
    count = len(batch.handouts)
    return {
        "batch": batch,
        "lang": lang,
        "html_lang": html_lang(lang),
        "show_language": mixed_languages(batch),
        "clinic": batch.clinic,
        "title": cover_title(lang, batch.day),
        "count": handout_count(lang, count),
        "rows": rows,
        "past": past_warning(sum(r.past for r in rows), lang) if any(r.past for r in rows) else "",
        "to_call": [r for r in rows if r.late],
        "booking_checked": batch.booking_checked,
        "unchecked": lang.gettext(
            "Late bookings could not be checked: the schedule has no booking dates."
        ),
        "skipped": [str(p) for p in batch.errors],
        "notices": [str(p) for p in batch.problems if not p.error],
        "made": made_on(lang, batch.today),
    }
