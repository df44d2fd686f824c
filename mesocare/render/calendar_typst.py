"""The calendar picture as data for the PDF's Typst template (``calendar.typ.j2`` draws it).

A plain dictionary of strings, numbers and booleans: ``pdf.typst_value`` writes it into the
Typst source as a value, never as markup. Day positions are half days within each week, as in
the model (``mesocare.render.calendar``), so a test can read the days back from the source.
"""

from __future__ import annotations

from mesocare import words
from mesocare.model import Handout
from mesocare.render import calendar


def data(handout: Handout, locale: str | None = None) -> dict:
    cal = calendar.build(handout, locale)
    w = cal.words
    months = []
    for m in cal.months:
        weeks = []
        for wk in m.weeks:
            days = [
                None
                if d is None
                else {"n": d.number, "range": d.in_range, "appt": d.appointment, "today": d.today, "session": d.session}
                for d in wk.days
            ]
            segs = [
                {
                    "letter": s.band.letter,
                    "row": s.row,
                    "from": s.start,
                    "to": s.end,
                    "colour": s.band.colour,
                    "hatched": s.band.hatched,
                }
                for s in wk.segments
            ]
            weeks.append({"start": wk.start.isoformat(), "rows": wk.rows, "days": days, "segs": segs})
        months.append({"title": m.title, "weeks": weeks})
    legend = []
    for phase in ("before", "after"):
        bands = cal.legend(phase)
        if bands:
            legend.append(
                {
                    "heading": w[phase],
                    "bands": [
                        {
                            "letter": b.letter,
                            "colour": b.colour,
                            "hatched": b.hatched,
                            "label": b.label + (f" ({b.goes_on})" if b.goes_on else ""),
                        }
                        for b in bands
                    ],
                }
            )
    marks = [{"kind": "appointment", "text": f"{w['appointment']}: {words.day(cal.appointment)}"}]
    if cal.today:
        marks.append({"kind": "today", "text": f"{w['today']}: {words.day(cal.today)}"})
    for d in cal.sessions:
        marks.append({"kind": "session", "text": f"{w['next_session']}: {words.day(d)}"})
    return {
        "title": w["title"],
        "alt": cal.alt,
        "hint": w["hint"],
        "weekdays": list(cal.weekdays),
        "months": months,
        "legend": legend,
        "marks": marks,
    }
