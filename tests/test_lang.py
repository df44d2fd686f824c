"""The language layer: tags, CLDR dates and times, phrase grammar per language, typography."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mesocare import lang
from mesocare.errors import InputError
from mesocare.lang import ui
from mesocare.lang.language import EN_GB_DATE_PATTERN, NBSP

Z = ZoneInfo("Europe/Paris")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=Z)


@pytest.mark.parametrize(
    "given, tag",
    [
        (None, "en-GB"),
        ("en", "en-GB"),
        ("EN-us", "en-US"),
        ("fr", "fr-FR"),
        ("FR", "fr-FR"),
        ("fr_ca", "fr-CA"),
        ("fr-CA", "fr-CA"),
        ("es", "es-ES"),
        ("es-MX", "es-MX"),
        ("it", "it-IT"),
        ("pt", "pt-PT"),
        ("pt_BR", "pt-BR"),
        ("de", "de-DE"),
        ("de-AT", "de-AT"),
        ("fra", "fr-FR"),
        ("fre", "fr-FR"),
        ("spa", "es-ES"),
        ("ger", "de-DE"),
        ("por", "pt-PT"),
        (" it ", "it-IT"),
    ],
)
def test_tags(given, tag):
    assert lang.get(given).tag == tag


@pytest.mark.parametrize(
    "bad", ["xx", "nl", "klingon", "fr-", "fr-CA-x", "12", "f", "zh-Hans", "fr\x00"]
)
def test_unknown_languages_are_one_sentence(bad):
    with pytest.raises(lang.LanguageError) as e:
        lang.get(bad)
    assert isinstance(e.value, InputError) and e.value.exit_code == 1
    msg = str(e.value)
    assert msg.count("\n") == 0 and "en, fr, es, it, pt, de" in msg and "\x00" not in msg


def test_unknown_region_names_the_language():
    with pytest.raises(lang.LanguageError, match="not a region mesocare knows for French"):
        lang.get("fr-QQ")


@pytest.mark.parametrize(
    "tag, day, clock",
    [
        ("en-GB", "Friday 31 May 2024", "10:30"),
        ("en-US", "Friday, May 31, 2024", "10:30\u202fAM"),
        ("fr", "vendredi 31 mai 2024", "10:30"),
        ("fr-CA", "vendredi 31 mai 2024", "10 h 30"),
        ("es", "viernes, 31 de mayo de 2024", "10:30"),
        ("es-MX", "viernes, 31 de mayo de 2024", "10:30\u202fa.m."),
        ("it", "venerdì 31 maggio 2024", "10:30"),
        ("pt", "sexta-feira, 31 de maio de 2024", "10:30"),
        ("pt-BR", "sexta-feira, 31 de maio de 2024", "10:30"),
        ("de", "Freitag, 31. Mai 2024", "10:30"),
    ],
)
def test_dates_and_times_from_cldr(tag, day, clock):
    L = lang.get(tag)
    assert L.day(date(2024, 5, 31)) == day
    assert L.clock(time(10, 30)) == clock


def test_default_english_matches_cldr_without_importing_babel():
    """en-GB is written without Babel (fast start-up) but must say exactly what CLDR says."""
    from babel.dates import format_date, format_time

    L = lang.get("en-GB")
    d = date(2023, 1, 1)
    while d < date(2026, 1, 1):
        assert L.day(d) == format_date(d, EN_GB_DATE_PATTERN, locale="en_GB")
        d += timedelta(days=1)
    for hh in range(24):
        for mm in (0, 5, 30, 59):
            assert L.clock(time(hh, mm)) == format_time(time(hh, mm), "short", locale="en_GB")


def test_default_language_never_imports_babel():
    code = (
        "import sys; from datetime import date, datetime; from mesocare import lang; "
        "L = lang.get(None); L.day(date(2024, 5, 31)); L.clock(datetime(2024, 5, 31, 10)); "
        "L.when('before', datetime(2024, 5, 31), None, "
        "datetime(2024, 6, 10), datetime(2024, 6, 10)); "
        "print(any(m == 'babel' or m.startswith('babel.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_one_language_object_and_locale_per_process():
    assert lang.get("fr") is lang.get("fr-FR") is lang.get("FR_fr")
    L = lang.get("de")
    assert L.locale is L.locale


APPT = at(2024, 6, 10, 10, 30)
APPT_END = at(2024, 6, 10, 11, 0)
# (phase, start, end, open_end, until_appointment) for each shape of instruction
SHAPES = {
    "before-days": ("before", at(2024, 5, 31), APPT, False, False),
    "before-hours": ("before", at(2024, 6, 9, 10, 30), APPT, False, False),
    "day": ("day", at(2024, 6, 10), at(2024, 6, 11), False, False),
    "day-until": ("day", at(2024, 6, 10), APPT, False, True),
    "after-days": ("after", APPT_END, at(2024, 6, 13), False, False),
    "after-hours": ("after", APPT_END, at(2024, 6, 12, 11, 0), False, False),
    "chained": ("after", at(2024, 6, 12, 11, 0), at(2024, 6, 25), False, False),
    "open": ("after", at(2024, 6, 11), None, True, False),
}
EXPECTED = {
    "en-GB": {
        "before-days": "From Friday 31 May 2024",
        "before-hours": "From 10:30 on Sunday 9 June 2024",
        "day": "On Monday 10 June 2024",
        "day-until": "On Monday 10 June 2024, before your appointment at 10:30",
        "after-days": "Until the end of Wednesday 12 June 2024",
        "after-hours": "Until 11:00 on Wednesday 12 June 2024",
        "chained": "From 11:00 on Wednesday 12 June 2024 until the end of Monday 24 June 2024",
        "open": "From Tuesday 11 June 2024 until your last session",
    },
    "en-US": {
        "before-days": "From Friday, May 31, 2024",
        "day-until": "On Monday, June 10, 2024, before your appointment at 10:30\u202fAM",
        "after-hours": "Until 11:00\u202fAM on Wednesday, June 12, 2024",
    },
    "fr": {
        "before-days": "À partir du vendredi 31 mai 2024",
        "before-hours": "À partir du dimanche 9 juin 2024 à 10:30",
        "day": "Le lundi 10 juin 2024",
        "day-until": "Le lundi 10 juin 2024, avant votre rendez-vous de 10:30",
        "after-days": "Jusqu'à la fin du mercredi 12 juin 2024",
        "after-hours": "Jusqu'au mercredi 12 juin 2024 à 11:00",
        "chained": "Du mercredi 12 juin 2024 à 11:00 jusqu'à la fin du lundi 24 juin 2024",
        "open": "À partir du mardi 11 juin 2024 jusqu'à votre dernière séance",
    },
    "fr-CA": {"after-hours": "Jusqu'au mercredi 12 juin 2024 à 11 h 00"},
    "es": {
        "before-days": "A partir del viernes, 31 de mayo de 2024",
        "before-hours": "A partir de las 10:30 del domingo, 9 de junio de 2024",
        "day": "El lunes, 10 de junio de 2024",
        "day-until": "El lunes, 10 de junio de 2024, antes de su cita de las 10:30",
        "after-days": "Hasta el final del miércoles, 12 de junio de 2024",
        "after-hours": "Hasta las 11:00 del miércoles, 12 de junio de 2024",
        "chained": (
            "Desde las 11:00 del miércoles, 12 de junio de 2024 hasta el final del lunes, "
            "24 de junio de 2024"
        ),
        "open": "A partir del martes, 11 de junio de 2024 hasta su última sesión",
    },
    "it": {
        "before-days": "Da venerdì 31 maggio 2024",
        "before-hours": "Dalle 10:30 di domenica 9 giugno 2024",
        "day": "Lunedì 10 giugno 2024",
        "day-until": "Lunedì 10 giugno 2024, prima dell'appuntamento delle 10:30",
        "after-days": "Fino alla fine di mercoledì 12 giugno 2024",
        "after-hours": "Fino alle 11:00 di mercoledì 12 giugno 2024",
        "chained": (
            "Dalle 11:00 di mercoledì 12 giugno 2024 fino alla fine di lunedì 24 giugno 2024"
        ),
        "open": "Da martedì 11 giugno 2024 fino all'ultima seduta",
    },
    "pt": {
        "before-days": "A partir de sexta-feira, 31 de maio de 2024",
        "before-hours": "A partir das 10:30 de domingo, 9 de junho de 2024",
        "day": "Na segunda-feira, 10 de junho de 2024",
        "day-until": "Na segunda-feira, 10 de junho de 2024, antes da sua consulta das 10:30",
        "after-days": "Até ao fim de quarta-feira, 12 de junho de 2024",
        "after-hours": "Até às 11:00 de quarta-feira, 12 de junho de 2024",
        "chained": (
            "Das 11:00 de quarta-feira, 12 de junho de 2024 até ao fim de segunda-feira, "
            "24 de junho de 2024"
        ),
        "open": "A partir de terça-feira, 11 de junho de 2024 até à sua última sessão",
    },
    "pt-BR": {
        "after-days": "Até o fim de quarta-feira, 12 de junho de 2024",
        "after-hours": "Até as 11:00 de quarta-feira, 12 de junho de 2024",
        "open": "A partir de terça-feira, 11 de junho de 2024 até a sua última sessão",
    },
    "de": {
        "before-days": "Ab Freitag, 31. Mai 2024",
        "before-hours": "Ab Sonntag, 9. Juni 2024, 10:30 Uhr",
        "day": "Am Montag, 10. Juni 2024",
        "day-until": "Am Montag, 10. Juni 2024, vor Ihrem Termin um 10:30 Uhr",
        "after-days": "Bis einschließlich Mittwoch, 12. Juni 2024",
        "after-hours": "Bis Mittwoch, 12. Juni 2024, 11:00 Uhr",
        "chained": (
            "Von Mittwoch, 12. Juni 2024, 11:00 Uhr bis einschließlich Montag, 24. Juni 2024"
        ),
        "open": "Ab Dienstag, 11. Juni 2024 bis zu Ihrer letzten Sitzung",
    },
}
CASES = [(tag, shape, text) for tag, table in EXPECTED.items() for shape, text in table.items()]


@pytest.mark.parametrize("tag, shape, expected", CASES, ids=[f"{t}-{s}" for t, s, _ in CASES])
def test_phrase_grammar(tag, shape, expected):
    phase, start, end, open_end, until = SHAPES[shape]
    got = lang.get(tag).when(
        phase, start, end, APPT, APPT_END, open_end=open_end, until_appointment=until
    )
    assert got == expected


def test_untimed_day_before_appointment():
    for tag, text in [
        ("en", "On Monday 10 June 2024, before your appointment"),
        ("fr", "Le lundi 10 juin 2024, avant votre rendez-vous"),
        ("de", "Am Montag, 10. Juni 2024, vor Ihrem Termin"),
    ]:
        got = lang.get(tag).when(
            "day",
            at(2024, 6, 10),
            at(2024, 6, 10),
            at(2024, 6, 10),
            at(2024, 6, 11),
            until_appointment=True,
            timed=False,
        )
        assert got == text


@pytest.mark.parametrize(
    "tag, hh, expected",
    [
        ("es", 1, "Hasta la 1:00 del miércoles, 12 de junio de 2024"),  # la una, not las
        ("es", 13, "Hasta las 13:00 del miércoles, 12 de junio de 2024"),
        ("es-MX", 13, "Hasta la 1:00\u202fp.m. del miércoles, 12 de junio de 2024"),
        ("it", 1, "Fino all'01:00 di mercoledì 12 giugno 2024"),  # all'una
        ("pt", 1, "Até à 01:00 de quarta-feira, 12 de junho de 2024"),
        ("pt-BR", 1, "Até a 01:00 de quarta-feira, 12 de junho de 2024"),
    ],
)
def test_one_oclock_is_singular(tag, hh, expected):
    assert lang.get(tag).when("after", APPT_END, at(2024, 6, 12, hh), APPT, APPT_END) == expected


def test_portuguese_weekend_days_are_masculine():
    L = lang.get("pt")
    assert (
        L.when("day", at(2024, 6, 15), at(2024, 6, 16), APPT, APPT_END)
        == "No sábado, 15 de junho de 2024"
    )
    assert (
        L.when("day", at(2024, 6, 16), at(2024, 6, 17), APPT, APPT_END)
        == "No domingo, 16 de junho de 2024"
    )
    assert (
        L.when("day", at(2024, 6, 14), at(2024, 6, 15), APPT, APPT_END)
        == "Na sexta-feira, 14 de junho de 2024"
    )


@pytest.mark.parametrize(
    "tag, words, expected",
    [
        ("en", ["aspirin", "ibuprofen", "naproxen"], "aspirin, ibuprofen and naproxen"),
        ("fr", ["a", "b"], "a et b"),
        ("es", ["aspirina", "ibuprofeno"], "aspirina e ibuprofeno"),  # y -> e before an i sound
        ("es", ["agua", "hierbas"], "agua y hierbas"),  # hie- is not an i sound
        ("es", ["agua", "hígado"], "agua e hígado"),
        ("it", ["caffè", "energia"], "caffè ed energia"),
        ("pt", ["a", "b"], "a e b"),
        ("de", ["a", "b", "c"], "a, b und c"),
    ],
)
def test_lists(tag, words, expected):
    assert lang.get(tag).joined(words) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Téléphone : 01", f"Téléphone{NBSP}: 01"),
        ("Téléphone: 01", f"Téléphone{NBSP}: 01"),
        ("Vraiment ? Oui !", f"Vraiment{NBSP}? Oui{NBSP}!"),
        ("a ; b", f"a{NBSP}; b"),
        ("« bonjour »", f"«{NBSP}bonjour{NBSP}»"),
        ("«bonjour»", f"«{NBSP}bonjour{NBSP}»"),
        ("à 10:30 le lundi", "à 10:30 le lundi"),  # times keep their colon
        ("https://example.org", "https://example.org"),
    ],
)
def test_french_typography(text, expected):
    assert lang.get("fr").typo(text) == expected
    assert lang.get("de").typo(text) == text  # only French


def test_catalog_strings_are_typeset_in_french():
    assert lang.get("fr").gettext("Phone: %(phone)s") == f"Téléphone{NBSP}: %(phone)s"
    assert lang.get("en").gettext("Phone: %(phone)s") == "Phone: %(phone)s"


def test_regional_catalog_over_its_language():
    assert lang.get("pt-BR").gettext("Call us if") == "Ligue para nós se"
    assert (
        lang.get("pt-BR").gettext("What to expect")
        == lang.get("pt").gettext("What to expect")
        == "O que esperar"
    )


def test_a_string_missing_from_a_catalog_is_an_error_not_english():
    from mesocare.lang.catalog import MissingTranslation

    with pytest.raises(MissingTranslation, match="French catalog has no text"):
        lang.get("fr").gettext("A sentence nobody translated.")


@pytest.mark.parametrize(
    "tag, ahead, expected",
    [
        ("en", 0, "the day of your appointment"),
        ("en", 1, "1 day before your appointment"),
        ("en", 7, "7 days before your appointment"),
        ("fr", 1, "1 jour avant votre rendez-vous"),
        ("fr", 7, "7 jours avant votre rendez-vous"),
        ("de", 1, "1 Tag vor Ihrem Termin"),
        ("de", 2, "2 Tage vor Ihrem Termin"),
    ],
)
def test_late_banner_plurals(tag, ahead, expected):
    from mesocare.lang import notices

    text = notices.banner_text(
        lang.get(tag), ui.late_banner(lang.get(tag), date(2024, 6, 3), ahead, ["x"], None)
    )
    assert expected in text


def test_areas_in_each_language():
    assert ui.areas(lang.get("en"), ["face", "neck"]) == "face; neck and décolletage"
    assert ui.areas(lang.get("en"), ["face", "hands"]) == "face and hands"
    assert ui.areas(lang.get("fr"), ["face", "hands"]) == "visage et mains"
    assert ui.areas(lang.get("de"), ["face", "neck"]) == "Gesicht; Hals und Dekolleté"


# ----------------------------------------------------------------------------- native dates
@pytest.mark.parametrize("tag", ["fr", "fr-CA"])
def test_the_first_of_the_month_is_an_ordinal_in_french(tag):
    from datetime import date as day

    from mesocare import lang

    L = lang.get(tag)
    for month in range(1, 13):
        assert L.day(day(2025, month, 1)).split()[1] == "1er", L.day(day(2025, month, 1))
        assert L.short_day(day(2025, month, 1)).startswith("1er "), L.short_day(day(2025, month, 1))
    for d in (11, 21, 31):
        assert "er" not in L.day(day(2025, 1, d)).split()[1]
    assert lang.get("es").day(day(2025, 6, 1)) == "domingo, 1 de junio de 2025"


def test_brazil_writes_the_first_of_the_month_as_an_ordinal_and_portugal_does_not():
    from datetime import date as day

    from mesocare import lang

    brazil, portugal = lang.get("pt-BR"), lang.get("pt")
    for month in range(1, 13):
        assert " 1º de " in brazil.day(day(2025, month, 1)), brazil.day(day(2025, month, 1))
        assert "º" not in portugal.day(day(2025, month, 1))
    assert brazil.day(day(2024, 6, 1)) == "sábado, 1º de junho de 2024"
    assert brazil.day(day(2024, 6, 11)) == "terça-feira, 11 de junho de 2024"


@pytest.mark.parametrize("tag", ["pt", "pt-BR"])
def test_portuguese_contracts_em_before_a_weekday(tag):
    from datetime import date as day

    from mesocare import lang

    L = lang.get(tag)
    articles = {0: "na", 1: "na", 2: "na", 3: "na", 4: "na", 5: "no", 6: "no"}
    for offset in range(7):
        d = day(2024, 6, 3 + offset)  # Monday 3 June 2024 onwards
        said = L._("The course ends on %(day)s.", day=L.day(d))
        assert f" {articles[d.weekday()]} {L.day(d)}" in said, said
        assert " em " not in said
    # a sentence that starts with the date keeps its capital
    assert L.grammar.contract("Em sábado, 1 de junho") == "No sábado, 1 de junho"
    assert L.grammar.contract("em 2024") == "em 2024"


def test_english_regions_have_their_own_words():
    from mesocare import lang

    us, gb = lang.get("en-US"), lang.get("en-GB")
    assert us._("Call us on %(phone)s.", phone="555 0100") == "Call us at 555 0100."
    assert gb._("Call us on %(phone)s.", phone="020 7946 0000") == "Call us on 020 7946 0000."
    assert us.gettext("What to expect") == "What to expect"  # the msgid where the US says it alike


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("fr", "Des questions\u00a0? Appelez\u00a0: 10:30\u00a0; oui\u00a0! «\u00a0ok\u00a0»"),
        ("fr-CA", "Des questions? Appelez\u00a0: 10:30; oui! «\u00a0ok\u00a0»"),
    ],
)
def test_french_punctuation_is_spaced_as_france_and_quebec_each_write_it(tag, expected):
    """France: a non-breaking space before : ; ! ?; Quebec (OQLF): before the colon only."""
    from mesocare import lang

    assert lang.get(tag).typo("Des questions ? Appelez : 10:30 ; oui ! « ok »") == expected


@pytest.mark.parametrize(
    "tag, numbers, said",
    [
        ("fr", ("15", "112"), "appelez immédiatement le 15 ou le 112."),
        ("it", ("118", "112"), "chiami subito il 118 o il 112."),
        ("en", ("999", "112"), "call 999 or 112 at once."),
        ("fr-CA", ("911",), "appelez immédiatement le 911."),
    ],
)
def test_each_emergency_number_has_its_article_where_the_language_repeats_it(tag, numbers, said):
    from mesocare import lang
    from mesocare.lang.notices import emergency_line

    assert emergency_line(lang.get(tag), numbers).endswith(said)
