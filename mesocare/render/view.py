"""What every human format shows, in order, as plain data for the templates.

The sections, their titles and their order are decided once here; templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from mesocare import words
from mesocare.model import Handout, Item, Note
from mesocare.render.templating import area_words


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: tuple[Item, ...] = ()
    notes: tuple[Note, ...] = ()
    closing: str | None = None  # a last line (the phone number under "Call us if")


def appointment_words(h: Handout) -> str:
    """10:00 on Monday 10 June 2024 (or the day alone when untimed)."""
    return words.moment(h.start) if h.timed else words.day(h.start.date())


def sections(h: Handout) -> list[Section]:
    phone = h.clinic.phone
    call = f"Our phone number is {phone}." if phone else "Call the clinic."
    out = [
        Section("before", "Before your appointment", items=h.phase("before")),
        Section("day", "On the day of your appointment", items=h.phase("day")),
        Section("after", "After your appointment", items=h.phase("after"), notes=h.section("after")),
        Section("expect", "What to expect", notes=h.section("expect")),
        Section("talk-first", "Talk to us first if", notes=h.section("talk-first")),
        Section("call-us", "Call us if", notes=h.section("call-us"), closing=call),
        Section("caution", "About your medicines", notes=h.section("caution")),
    ]
    return [s for s in out if s.items or s.notes]


def footer(h: Handout) -> str:
    """The rule set's version and date, and whether a clinician signed it off (the config's
    ``reviewed_by``): the rules' own review dates are not a clinical review."""
    dated = f", dated {words.day(h.reviewed_on)}" if h.reviewed_on else ""
    signed = f"reviewed by {h.clinic.reviewed_by}" if h.clinic.reviewed_by else "not yet reviewed by a clinician"
    clinic = " Includes the clinic's own rules." if h.clinic_rules else ""
    return f"Rule set {h.rules_version[:12]}{dated}; {signed}. Made on {words.day(h.today)}.{clinic}"


def context(h: Handout) -> dict:
    """The variables every handout template gets."""
    return {
        "h": h,
        "clinic": h.clinic,
        "patient": h.patient_name,
        "appointment": appointment_words(h),
        "area": area_words(h.areas),
        "sections": sections(h),
        "banners": h.banners,
        "footer": footer(h),
    }
