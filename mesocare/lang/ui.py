"""The sentences every format shares around the rules: banners, section titles, area and
technique names, the footer and the translation record. Each goes through the gettext catalog
of the handout's language (the msgids are today's English, so en-GB output is unchanged).

A format's own sentences live beside its view: the PDF's in :mod:`mesocare.render.pdf_words`,
the cover sheet's in :mod:`mesocare.render.cover`, the calendar's in
:mod:`mesocare.render.ics_events` and :mod:`mesocare.render.calendar`, ``mesocare plan``'s in
:mod:`mesocare.plan`. Templates say their own words with ``{{ _("...") }}``. ``N_`` marks a
string for extraction without translating it there (babel.cfg reads every module of the package).
"""

from __future__ import annotations

from datetime import date

from mesocare.banner import Banner
from mesocare.lang.language import Language


def N_(message: str) -> str:
    return message


DEFAULT_CLINIC_NAME = N_("Your mesotherapy clinic")

AREA_WORDS = {
    "face": N_("face"),
    "neck": N_("neck and décolletage"),
    "body": N_("body"),
    "hands": N_("hands"),
    "scalp": N_("scalp"),
}
TECHNIQUE_WORDS = {
    "needle": N_("needle mesotherapy"),
    "microneedling": N_("microneedling"),
    "needleless": N_("needleless mesotherapy"),
}
SECTION_TITLES = {
    "before": N_("Before your appointment"),
    "day": N_("On the day of your appointment"),
    "after": N_("After your appointment"),
    "expect": N_("What to expect"),
    "talk-first": N_("Talk to us first if"),
    "call-us": N_("Call us if"),
    "caution": N_("About your medicines"),
}


def clinic_name(lang: Language, name: str) -> str:
    """The clinic's own name, or the neutral default in the handout's language."""
    return lang.gettext(DEFAULT_CLINIC_NAME) if name == DEFAULT_CLINIC_NAME else name


def area(lang: Language, code: str) -> str:
    return lang.gettext(AREA_WORDS[code]) if code in AREA_WORDS else code


def areas(lang: Language, codes) -> str:
    """face and hands; or "body; neck and décolletage" when a name already has an "and"."""
    names = [area(lang, a) for a in codes]
    conj = f" {lang.grammar.conjunction('x')} "
    if len(names) > 1 and any(conj in n for n in names):
        return lang.typo("; ".join(names))
    return lang.joined(names)


def technique(lang: Language, code: str) -> str:
    return lang.gettext(TECHNIQUE_WORDS[code]) if code in TECHNIQUE_WORDS else code


def section_title(lang: Language, key: str) -> str:
    return lang.gettext(SECTION_TITLES[key])


def past_banner(lang: Language, day: date) -> str:
    return lang._(
        "This appointment, on %(day)s, is in the past. "
        "Check the date with the clinic before you follow these instructions.",
        day=lang.day(day),
    )


def late_step(lang: Language, name: str, start: date) -> str:
    """ginkgo biloba (from Friday 31 May 2024)"""
    return lang._("%(name)s (from %(day)s)", name=name, day=lang.day(start))


def late_banner(
    lang: Language, booked: date, ahead: int, steps: list[str], phone: str | None
) -> Banner:
    """A short lead, the list of steps that started before the booking, what to do."""
    if ahead == 0:
        when = lang._("the day of your appointment")
    else:
        when = lang.n_(
            "%(num)d day before your appointment", "%(num)d days before your appointment", ahead
        )
    return Banner(
        lead=lang._("You booked on %(day)s, %(lead)s.", day=lang.day(booked), lead=when)
        + " "
        + lang.gettext("These steps had already started:"),
        steps=tuple(steps),
        closing=lang._(
            "Call us on %(phone)s before your appointment so we can check what to do.", phone=phone
        )
        if phone
        else lang._("Call us before your appointment so we can check what to do."),
    )


def call_line(lang: Language, phone: str | None) -> str:
    return (
        lang._("Our phone number is %(phone)s.", phone=phone)
        if phone
        else lang._("Call the clinic.")
    )


def footer(
    lang: Language,
    version: str,
    dated: date | None,
    reviewed_by: str | None,
    today: date,
    clinic_rules: bool,
    credit: str | None,
) -> str:
    """Rule set abc123456789, dated ...; reviewed by ... Made on ... Language: ... (and, for a
    translation, its translation record)."""
    text = lang._("Rule set %(version)s", version=version[:12])
    if dated:
        text += lang._(", dated %(day)s", day=lang.day(dated))
    if reviewed_by:
        text += lang._("; reviewed by %(name)s", name=reviewed_by)
    else:
        text += lang.gettext("; not yet reviewed by a clinician")
    text += ". " + lang._("Made on %(day)s.", day=lang.day(today))
    if clinic_rules:
        text += " " + lang.gettext("Includes the clinic's own rules.")
    text += " " + lang._("Language: %(language)s.", language=lang.display_name)
    if credit:
        text += " " + credit
    return lang.typo(text)


def credit(
    lang: Language, record: dict | None, review: tuple[str, str] | None = None
) -> str | None:
    """Who reviewed the text in this language (the clinic config's ``languages:``), else the
    translation record, as one sentence in the handout's language. English is the source: it
    says nothing until a clinician's review is recorded."""
    if review:
        by, on = review
        day = lang.day(date.fromisoformat(on))
        return lang._("Text in this language reviewed by %(name)s on %(day)s.", name=by, day=day)
    if not record or lang.code == "en":
        return None
    if record.get("by") == MACHINE_ASSISTED:
        return lang.gettext(
            "Translated with machine help; not yet reviewed by a clinician who reads this language."
        )
    return lang._(
        "Translation: %(by)s, %(on)s; it still needs review by a clinician who reads this "
        "language.",
        by=lang.gettext(record.get("by", ""))
        if record.get("by") == MACHINE_ASSISTED
        else record.get("by", ""),
        on=lang.day(date.fromisoformat(record["date"])) if record.get("date") else "",
    )


MACHINE_ASSISTED = N_("machine-assisted translation by the mesocare team")


def split_placeholders(text: str, *names: str) -> list[str]:
    """ "Page %(n)s of %(m)s" -> ["Page ", " of ", ""] (for Typst, which fills in counters)."""
    import re

    parts = re.split(r"%\((?:" + "|".join(names) + r")\)s", text)
    return parts
