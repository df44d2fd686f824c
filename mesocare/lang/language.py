"""One language and region: its dates and times (CLDR through Babel), its phrase grammar,
its gettext catalog and its typography.

``en-GB``, the default, formats dates from the same CLDR names without importing Babel (the
JSON path of ``prep`` stays as fast as before); a test checks it against Babel for every day
of several years. Every other locale imports Babel once, when first used, and keeps its
locale data for the rest of the process.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cached_property

from mesocare.lang.grammar import GRAMMARS, Grammar
from mesocare.lang.tags import DEFAULT_TAG, LANGUAGE_NAMES, Tag

# en-GB, the default, without Babel: CLDR's English names, pattern "EEEE d MMMM y" (as before)
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EN_GB_DATE_PATTERN = "EEEE d MMMM y"

NBSP = "\u00a0"
# French spacing, as patterns that ``re`` compiles (and keeps) the first time a French text
# needs them, not when every run starts.
# before : ; ! ? that end a word (10:30 and https:// are left alone: no space follows them)
_FR_BEFORE = r"(?<=[^\s(«])[ \u00a0]?([:;!?])(?=\s|$|»|\))"
# Quebec: a space only before the colon; none before ; ! ?
_FR_COLON = r"(?<=[^\s(«])[ \u00a0]?(:)(?=\s|$|»|\))"
_FR_CA_TIGHT = r"(?<=[^\s(«])[ \u00a0]+([;!?])(?=\s|$|»|\))"
_FR_OPEN = r"«[ \u00a0]*"
_FR_CLOSE = r"[ \u00a0]*»"

# the ordinal a language (or one region of it) writes after the first of the month
FIRST_OF_MONTH = {"fr": "er", "pt-BR": "º"}


class Language:
    """A locale mesocare writes in. Get one with :func:`mesocare.lang.get` (cached)."""

    def __init__(self, tag: Tag):
        self.tag = tag.tag  # "fr-CA"
        self.code = tag.language  # "fr"
        self.region = tag.region  # "CA"
        self.babel_name = tag.babel  # "fr_CA"
        self.is_default = self.tag == DEFAULT_TAG
        self.grammar: Grammar = GRAMMARS[self.code](self)
        self._days: dict[date, str] = {}
        self._clocks: dict[tuple[int, int], str] = {}

    def __repr__(self) -> str:
        return f"Language({self.tag!r})"

    def __eq__(self, other: object) -> bool:
        return self.tag == other.tag if isinstance(other, Language) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.tag)

    def __reduce__(self):
        """Pickled as its tag and looked up again on load (one Language per tag and process):
        a handout crosses to a worker process without its CLDR data, catalogs or memoised days."""
        return (_by_tag, (self.tag,))

    # ------------------------------------------------------------------ CLDR (Babel)
    @cached_property
    def locale(self):
        """The Babel locale (imports Babel, loads its data once)."""
        from babel import Locale

        return Locale.parse(self.babel_name)

    def check(self) -> Language:
        """Raise LanguageError when CLDR has no such locale (fr-XX)."""
        if self.is_default:
            return self
        from babel import UnknownLocaleError

        from mesocare.lang.tags import LanguageError

        try:
            self.locale  # noqa: B018 (loading the locale is the check)
        except (UnknownLocaleError, ValueError):
            raise LanguageError(
                f"'{self.tag}' is not a region mesocare knows for {LANGUAGE_NAMES[self.code]}: "
                f"write the language alone ({self.code}) or a region such as "
                f"{self.code}-{self.region_example}."
            ) from None
        return self

    @property
    def region_example(self) -> str:
        from mesocare.lang.tags import LANGUAGES

        return LANGUAGES[self.code]

    @property
    def english_name(self) -> str:
        return LANGUAGE_NAMES[self.code]

    @cached_property
    def display_name(self) -> str:
        """The language's own name for itself, from CLDR: français (Canada), Deutsch
        (Deutschland)."""
        if self.is_default:
            return "English (United Kingdom)"
        return self.locale.get_display_name(self.locale)

    def day(self, d: date) -> str:
        """A date written out in full: Friday 31 May 2024, vendredi 31 mai 2024, Friday, May 31,
        2024."""
        if self.is_default:
            return f"{_EN_DAYS[d.weekday()]} {d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
        d = date(d.year, d.month, d.day)  # a datetime would print as its date, and memoise apart
        text = self._days.get(d)
        if text is None:  # a batch asks for the same few days thousands of times
            from babel.dates import format_date

            text = self._days[d] = format_date(d, self._pattern("full", d), locale=self.locale)
        return text

    def _pattern(self, width: str, d: date):
        """CLDR's date pattern; French writes the first of the month as an ordinal (1er juin),
        and so does Brazil (1º de junho, where Portugal writes 1 de junho), which CLDR's
        patterns do not say: the one rule for it, here."""
        suffix = FIRST_OF_MONTH.get(self.code) or FIRST_OF_MONTH.get(f"{self.code}-{self.region}")
        if suffix is None or d.day != 1:
            return width
        pattern = self.locale.date_formats[width].pattern
        return re.sub(r"(?<![d'])d(?!d)", f"d'{suffix}'", pattern, count=1)

    def clock(self, t: datetime | time) -> str:
        """A time of day: 10:30, 10 h 30 (fr-CA), 10:30 AM (en-US)."""
        if isinstance(t, datetime):
            t = t.time()
        if self.is_default:
            return f"{t.hour:02d}:{t.minute:02d}"
        key = (t.hour, t.minute)
        text = self._clocks.get(key)
        if text is None:
            from babel.dates import format_time

            text = self._clocks[key] = format_time(
                time(t.hour, t.minute), "short", locale=self.locale
            )
        return text

    def short_day(self, d: date) -> str:
        """A compact date for tables: 10 Jun 2024, 10 juin 2024."""
        if self.is_default:
            return f"{d.day} {_EN_MONTHS[d.month - 1][:3]} {d.year}"
        from babel.dates import format_date

        return format_date(d, self._pattern("medium", d), locale=self.locale)

    def number(self, value: float) -> str:
        if self.is_default:
            return f"{value:g}"
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.locale)

    # ------------------------------------------------------------------ phrases
    def moment(self, dt: datetime) -> str:
        return self.grammar.moment(dt)

    def when(self, *args, **kwargs) -> str:
        return self.typo(self.grammar.when(*args, **kwargs))

    def joined(self, words) -> str:
        return self.grammar.joined(words)

    def appointment_words(self, start: datetime, timed: bool) -> str:
        """10:00 on Monday 10 June 2024 / lundi 10 juin 2024 à 10:00 (the day alone when
        untimed)."""
        if not timed:
            return self.day(start.date())
        return self.typo(self.grammar.appointment(start))

    # ------------------------------------------------------------------ gettext
    @cached_property
    def translations(self):
        from mesocare.lang.catalog import translations

        return translations(self)

    @cached_property
    def regional_english(self):
        """en-US and other English regions: their catalog of the strings they say another
        way (Call us at..., liters); None for en-GB, whose words are the msgids."""
        if self.is_default:
            return None
        from mesocare.lang.catalog import regional

        return regional(self.babel_name)

    def gettext(self, message: str) -> str:
        """A template or UI string in this language (the English msgid when English)."""
        if self.code == "en":
            cat = self.regional_english
            return cat.gettext(message) if cat is not None else message
        return self.typo(self.translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self.code == "en":
            cat = self.regional_english
            if cat is not None:
                return cat.ngettext(singular, plural, n)
            return singular if n == 1 else plural
        return self.typo(self.translations.ngettext(singular, plural, n))

    def _(self, message: str, **values) -> str:
        """gettext, then fill %(name)s placeholders."""
        text = self.gettext(message)
        return self.grammar.contract(text % values) if values else text

    def n_(self, singular: str, plural: str, n: int, **values) -> str:
        values.setdefault("num", n)
        return self.grammar.contract(self.ngettext(singular, plural, n) % values)

    # ------------------------------------------------------------------ typography
    def typo(self, text: str) -> str:
        """French: a non-breaking space before : ; ! ? and inside « » (France); in Quebec, before
        the colon only, and none before ; ! ? (the Office québécois de la langue française)."""
        if self.code != "fr" or not text:
            return text
        if self.region == "CA":
            text = re.sub(_FR_CA_TIGHT, r"\1", text)
        text = re.sub(_FR_COLON if self.region == "CA" else _FR_BEFORE, NBSP + r"\1", text)
        text = re.sub(_FR_OPEN, "«" + NBSP, text)
        return re.sub(_FR_CLOSE, NBSP + "»", text)


def _by_tag(tag: str) -> Language:
    """The process's Language for a canonical tag (unpickling)."""
    from mesocare.lang import get

    return get(tag)
