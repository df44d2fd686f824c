"""What every human format shows, in order, as plain data for the templates.

The sections, their titles and their order are decided once here; templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mesocare.lang import ui
from mesocare.lang.language import Language
from mesocare.model import Handout, Item, Note


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: tuple[Item, ...] = ()
    notes: tuple[Note, ...] = ()
    closing: str | None = None  # a last line (the phone number under "Call us if")


def appointment_words(h: Handout) -> str:
    """10:00 on Monday 10 June 2024 (or the day alone when untimed), in the handout's language."""
    return h.lang.appointment_words(h.start, h.timed)


def sections(h: Handout) -> list[Section]:
    lang = h.lang
    title = lambda key: ui.section_title(lang, key)  # noqa: E731
    out = [
        Section("before", title("before"), items=h.phase("before")),
        Section("day", title("day"), items=h.phase("day")),
        Section("after", title("after"), items=h.phase("after"), notes=h.section("after")),
        Section("expect", title("expect"), notes=h.section("expect")),
        Section("talk-first", title("talk-first"), notes=h.section("talk-first")),
        Section(
            "call-us",
            title("call-us"),
            notes=h.section("call-us"),
            closing=ui.call_line(lang, h.clinic.phone) + " " + h.emergency,
        ),
        Section("caution", title("caution"), notes=h.section("caution")),
    ]
    # "Call us if" is always shown: it carries the emergency line
    return [s for s in out if s.items or s.notes or s.key == "call-us"]


def footer(h: Handout) -> str:
    """The rule set's version and date, and whether a clinician signed it off (the config's
    ``reviewed_by``): the rules' own review dates are not a clinical review. Then the language,
    and for a translation its translation record."""
    return ui.footer(
        h.lang,
        h.rules_version,
        h.reviewed_on,
        h.clinic.reviewed_by,
        h.today,
        bool(h.clinic_rules),
        h.translation,
    )


def html_lang(lang: Language) -> str:
    """The HTML lang attribute: the tag, except plain "en" for the default (as before)."""
    return "en" if lang.is_default else lang.tag


def context(h: Handout) -> dict:
    """The variables every handout template gets."""
    lang = h.lang
    return {
        "h": h,
        "lang": lang,
        "html_lang": html_lang(lang),
        "section_lang": None,
        "clinic": replace(h.clinic, name=ui.clinic_name(lang, h.clinic.name)),
        "patient": h.patient_name,
        "appointment": appointment_words(h),
        "area": ui.areas(lang, h.areas),
        "technique": ui.technique(lang, h.technique),
        "sections": sections(h),
        "banners": h.shown_banners,
        "footer": footer(h),
    }
