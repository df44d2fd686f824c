"""Every word a PDF prints besides the rule texts: a handout's in its language
(``handout_words``), the cover sheet's in the clinic's (``cover_words``), each through the
language layer's gettext catalog (``N_`` marks a msgid for extraction, see babel.cfg).

The Typst templates (``handout.typ.j2``, ``cover.typ.j2``) print what these return.
"""

from __future__ import annotations

from functools import lru_cache

from mesocare.lang.language import Language
from mesocare.lang.ui import N_, SECTION_TITLES, areas, clinic_name, split_placeholders, technique
from mesocare.model import Batch, Handout
from mesocare.render.cover import PAST_MARK, language_name

PDF_WORDS = {
    "page": N_("Page %(n)s of %(m)s"),
    "cover_page": N_("Cover sheet, page %(n)s of %(m)s"),
    "rule_set": N_("Rule set %(version)s"),
    "patient_id": N_("Patient %(id)s"),
    "date": N_("Date"),
    "time": N_("Time"),
    "area": N_("Area"),
    "treatment": N_("Treatment"),
    "on_the_day": N_("On the day"),
    "phone": N_("Phone: %(phone)s"),
    "kicker": N_("Your mesotherapy care instructions"),
    "name": N_("Name:"),
    "read_first": N_("Please read this first"),
    "late_tag": N_("started before you booked"),
    "clinic_tag": N_("clinic rule"),
    "when": N_("When"),
    "what": N_("What to do"),
    "call_on": N_("Call us on %(phone)s."),
    "call_clinic": N_("Call the clinic."),
    "read": N_("I have read these instructions."),
    "signature": N_("Patient signature"),
    "made": N_("Made on %(day)s. Rule set %(version)s."),
    "made_reviewed": N_("Made on %(day)s. Rule set %(version)s, dated %(reviewed)s."),
    "made_on": N_("Made on %(day)s"),
    "made_on_label": N_("Made on"),
    "all_appointments": N_("All appointments"),
    "cover_kicker": N_("Cover sheet for the nurse"),
    "appointments": N_("Appointments"),
    "patients": N_("Patients"),
    "language": N_("Language"),
    "no_appointments": N_("No appointments to print."),
    "not_checked": N_("Not checked"),
    "to_call_intro": N_(
        "These patients booked after some steps had already started. "
        "The clinic should phone each of them before the appointment."
    ),
    "step_from": N_("%(name)s from %(day)s"),
    "phone_them": N_("Phone them and check what to do."),
    "nobody": N_("No one to call: every patient booked before their first step started."),
    "rows_skipped": N_("Rows skipped"),
    "none": N_("None."),
    "left_out": N_("Left out on purpose"),
}


def typst_region(lang: Language) -> str | None:
    """Typst takes an ISO 3166-1 alpha-2 region (fr-CA -> "ca"); es-419 has none."""
    return lang.region.lower() if lang.region.isalpha() else None


def _around(lang: Language, message: str, name: str) -> list[str]:
    """A sentence cut around one placeholder, for Typst to put a bold value or a counter in."""
    return split_placeholders(lang.gettext(message), name)


@lru_cache(maxsize=32)
def _language_words(lang: Language) -> dict:
    """The words of a PDF handout that depend on its language alone, made once per language
    rather than for every handout of a batch (``handout_words`` copies its lists and dicts: a
    template may change what it is given)."""
    g = lang.gettext
    page = _around(lang, PDF_WORDS["page"], "n")
    return {
        "typst_lang": lang.code,
        "typst_region": typst_region(lang),
        "hyphenate": not lang.is_default,
        "page": [page[0], *split_placeholders(page[1], "m")],
        "labels": {k: g(PDF_WORDS[k]) for k in ("date", "time", "area", "treatment")},
        "titles": {
            "before": g(SECTION_TITLES["before"]),
            "day": g(PDF_WORDS["on_the_day"]),
            "after": g(SECTION_TITLES["after"]),
            "expect": g(SECTION_TITLES["expect"]),
            "talk-first": g(SECTION_TITLES["talk-first"]),
            "call-us": g(SECTION_TITLES["call-us"]),
        },
        "phone": _around(lang, PDF_WORDS["phone"], "phone"),
        "kicker": g(PDF_WORDS["kicker"]),
        "name": g(PDF_WORDS["name"]),
        "read_first": g(PDF_WORDS["read_first"]),
        "tags": {"late": g(PDF_WORDS["late_tag"]), "clinic": g(PDF_WORDS["clinic_tag"])},
        "when": g(PDF_WORDS["when"]),
        "what": g(PDF_WORDS["what"]),
        "call_clinic": g(PDF_WORDS["call_clinic"]),
        "read": g(PDF_WORDS["read"]),
        "signature": g(PDF_WORDS["signature"]),
        "not_reviewed": lang.gettext("not yet reviewed by a clinician"),
        "clinic_rules": g("Includes the clinic's own rules."),
        "language": (
            None
            if lang.is_default
            else lang._("Language: %(language)s.", language=lang.display_name)
        ),
    }


