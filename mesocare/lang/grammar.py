"""The phrases around dates, written per language: "From Friday 31 May 2024",
"À partir du vendredi 31 mai 2024", "A partir de las 10:30 del miércoles, 12 de junio de 2024",
"Bis einschließlich Montag, 24. Juni 2024".

Each language has its own class, so articles, prepositions and contractions follow that
language's grammar (French ``du``/``jusqu'au``, Spanish ``del`` and ``la 1:00``/``las 10:30``,
Italian ``dalle``/``dall'1:00``, Portuguese ``na segunda-feira``/``no sábado``, German ``Uhr``),
instead of English word order with foreign words. The dates and times themselves come from
the language object (CLDR through Babel).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Protocol


class Dates(Protocol):
    """What a grammar takes from its language (``language.Language``): days and times in words."""

    @property
    def region(self) -> str: ...

    def day(self, d: date) -> str: ...

    def clock(self, dt: datetime) -> str: ...


def is_midnight(dt: datetime) -> bool:
    return dt.hour == 0 and dt.minute == 0


def _same(a: datetime, b: datetime) -> bool:
    """The same instant (not just the same wall time)."""
    return a.timestamp() == b.timestamp()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Grammar:
    """English (en-GB, en-US): today's wording."""

    def __init__(self, lang: Dates):
        self.lang = lang

    # the pieces each language words its own way
    def day(self, d: date) -> str:
        return self.lang.day(d)

    def clock(self, dt: datetime) -> str:
        return self.lang.clock(dt)

    def moment(self, dt: datetime) -> str:
        """A start: a day at midnight, else a time on a day."""
        return (
            self.day(dt.date()) if is_midnight(dt) else f"{self.clock(dt)} on {self.day(dt.date())}"
        )

    def end_moment(self, dt: datetime) -> str:
        if is_midnight(dt):
            return f"the end of {self.day(dt.date() - timedelta(days=1))}"
        return f"{self.clock(dt)} on {self.day(dt.date())}"

    def appointment(self, dt: datetime) -> str:
        """The appointment's time and day: 10:00 on Monday 10 June 2024."""
        return f"{self.clock(dt)} on {self.day(dt.date())}"

    def from_(self, start: datetime) -> str:
        return f"From {self.moment(start)}"

    def on_day(self, d: date, appointment: datetime | None) -> str:
        return f"On {self.day(d)}"

    def before_appointment(self, appointment: datetime | None) -> str:
        return (
            f", before your appointment at {self.clock(appointment)}"
            if appointment
            else ", before your appointment"
        )

    def until(self, end: datetime) -> str:
        return f"Until {self.end_moment(end)}"

    def from_until(self, start: datetime, end: datetime) -> str:
        return f"From {self.moment(start)} until {self.end_moment(end)}"

    def open_end(self) -> str:
        return " until your last session"

    def conjunction(self, next_word: str) -> str:
        return "and"

    def contract(self, text: str) -> str:
        """A filled-in sentence with this language's contractions around the dates put in
        (Portuguese "em sábado" -> "no sábado"); most languages need none."""
        return text

    # composition (the same for every language)
    def joined(self, words) -> str:
        """a, b and c"""
        words = list(words)
        if len(words) <= 1:
            return "".join(words)
        return ", ".join(words[:-1]) + f" {self.conjunction(words[-1])} " + words[-1]

    def when(
        self,
        phase: str,
        start: datetime,
        end: datetime | None,
        appt_start: datetime,
        appt_end: datetime,
        open_end: bool = False,
        until_appointment: bool = False,
        timed: bool = True,
    ) -> str:
        """The dates of one instruction. ``open_end``: the end is the (unknown) last session."""
        if phase == "before":
            return self.from_(start)
        if phase == "day":
            text = self.on_day(start.date(), appt_start if timed else None)
            if until_appointment:
                text += self.before_appointment(appt_start if timed else None)
            return text
        if end is None:
            return self.from_(start) + (self.open_end() if open_end else "")
        if _same(start, appt_end):
            return self.until(end)
        return self.from_until(start, end)


