"""The calendar picture as inline SVG, for the HTML handouts.

Draws a ``mesocare.render.calendar.Calendar`` and adds nothing to it. Units are CSS pixels at
the picture's natural size (``WIDTH``); the page lets it grow, and it is never drawn smaller
than that, so no text in it is below 15 px (11 pt: the body text minus 2 pt). Every text is escaped;
ids carry a prefix so several handouts can share one page (a batch).

Each band segment is a ``<rect class="band" data-letter=... data-week=...>`` whose ``x`` and
``width`` are its half days in that week: the tests read the days back from them.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from mesocare.render.calendar import Band, Calendar

CELL = 42  # a day's width (7 days: 294 px, fits a 320 px screen)
WIDTH = 7 * CELL
TITLE_H = 30  # a month's title
HEAD_H = 24  # the weekday headings
NUMBER_H = 24  # a week row's day numbers
LANE_H = 22  # one band row
BAR_H = 18
CHIP_W = 18  # the letter box at the start of each segment
PAD = 5  # below a week's bands
INK = "#111111"
MUTED = "#4a4a4a"  # days of the month outside the picture: 8.9:1 on white
GRID = "#8a8a8a"  # cell lines (3.4:1, enough for lines)
FONT = 'font-family="Atkinson Hyperlegible, Verdana, DejaVu Sans, Arial, sans-serif"'


def _week_height(rows: int) -> int:
    return NUMBER_H + rows * LANE_H + PAD


def height(cal: Calendar) -> int:
    return (
        sum(TITLE_H + HEAD_H + sum(_week_height(w.rows) for w in m.weeks) for m in cal.months) + 4
    )


def _pattern(ident: str, band: Band) -> str:
    return (
        f'<pattern id="{ident}-p{band.letter}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<rect width="3" height="6" fill="{band.colour}"/></pattern>'
    )


def _bar(ident: str, band: Band, x: float, y: float, w: float, attrs: str = "") -> str:
    fill = f"url(#{ident}-p{band.letter})" if band.hatched else band.colour
    out = [
        f'<rect class="band" {attrs}x="{x:g}" y="{y:g}" width="{w:g}" height="{BAR_H}" '
        f'fill="{fill}" stroke="{band.colour}" stroke-width="1.5"/>'
    ]
    if w >= CHIP_W:
        out.append(
            f'<rect x="{x:g}" y="{y:g}" width="{CHIP_W}" height="{BAR_H}" fill="{band.colour}"/>'
        )
        out.append(
            f'<text x="{x + CHIP_W / 2:g}" y="{y + BAR_H - 4:g}" text-anchor="middle" '
            'font-size="15" '
            f'font-weight="700" fill="#ffffff">{escape(band.letter)}</text>'
        )
    return "".join(out)


def svg(cal: Calendar, ident: str = "cal") -> str:
    """The whole picture: one ``<svg role="img">`` whose title is the text alternative."""
    total = height(cal)
    parts = [
        f'<svg class="calendar-picture" role="img" aria-labelledby="{ident}-title" '
        f'viewBox="0 0 {WIDTH + 4} {total}" '
        f'width="{WIDTH + 4}" height="{total}" data-first="{cal.first.isoformat()}" '
        f'data-last="{cal.last.isoformat()}" '
        f'{FONT} xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(cal.alt)}</title>',
        "<defs>" + "".join(_pattern(ident, b) for b in cal.bands if b.hatched) + "</defs>",
        '<g transform="translate(2 2)">',
    ]
    y = 0
    for month in cal.months:
        parts.append(
            f'<text class="month" x="0" y="{y + 21}" font-size="18" font-weight="700" fill="{INK}">'
            f"{escape(month.title)}</text>"
        )
        y += TITLE_H
        for col, name in enumerate(cal.weekdays):
            parts.append(
                f'<text x="{col * CELL + CELL / 2:g}" y="{y + 17}" text-anchor="middle" '
                'font-size="15" '
                f'font-weight="700" fill="{INK}">{escape(name)}</text>'
            )
        y += HEAD_H
        for week in month.weeks:
            h = _week_height(week.rows)
            parts.append(f'<g class="week" data-week="{week.start.isoformat()}">')
            for col, day in enumerate(week.days):
                if day is None:
                    continue
                x = col * CELL
                marks = [
                    m
                    for m, on in (
                        ("appointment", day.appointment),
                        ("today", day.today),
                        ("session", day.session),
                    )
                    if on
                ]
                parts.append(
                    f'<g class="day" data-date="{day.date.isoformat()}" '
                    f"data-marks={quoteattr(' '.join(marks))} "
                    f"data-letters={quoteattr(' '.join(day.letters))}>"
                )
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{CELL}" height="{h}" fill="#ffffff" '
                    f'stroke="{GRID}" stroke-width="1"/>'
                )
                colour = INK if day.in_range else MUTED
                if day.appointment:
                    parts.append(
                        f'<rect x="{x + 1.5:g}" y="{y + 1.5:g}" width="{CELL - 3}" '
                        f'height="{h - 3}" fill="none" '
                        f'stroke="{INK}" stroke-width="3"/>'
                    )
                    parts.append(
                        f'<rect x="{x + 5}" y="{y + 4}" width="{CELL - 10}" '
                        f'height="{NUMBER_H - 5}" rx="3" fill="{INK}"/>'
                    )
                    colour = "#ffffff"
                if day.session:
                    parts.append(
                        f'<rect x="{x + 1.5:g}" y="{y + 1.5:g}" width="{CELL - 3}" '
                        f'height="{h - 3}" fill="none" '
                        f'stroke="{INK}" stroke-width="2.5" stroke-dasharray="5 3"/>'
                    )
                if day.today:
                    parts.append(
                        f'<circle cx="{x + CELL / 2:g}" cy="{y + NUMBER_H / 2 + 1:g}" r="11" '
                        'fill="none" '
                        f'stroke="{"#ffffff" if day.appointment else INK}" stroke-width="2"/>'
                    )
                weight = "700" if day.in_range else "400"
                parts.append(
                    f'<text x="{x + CELL / 2:g}" y="{y + 18}" text-anchor="middle" font-size="16" '
                    f'font-weight="{weight}" fill="{colour}">{escape(day.number)}</text></g>'
                )
            for seg in week.segments:
                bx = seg.start * CELL / 2
                bw = (seg.end - seg.start) * CELL / 2
                by = y + NUMBER_H + seg.row * LANE_H
                parts.append(
                    _bar(ident, seg.band, bx + 1, by, bw - 2, f'data-letter="{seg.band.letter}" ')
                )
            parts.append("</g>")
            y += h
    parts.append("</g></svg>")
    return "".join(parts)


def chip(band: Band, ident: str = "cal") -> str:
    """A small picture of a band for the legend (decorative: the letter is in the text too)."""
    pattern = _pattern(f"{ident}-chip", band) if band.hatched else ""
    fill = f"url(#{ident}-chip-p{band.letter})" if band.hatched else band.colour
    return (
        f'<svg class="chip" aria-hidden="true" focusable="false" width="46" height="{BAR_H + 2}" '
        f'viewBox="0 0 46 {BAR_H + 2}" {FONT} '
        f'xmlns="http://www.w3.org/2000/svg"><defs>{pattern}</defs>'
        f'<rect x="1" y="1" width="44" height="{BAR_H}" fill="{fill}" stroke="{band.colour}" '
        'stroke-width="1.5"/>'
        f'<rect x="1" y="1" width="{CHIP_W}" height="{BAR_H}" fill="{band.colour}"/>'
        f'<text x="{1 + CHIP_W / 2:g}" y="{BAR_H - 3}" text-anchor="middle" font-size="15" '
        'font-weight="700" '
        f'fill="#ffffff">{escape(band.letter)}</text></svg>'
    )


def mark(kind: str) -> str:
    """The legend's picture of the appointment, today or a session mark."""
    inner = {
        "appointment": f'<rect x="2" y="2" width="40" height="22" fill="none" stroke="{INK}" '
        'stroke-width="3"/>'
        f'<rect x="8" y="5" width="28" height="16" rx="3" fill="{INK}"/>',
        "today": f'<circle cx="22" cy="13" r="10" fill="none" stroke="{INK}" stroke-width="2"/>',
        "session": f'<rect x="2" y="2" width="40" height="22" fill="none" stroke="{INK}" '
        'stroke-width="2.5" '
        'stroke-dasharray="5 3"/>',
    }[kind]
    return (
        '<svg class="mark" aria-hidden="true" focusable="false" width="44" height="26" '
        'viewBox="0 0 44 26" '
        f'xmlns="http://www.w3.org/2000/svg">{inner}</svg>'
    )
