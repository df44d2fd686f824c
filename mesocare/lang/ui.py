"""The sentences the core and the renderers put around the rules: banners, section titles,
the footer, the cover sheet, calendar words. Each goes through the gettext catalog of the
handout's language (the msgids are today's English, so en-GB output is unchanged).

Templates say their own words with ``{{ _("...") }}``; this module holds the ones built in
Python. ``N_`` marks a string for extraction without translating it there.
"""

from __future__ import annotations

from datetime import date

from mesocare.lang.language import Language
from mesocare.model import Banner


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
        + " " + lang.gettext("These steps had already started:"),
        steps=tuple(steps),
        closing=lang._(
            "Call us on %(phone)s before your appointment so we can check what to do.", phone=phone
        )
        if phone
        else lang._("Call us before your appointment so we can check what to do."),
    )


def call_line(lang: Language, phone: str | None) -> str:
    return lang._("Our phone number is %(phone)s.", phone=phone) if phone else lang._("Call the clinic.")


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
        "Translation: %(by)s, %(on)s; it still needs review by a clinician who reads this language.",
        by=lang.gettext(record.get("by", "")) if record.get("by") == MACHINE_ASSISTED else record.get("by", ""),
        on=lang.day(date.fromisoformat(record["date"])) if record.get("date") else "",
    )


MACHINE_ASSISTED = N_("machine-assisted translation by the mesocare team")


# ----------------------------------------------------------------------------- cover sheet
def cover_words(lang: Language) -> dict[str, str]:
    return {
        "no_time": lang.gettext("no time"),
        "no_name": lang.gettext("no name"),
        "unchecked": lang.gettext("Late bookings could not be checked: the schedule has no booking dates."),
    }


def cover_title(lang: Language, day: date | None) -> str:
    return lang._("Appointments on %(day)s", day=lang.day(day)) if day else lang.gettext("Appointments")


def handout_count(lang: Language, n: int) -> str:
    return lang.n_("%(num)d handout", "%(num)d handouts", n)


PAST_MARK = N_("(past)")


def past_warning(lang: Language, count: int) -> str:
    """The cover sheet's warning when some appointments are before today."""
    return lang.n_(
        "%(num)d appointment is in the past (marked past): check its date before you give out its handout.",
        "%(num)d appointments are in the past (marked past): check their dates before you give out their handouts.",
        count,
    )


def made_on(lang: Language, day: date) -> str:
    return lang._("Made on %(day)s.", day=lang.day(day))


# ----------------------------------------------------------------------------- PDF (Typst)
PDF_TITLES = (N_("Mesotherapy handouts"),)
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


def split_placeholders(text: str, *names: str) -> list[str]:
    """"Page %(n)s of %(m)s" -> ["Page ", " of ", ""] (for Typst, which fills in counters)."""
    import re

    parts = re.split(r"%\((?:" + "|".join(names) + r")\)s", text)
    return parts


# ----------------------------------------------------------------------------- calendar (.ics)
ICS_WORDS = {
    "calname": N_("Mesotherapy care plan"),
    "calname_batch": N_("Mesotherapy care plans"),
    "before": N_("Before treatment"),
    "day": N_("Treatment day"),
    "after": N_("Aftercare"),
    "see_details": N_("%(label)s: %(name)s - see details"),
    "questions": N_("Questions: call %(clinic)s on %(phone)s."),
    "appointment_timed": N_("Your %(technique)s appointment (%(areas)s), %(start)s to %(end)s on %(day)s."),
    "appointment_untimed": N_(
        "Your %(technique)s appointment (%(areas)s) on %(day)s. No time was given: check it with the clinic."
    ),
    "clinic_phone": N_("Clinic: %(clinic)s, phone %(phone)s."),
    "clinic": N_("Clinic: %(clinic)s."),
    "summary": N_("Mesotherapy appointment at %(clinic)s"),
    "tomorrow_at": N_("Tomorrow at %(time)s: your mesotherapy appointment at %(clinic)s."),
    "tomorrow": N_("Tomorrow: your mesotherapy appointment at %(clinic)s."),
    "said": N_("%(when)s: %(text)s"),
    "treatment_tomorrow": N_("Tomorrow is your treatment day. %(said)s"),
    "over": N_("This aftercare step is over from %(moment)s."),  # translations may use %(from)s
    "resume_today": N_("This step ends today. %(resume)s"),
    "resume_now": N_("This step ends now. %(resume)s"),
    "over_today": N_("This step ends today: %(name)s."),
    "over_now": N_("This step ends now: %(name)s."),
    "end_of": N_("End of aftercare: %(name)s"),
}


