"""The calendar picture as a Typst value, for the PDF's template (``calendar.typ.j2`` draws it).

Written straight as Typst code: strings through ``typst_values.typst_string`` (so a label is never
read as markup), everything else as numbers, kept compact because a batch writes one per handout:

- ``days``: seven numbers per week: -1 outside the month, else the day of the month plus
  100 (in the picture's range), 200 (the appointment), 400 (today), 800 (another session);
- ``segs``: (letter, row, from, to) per band segment, from and to in half days of the week;
- ``bands``: letter -> (colour, hatched, label) for the bars and the legend.

Day positions are the model's (``mesocare.render.calendar``), so a test can read the days back.
"""

from __future__ import annotations

from cachetools import LRUCache

from mesocare.memo import get_or_make
from mesocare.model import Handout
from mesocare.render import calendar
from mesocare.render.calendar import last_day, starts_mid  # what build() reads of a window


def _s(text: str) -> str:
    from mesocare.render.typst_values import typst_string

    return typst_string(text)


def _day(d) -> str:
    if d is None:
        return "-1"
    return str(
        int(d.number) + 100 * d.in_range + 200 * d.appointment + 400 * d.today + 800 * d.session
    )


CACHE_SIZE = 256  # calendars kept: a day's list repeats a few plans many times
_cache: LRUCache = LRUCache(CACHE_SIZE)


def code(handout: Handout, locale: str | None = None) -> str:
    """The calendar picture of ``handout`` as Typst code. Made once per plan: what
    ``calendar.build`` reads of a handout is the key (its language, today, the appointment's day,
    the course, and each dated step's phase, rule, name and days, with whether it starts or ends
    within a day). The picture counts half days, so the time of day draws nothing: a day's
    appointments at 10:00 and 11:30 with the same steps share one picture."""
    h = handout
    key = (
        h.lang,
        locale,
        h.start.date(),
        h.today,
        h.course,
        tuple(
            (
                i.phase,
                i.rule,
                i.name,
                i.start.date(),
                starts_mid(i.start),
                None if i.end is None else last_day(i.end),
            )
            for i in h.items
            if i.phase in ("before", "after")  # the day's steps are not bands
        ),
    )
    return get_or_make(_cache, key, lambda: _code(h, locale))


def _code(handout: Handout, locale: str | None) -> str:
    from mesocare.render.typst_values import TypstCode

    cal = calendar.build(handout, locale)
    w = cal.words
    months = []
    for m in cal.months:
        weeks = []
        for wk in m.weeks:
            days = ", ".join(_day(d) for d in wk.days)
            segs = "".join(
                f'("{s.band.letter}", {s.row}, {s.start}, {s.end}),' for s in wk.segments
            )
            weeks.append(
                f'(start: "{wk.start.isoformat()}", rows: {wk.rows}, days: ({days}), segs: '
                f"({segs}))"
            )
        months.append(f"(title: {_s(m.title)}, weeks: ({', '.join(weeks)},))")
    bands = ", ".join(
        f'{b.letter}: ("{b.colour}", {"true" if b.hatched else "false"}, '
        f"{_s(b.label + (f' ({b.goes_on})' if b.goes_on else ''))})"
        for b in cal.bands
    )
    legend = "".join(
        f"({_s(w[phase])}, ({''.join(_s(b.letter) + ',' for b in cal.legend(phase))})),"
        for phase in ("before", "after")
        if cal.legend(phase)
    )
    marks = cal.marks
    return TypstCode(
        f"(title: {_s(w['title'])}, alt: {_s(cal.alt)}, hint: {_s(w['hint'])}, "
        f"weekdays: ({', '.join(_s(n) for n in cal.weekdays)}), "
        f"months: ({', '.join(months)},), bands: ({bands or ':'}), legend: ({legend}), "
        f"marks: ({''.join(f'({_s(k)}, {_s(t)}),' for k, t in marks)}))"
    )
