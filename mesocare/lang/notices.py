"""Sentences the core adds around the rules for the patient's safety, in the handout's
language: the emergency line beside the clinic's phone, the way out of "until your last
session" for a single session, a banner as one paragraph (issue 22)."""

from __future__ import annotations

from mesocare.banner import Banner
from mesocare.lang.language import Language

# the article a language repeats before each emergency number of a list (our translations put
# the first one in the sentence itself): French "le 15 ou le 112", Italian "il 118 o il 112"
REPEATED_ARTICLE = {"fr": "le", "it": "il"}


def course_unknown(lang: Language, text: str) -> str:
    """A step that lasts "until your last session" when the course is not known: a patient
    with one session (the course ends that day) is told it does not apply to them."""
    return lang.typo(
        text + " " + lang.gettext("If you have only one session, you can skip this step.")
    )


def emergency_line(lang: Language, numbers: tuple[str, ...]) -> str:
    """Public safety, on every handout: whom to call for a severe reaction (the numbers of the
    clinic's country, from ``instructions/emergency-numbers.json``; none known: "the
    emergency number")."""
    if numbers:
        from babel.lists import format_list

        # the sentence carries the first number's article ("appelez le %(number)s"); a language
        # that repeats it before each number gets it before the others too ("le 15 ou le 112")
        article = REPEATED_ARTICLE.get(lang.code)
        listed = [numbers[0], *(f"{article} {n}" if article else n for n in numbers[1:])]
        number = format_list(listed, style="or", locale=lang.locale)
        return lang._(
            "Emergency: if you have trouble breathing, swelling of the lips, tongue or throat, "
            "or you faint, call %(number)s at once.",
            number=number,
        )
    return lang.gettext(
        "Emergency: if you have trouble breathing, swelling of the lips, tongue or throat, "
        "or you faint, call the emergency number at once."
    )


def banner_text(lang: Language, banner: Banner) -> str:
    """The banner as one paragraph (JSON, the calendar): "lead a, b and c. Closing." """
    if not banner.steps:
        return banner.lead
    return lang.typo(f"{banner.lead} {lang.joined(list(banner.steps))}. {banner.closing}")
