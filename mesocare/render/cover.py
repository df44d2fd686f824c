"""The batch cover sheet, as plain data: who comes in, and whom to phone first."""

from __future__ import annotations

from dataclasses import dataclass

from mesocare import words
from mesocare.model import Batch, Handout
from mesocare.render.templating import area_words


@dataclass(frozen=True)
class CoverRow:
    time: str  # "10:00", or "no time"
    day: str  # "Monday 10 June 2024"
    who: str  # the patient's name, else id, else "no name"
    area: str
    late: str  # "ginkgo biloba (from Friday 31 May 2024), ..." or ""
    past: bool = False  # the appointment is before today: its time reads "10:00 (past)"


PAST_MARK = " (past)"


def past_warning(count: int) -> str:
    """The cover sheet's warning when some appointments are before today (as their handouts say)."""
    if count == 1:
        return "1 appointment is in the past (marked past): check its date before you give out its handout."
    return f"{count} appointments are in the past (marked past): check their dates before you give out their handouts."


def who(h: Handout) -> str:
    return h.patient_name or h.patient_id or "no name"


def cover_rows(batch: Batch) -> list[CoverRow]:
    return [
        CoverRow(
            time=(words.clock(h.start) if h.timed else "no time") + (PAST_MARK if h.past else ""),
            day=words.day(h.start.date()),
            who=who(h),
            area=area_words(h.areas),
            late=words.joined([f"{i.name} (from {words.day(i.start.date())})" for i in h.late_items]),
            past=h.past,
        )
        for h in batch.handouts
    ]


def cover_context(batch: Batch) -> dict:
    rows = cover_rows(batch)
    title = f"Appointments on {words.day(batch.day)}" if batch.day else "Appointments"
    count = len(batch.handouts)
    return {
        "batch": batch,
        "clinic": batch.clinic,
        "title": title,
        "count": f"{count} handout{'s' if count != 1 else ''}",
        "rows": rows,
        "past": past_warning(sum(r.past for r in rows)) if any(r.past for r in rows) else "",
        "to_call": [r for r in rows if r.late],
        "booking_checked": batch.booking_checked,
        "unchecked": "Late bookings could not be checked: the schedule has no booking dates.",
        "skipped": [str(p) for p in batch.errors],
        "notices": [str(p) for p in batch.problems if not p.error],
        "made": f"Made on {words.day(batch.today)}.",
    }