class French(Grammar):
    """Days are masculine: du vendredi, jusqu'au lundi, jusqu'à la fin du lundi."""

    def _at(self, dt: datetime) -> str:
        return "" if is_midnight(dt) else f" à {self.clock(dt)}"

    def _end(self, dt: datetime) -> str:
        if is_midnight(dt):
            return f"la fin du {self.day(dt.date() - timedelta(days=1))}"
        return f"{self.day(dt.date())} à {self.clock(dt)}"

    def appointment(self, dt):
        return f"{self.day(dt.date())} à {self.clock(dt)}"

    def from_(self, start):
        return f"À partir du {self.day(start.date())}{self._at(start)}"

    def on_day(self, d, appointment):
        return f"Le {self.day(d)}"

    def before_appointment(self, appointment):
        return (
            f", avant votre rendez-vous de {self.clock(appointment)}"
            if appointment
            else ", avant votre rendez-vous"
        )

    def _until(self, end):
        return f"jusqu'à {self._end(end)}" if is_midnight(end) else f"jusqu'au {self._end(end)}"

    def until(self, end):
        return _cap(self._until(end))

    def from_until(self, start, end):
        return f"Du {self.day(start.date())}{self._at(start)} {self._until(end)}"

    def open_end(self):
        return " jusqu'à votre dernière séance"

    def conjunction(self, next_word):
        return "et"


def _one_oclock(clock: str) -> bool:
    """1:05, 01:05, 1:05 p. m.: an hour read as "one" (singular article)."""
    return re.match(r"0?1\D", clock) is not None


class Spanish(Grammar):
    """del viernes; las 10:30 but la 1:00; y becomes e before an i sound."""

    def _hour(self, dt: datetime, prep: str = "") -> str:
        c = self.clock(dt)
        art = "la" if _one_oclock(c) else "las"
        return f"{prep}{art} {c}"

    def appointment(self, dt):
        return f"{self.day(dt.date())}, a {self._hour(dt)}"

    def from_(self, start):
        if is_midnight(start):
            return f"A partir del {self.day(start.date())}"
        return f"A partir de {self._hour(start)} del {self.day(start.date())}"

    def on_day(self, d, appointment):
        return f"El {self.day(d)}"

    def before_appointment(self, appointment):
        return (
            f", antes de su cita de {self._hour(appointment)}"
            if appointment
            else ", antes de su cita"
        )

    def _until(self, end):
        if is_midnight(end):
            return f"hasta el final del {self.day(end.date() - timedelta(days=1))}"
        return f"hasta {self._hour(end)} del {self.day(end.date())}"

    def until(self, end):
        return _cap(self._until(end))

    def from_until(self, start, end):
        if is_midnight(start):
            head = f"Desde el {self.day(start.date())}"
        else:
            head = f"Desde {self._hour(start)} del {self.day(start.date())}"
        return f"{head} {self._until(end)}"

    def open_end(self):
        return " hasta su última sesión"

    def conjunction(self, next_word):
        w = next_word.lower()
        if re.match(r"h?[ií]", w) and not re.match(r"h?i[aeiouáéíóú]", w):
            return "e"
        return "y"


_DALLE = ("Dalle", "Dall'")
_DELLE = ("delle", "dell'")
_ALLE = ("alle", "all'")


class Italian(Grammar):
    """dalle 10:30 but dall'1:00; da venerdì; fino alla fine di lunedì."""

    def _hour(self, dt: datetime, forms: tuple[str, str]) -> str:
        plural, singular = forms
        c = self.clock(dt)
        return f"{singular}{c}" if _one_oclock(c) else f"{plural} {c}"

    def appointment(self, dt):
        return f"{self.day(dt.date())} {self._hour(dt, _ALLE)}"

    def from_(self, start):
        if is_midnight(start):
            return f"Da {self.day(start.date())}"
        return f"{self._hour(start, _DALLE)} di {self.day(start.date())}"

    def on_day(self, d, appointment):
        return _cap(self.day(d))

    def before_appointment(self, appointment):
        if appointment:
            return f", prima dell'appuntamento {self._hour(appointment, _DELLE)}"
        return ", prima dell'appuntamento"

    def _until(self, end):
        if is_midnight(end):
            return f"fino alla fine di {self.day(end.date() - timedelta(days=1))}"
        return f"fino {self._hour(end, _ALLE)} di {self.day(end.date())}"

    def until(self, end):
        return _cap(self._until(end))

    def from_until(self, start, end):
        if is_midnight(start):
            head = f"Da {self.day(start.date())}"
        else:
            head = f"{self._hour(start, _DALLE)} di {self.day(start.date())}"
        return f"{head} {self._until(end)}"

    def open_end(self):
        return " fino all'ultima seduta"

    def conjunction(self, next_word):
        return "ed" if next_word[:1].lower() == "e" else "e"