def typst_region(lang: Language) -> str | None:
    """Typst takes an ISO 3166-1 alpha-2 region (fr-CA -> "ca"); es-419 has none."""
    return lang.region.lower() if lang.region.isalpha() else None


def language_name(lang: Language, tag: str) -> str:
    """A handout's language as the cover sheet's reader says it: "French (Canada)" in English,
    "francés (Canadá)" in Spanish (CLDR's names)."""
    from mesocare import lang as languages

    if lang.is_default and tag == lang.tag:
        return lang.display_name
    return languages.get(tag).locale.get_display_name(lang.locale)


def _around(lang: Language, message: str, name: str) -> list[str]:
    """A sentence cut around one placeholder, for Typst to put a bold value or a counter in."""
    return split_placeholders(lang.gettext(message), name)


def pdf_handout_words(h) -> dict:
    """Every word one PDF handout prints besides the rule texts, in its language."""
    from mesocare import lang as languages

    lang = languages.get(h.language)
    g = lang.gettext
    page = _around(lang, PDF_WORDS["page"], "n")
    made = lang._(
        PDF_WORDS["made_reviewed"] if h.reviewed_on else PDF_WORDS["made"],
        day=lang.day(h.today), version=h.rules_version[:12],
        reviewed=lang.day(h.reviewed_on) if h.reviewed_on else "",
    )
    signed = (lang._("reviewed by %(name)s", name=h.clinic.reviewed_by) if h.clinic.reviewed_by
              else lang.gettext("not yet reviewed by a clinician"))
    extra = []
    if h.clinic_rules:
        extra.append(g("Includes the clinic's own rules."))
    if not lang.is_default:
        extra.append(lang._("Language: %(language)s.", language=lang.display_name))
    if h.translation:
        extra.append(h.translation)
    return {
        "typst_lang": lang.code,
        "typst_region": typst_region(lang),
        "hyphenate": not lang.is_default,
        "clinic": clinic_name(lang, h.clinic.name),
        "date": lang.day(h.start.date()),
        "time": lang.clock(h.start) if h.timed else None,
        "areas": areas(lang, h.areas),
        "technique": technique(lang, h.technique),
        "lower": lang.day(h.start.date()) + " · " + lang._(PDF_WORDS["rule_set"], version=h.rules_version[:12]),
        "page": [page[0], *split_placeholders(page[1], "m")],
        "patient_id": lang._(PDF_WORDS["patient_id"], id=h.patient_id or ""),
        "labels": {k: g(PDF_WORDS[k]) for k in ("date", "time", "area", "treatment")},
        "titles": {
            "before": g(SECTION_TITLES["before"]), "day": g(PDF_WORDS["on_the_day"]), "after": g(SECTION_TITLES["after"]),
            "expect": g(SECTION_TITLES["expect"]), "talk-first": g(SECTION_TITLES["talk-first"]),
            "call-us": g(SECTION_TITLES["call-us"]),
        },
        "phone": _around(lang, PDF_WORDS["phone"], "phone"),
        "kicker": g(PDF_WORDS["kicker"]),
        "name": g(PDF_WORDS["name"]),
        "read_first": g(PDF_WORDS["read_first"]),
        "tags": {"late": g(PDF_WORDS["late_tag"]), "clinic": g(PDF_WORDS["clinic_tag"])},
        "when": g(PDF_WORDS["when"]),
        "what": g(PDF_WORDS["what"]),
        "call": (lang._(PDF_WORDS["call_on"], phone=h.clinic.phone) if h.clinic.phone else g(PDF_WORDS["call_clinic"])),
        "emergency": h.emergency,
        "read": g(PDF_WORDS["read"]),
        "signature": g(PDF_WORDS["signature"]),
        "made": lang.typo(" ".join([made[:-1] + "; " + signed + ".", *extra])),
    }