def handout_words(h: Handout) -> dict:
    """Every word one PDF handout prints besides the rule texts, in its language."""
    lang = h.lang
    same = _language_words(lang)
    made = lang._(
        PDF_WORDS["made_reviewed"] if h.reviewed_on else PDF_WORDS["made"],
        day=lang.day(h.today),
        version=h.rules_version[:12],
        reviewed=lang.day(h.reviewed_on) if h.reviewed_on else "",
    )
    signed = (
        lang._("reviewed by %(name)s", name=h.clinic.reviewed_by)
        if h.clinic.reviewed_by
        else same["not_reviewed"]
    )
    extra = []
    if h.clinic_rules:
        extra.append(same["clinic_rules"])
    if same["language"] is not None:
        extra.append(same["language"])
    if h.translation:
        extra.append(h.translation)
    day = lang.day(h.start.date())
    words = {key: _own(value) for key, value in same.items() if key not in _PARTS}
    words.update(
        {
            "clinic": clinic_name(lang, h.clinic.name),
            "date": day,
            "time": lang.clock(h.start) if h.timed else None,
            "areas": areas(lang, h.areas),
            "technique": technique(lang, h.technique),
            "lower": day + " · " + lang._(PDF_WORDS["rule_set"], version=h.rules_version[:12]),
            "patient_id": lang._(PDF_WORDS["patient_id"], id=h.patient_id or ""),
            "call": (
                lang._(PDF_WORDS["call_on"], phone=h.clinic.phone)
                if h.clinic.phone
                else same["call_clinic"]
            ),
            "emergency": h.emergency,
            "made": lang.typo(" ".join([made[:-1] + "; " + signed + ".", *extra])),
        }
    )
    return words


# the language's words that handout_words puts together into others, not printed as they are
_PARTS = ("call_clinic", "not_reviewed", "clinic_rules", "language")


def _own(value):
    """A handout's own copy of a list or dict of the language's words (a template may change
    what it is given); a string as it is."""
    return (
        list(value)
        if isinstance(value, list)
        else dict(value)
        if isinstance(value, dict)
        else value
    )


def cover_words(batch: Batch) -> dict:
    """Every word the PDF cover sheet prints, in the clinic's language (it is for the nurse)."""
    lang = batch.lang
    g = lang.gettext
    page = _around(lang, PDF_WORDS["cover_page"], "n")
    rows = []
    names = dict(batch.step_names)
    colon = lang.typo("x:")[1:]
    for h in batch.handouts:
        rows.append(
            {
                "time": lang.clock(h.start) if h.timed else g("no time"),
                "date": lang.day(h.start.date()),
                "who": h.patient_name or h.patient_id or g("no name"),
                "area": areas(lang, h.areas),
                "language": language_name(lang, h.lang),
                "when": (
                    lang.grammar.appointment(h.start) if h.timed else lang.day(h.start.date())
                ),
                "steps": lang.joined(
                    [
                        lang._(
                            PDF_WORDS["step_from"],
                            name=names.get(i.rule, i.name),
                            day=lang.day(i.start.date()),
                        )
                        for i in h.late_items
                    ]
                ),
                "sep": colon,
            }
        )
    mixed = any(h.lang != lang for h in batch.handouts)
    return {
        "typst_lang": lang.code,
        "typst_region": typst_region(lang),
        "clinic": clinic_name(lang, batch.clinic.name),
        "lower": lang._(PDF_WORDS["made_on"], day=lang.day(batch.today)),
        "page": [page[0], *split_placeholders(page[1], "m")],
        "title": lang.day(batch.day) if batch.day else g(PDF_WORDS["all_appointments"]),
        "kicker": g(PDF_WORDS["cover_kicker"]),
        "facts": [
            [g(PDF_WORDS["appointments"]), str(len(batch.handouts))],
            [g(PDF_WORDS["made_on_label"]), lang.day(batch.today)],
        ],
        "important": g("Important"),
        "past_mark": g(PAST_MARK),
        "phone": _around(lang, PDF_WORDS["phone"], "phone"),
        "patients": g(PDF_WORDS["patients"]),
        "head": [g(PDF_WORDS[k]) for k in ("date", "time")]
        + [g("Patient"), g(PDF_WORDS["area"])]
        + ([g(PDF_WORDS["language"])] if mixed else []),
        "mixed": mixed,
        "rows": rows,
        "no_appointments": g(PDF_WORDS["no_appointments"]),
        "call_title": g("Call before the appointment"),
        "unchecked": g("Late bookings could not be checked: the schedule has no booking dates."),
        "not_checked": g(PDF_WORDS["not_checked"]),
        "to_call_intro": g(PDF_WORDS["to_call_intro"]),
        "phone_them": g(PDF_WORDS["phone_them"]),
        "nobody": g(PDF_WORDS["nobody"]),
        "rows_skipped": g(PDF_WORDS["rows_skipped"]),
        "none": g(PDF_WORDS["none"]),
        "left_out": g(PDF_WORDS["left_out"]),
    }
