"""The batch cover sheet, as plain data: who comes in, and whom to phone first."""

from __future__ import annotations

from dataclasses import dataclass

from mesocare import lang as languages
from mesocare.lang import ui
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


def cover_language(batch: Batch):
    """The cover sheet is for the nurse: in the clinic's language, whatever the patients read."""
    return languages.get(batch.clinic.language)


def past_warning(count: int, lang=None) -> str:
    """The cover sheet's warning when some appointments are before today (as their handouts say)."""
    return ui.past_warning(lang or languages.get(None), count)


def who(h: Handout, lang=None) -> str:
    return h.patient_name or h.patient_id or (lang or languages.get(None)).gettext("no name")


def mixed_languages(batch: Batch) -> bool:
    """True when some handout is not in the cover sheet's language (the cover then lists them)."""
    tag = cover_language(batch).tag
    return any(h.language != tag for h in batch.handouts)


def cover_rows(batch: Batch) -> list[CoverRow]:
    lang = cover_language(batch)
    mark = " " + lang.gettext(ui.PAST_MARK)
    show = mixed_languages(batch)
    names = dict(batch.step_names)
    return [
        CoverRow(
            time=(lang.clock(h.start) if h.timed else lang.gettext("no time")) + (mark if h.past else ""),
            day=lang.day(h.start.date()),
            who=who(h, lang),
            area=ui.areas(lang, h.areas),
            late=lang.joined([ui.late_step(lang, names.get(i.rule, i.name), i.start.date()) for i in h.late_items]),
            past=h.past,
            language=ui.language_name(lang, h.language) if show else "",
        )
        for h in batch.handouts
    ]


def cover_context(batch: Batch) -> dict:
    from mesocare.render.view import html_lang

    lang = cover_language(batch)
    rows = cover_rows(batch)
    count = len(batch.handouts)
    return {
        "batch": batch,
        "lang": lang,
        "html_lang": html_lang(lang.tag),
        "show_language": mixed_languages(batch),
        "clinic": batch.clinic,
        "title": ui.cover_title(lang, batch.day),
        "count": ui.handout_count(lang, count),
        "rows": rows,
        "past": past_warning(sum(r.past for r in rows), lang) if any(r.past for r in rows) else "",
        "to_call": [r for r in rows if r.late],
        "booking_checked": batch.booking_checked,
        "unchecked": lang.gettext("Late bookings could not be checked: the schedule has no booking dates."),
        "skipped": [str(p) for p in batch.errors],
        "notices": [str(p) for p in batch.problems if not p.error],
        "made": ui.made_on(lang, batch.today),
    }