def pdf_cover_words(batch) -> dict:
    """Every word the PDF cover sheet prints, in the clinic's language (it is for the nurse)."""
    from mesocare import lang as languages

    lang = languages.get(batch.clinic.language)
    g = lang.gettext
    page = _around(lang, PDF_WORDS["cover_page"], "n")
    rows = []
    names = dict(batch.step_names)
    colon = lang.typo("x:")[1:]
    for h in batch.handouts:
        rows.append({
            "time": lang.clock(h.start) if h.timed else g("no time"),
            "date": lang.day(h.start.date()),
            "who": h.patient_name or h.patient_id or g("no name"),
            "area": areas(lang, h.areas),
            "language": language_name(lang, h.language),
            "when": (lang.grammar.appointment(h.start) if h.timed else lang.day(h.start.date())),
            "steps": lang.joined([lang._(PDF_WORDS["step_from"], name=names.get(i.rule, i.name), day=lang.day(i.start.date()))
                                  for i in h.late_items]),
            "sep": colon,
        })
    mixed = any(h.language != lang.tag for h in batch.handouts)
    return {
        "typst_lang": lang.code,
        "typst_region": typst_region(lang),
        "clinic": clinic_name(lang, batch.clinic.name),
        "lower": lang._(PDF_WORDS["made_on"], day=lang.day(batch.today)),
        "page": [page[0], *split_placeholders(page[1], "m")],
        "title": lang.day(batch.day) if batch.day else g(PDF_WORDS["all_appointments"]),
        "kicker": g(PDF_WORDS["cover_kicker"]),
        "facts": [[g(PDF_WORDS["appointments"]), str(len(batch.handouts))], [g(PDF_WORDS["made_on_label"]), lang.day(batch.today)]],
        "important": g("Important"),
        "past_mark": g(PAST_MARK),
        "phone": _around(lang, PDF_WORDS["phone"], "phone"),
        "patients": g(PDF_WORDS["patients"]),
        "head": [g(PDF_WORDS[k]) for k in ("date", "time")] + [g("Patient"), g(PDF_WORDS["area"])]
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


# ----------------------------------------------------------------------------- mesocare plan
def _weekday(lang: Language, index: int) -> str:
    return lang.locale.days["format"]["wide"][index]


def plan_closed_reason(lang: Language, day: date, clinic) -> str:
    """Why a session moved, in the plan's language (holiday names in it where the holidays package has them)."""
    if day.weekday() in clinic.closed_weekdays:
        return lang._("closed on %(weekday)s", weekday=_weekday(lang, day.weekday()))
    if clinic.holidays_country:
        from mesocare.plan import holiday_name

        name = holiday_name(day, clinic, lang.tag)
        if name:
            return lang._("public holiday: %(name)s", name=name)
    return lang.gettext("closed")


def plan_lines(lang: Language, course, interval, clinic) -> list[str]:
    """The text of ``mesocare plan`` in a language other than the default."""
    head = lang.n_("%(num)d session", "%(num)d sessions", course.count)
    if interval:
        n, unit = interval
        if n == 1:  # "every week", not "every 1 week" (German "jede Woche", not "alle 1 Woche")
            every = {"d": lang.gettext("every day"), "w": lang.gettext("every week"), "m": lang.gettext("every month")}[unit]
        else:
            every = {
                "d": lang.n_("every %(num)d day", "every %(num)d days", n),
                "w": lang.n_("every %(num)d week", "every %(num)d weeks", n),
                "m": lang.n_("every %(num)d month", "every %(num)d months", n),
            }[unit]
        head += ", " + every
    parts = []
    if clinic.closed_weekdays:
        parts.append(lang._("closed on %(weekday)s", weekday=lang.joined([_weekday(lang, d) for d in sorted(clinic.closed_weekdays)])))
    if clinic.holidays_country:
        region = f"-{clinic.holidays_subdiv}" if clinic.holidays_subdiv else ""
        parts.append(lang._("public holidays of %(country)s", country=clinic.holidays_country + region))
    closed = lang.joined(parts) if parts else lang.gettext("no closed days set")
    lines = [lang.typo(f"{head}; {closed}.")]
    for s in course.sessions:
        line = f"{s.number:>3}  {lang.day(s.date)}"
        if s.moved_from:
            reason = (plan_closed_reason(lang, s.moved_from, clinic) if s.reason != "after the previous session"
                      else lang.gettext("after the previous session"))
            line += "  " + lang._("(moved from %(day)s: %(reason)s)", day=lang.day(s.moved_from), reason=reason)
        lines.append(line)
    if course.end:
        lines.append(lang._("The course ends on %(day)s.", day=lang.day(course.end)))
    return lines