class Portuguese(Grammar):
    """na segunda-feira but no sábado; às 10:30 but à 1:00; pt-PT "até ao", pt-BR "até o"."""

    @property
    def brazil(self) -> bool:
        return self.lang.region == "BR"

    def _hour(self, dt: datetime, plural: str, singular: str) -> str:
        c = self.clock(dt)
        return f"{singular} {c}" if _one_oclock(c) else f"{plural} {c}"

    def appointment(self, dt):
        return f"{self.day(dt.date())}, {self._hour(dt, 'às', 'à')}"

    def from_(self, start):
        if is_midnight(start):
            return f"A partir de {self.day(start.date())}"
        return f"A partir {self._hour(start, 'das', 'da')} de {self.day(start.date())}"

    def on_day(self, d, appointment):
        return f"{'No' if d.weekday() >= 5 else 'Na'} {self.day(d)}"

    def before_appointment(self, appointment):
        if appointment:
            return f", antes da sua consulta {self._hour(appointment, 'das', 'da')}"
        return ", antes da sua consulta"

    def _until(self, end):
        if is_midnight(end):
            head = "até o fim de" if self.brazil else "até ao fim de"
            return f"{head} {self.day(end.date() - timedelta(days=1))}"
        hour = self._hour(end, "as", "a") if self.brazil else self._hour(end, "às", "à")
        return f"até {hour} de {self.day(end.date())}"

    def until(self, end):
        return _cap(self._until(end))

    def from_until(self, start, end):
        if is_midnight(start):
            head = f"De {self.day(start.date())}"
        else:
            head = f"{self._hour(start, 'Das', 'Da')} de {self.day(start.date())}"
        return f"{head} {self._until(end)}"

    def open_end(self):
        return " até a sua última sessão" if self.brazil else " até à sua última sessão"

    def conjunction(self, next_word):
        return "e"

    def contract(self, text):
        """em + a weekday is na (segunda-feira...) or no (sábado, domingo): "Você agendou no
        sábado"."""
        return re.sub(_PT_EM, _pt_em, text)


# compiled (and kept) by ``re`` the first time a Portuguese text needs it
_PT_EM = r"\b([Ee])m (?=(segunda|terça|quarta|quinta|sexta)-feira|sábado|domingo)"


def _pt_em(m: re.Match) -> str:
    feminine = not m.string.startswith(("sábado", "domingo"), m.end())
    article = "a" if feminine else "o"
    return ("N" if m.group(1) == "E" else "n") + article + " "


class German(Grammar):
    """Ab Freitag, 31. Mai 2024; bis einschließlich Montag; 10:30 Uhr."""

    def _at(self, dt: datetime) -> str:
        return "" if is_midnight(dt) else f", {self.clock(dt)} Uhr"

    def appointment(self, dt):
        return f"{self.day(dt.date())}{self._at(dt)}"

    def from_(self, start):
        return f"Ab {self.day(start.date())}{self._at(start)}"

    def on_day(self, d, appointment):
        return f"Am {self.day(d)}"

    def before_appointment(self, appointment):
        return (
            f", vor Ihrem Termin um {self.clock(appointment)} Uhr"
            if appointment
            else ", vor Ihrem Termin"
        )

    def _until(self, end):
        if is_midnight(end):
            return f"bis einschließlich {self.day(end.date() - timedelta(days=1))}"
        return f"bis {self.day(end.date())}{self._at(end)}"

    def until(self, end):
        return _cap(self._until(end))

    def from_until(self, start, end):
        return f"Von {self.day(start.date())}{self._at(start)} {self._until(end)}"

    def open_end(self):
        return " bis zu Ihrer letzten Sitzung"

    def conjunction(self, next_word):
        return "und"


GRAMMARS: dict[str, type[Grammar]] = {
    "en": Grammar,
    "fr": French,
    "es": Spanish,
    "it": Italian,
    "pt": Portuguese,
    "de": German,
}
