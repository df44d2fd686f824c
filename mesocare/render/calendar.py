"""The calendar picture of a handout: month grids with a lettered band for each window.

``build(handout, locale="en-GB")`` is pure: it turns a Handout into a ``Calendar`` (months,
weeks, bands and their segments, the days to mark) and computes no date of its own: every
band is an item's ``start`` and ``end`` as the timeline shows them, grouped when several
items cover exactly the same days. The SVG (HTML), Typst (PDF) and rich (terminal) drawings
only lay this model out, so the picture and the text can never disagree.

Geometry is counted in half days: a window that starts or ends at a time of day other than
midnight (the appointment at 10:00, "48 hours after") starts or ends in the middle of that
day's cell. Day-phase steps are not bands: they belong to the appointment day, which is
marked on its own.

How far the picture reaches: from the first day of the earliest before-window to the last
day of the last dated after-window. A window that goes on longer (a course's daily water,
"until your last session") is drawn up to the next session of the course, else up to
``HORIZON_DAYS`` after the appointment, and its legend says until when it goes on.

Weekday headings, the first day of the week and month names come from CLDR (Babel) for
``locale``. The picture's own words (legend headings, the text alternative) are English
msgids in ``WORDS``, translated per handout through the language layer's catalogs (a
missing translation is an error, never English in a French handout). Names lose their control
characters here (``printable``), so no drawing can carry one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from mesocare.lang.ui import N_
from mesocare.model import Handout, Item
from mesocare.render.printable import printable

HORIZON_DAYS = 35  # a long window is drawn this far after the appointment at most (5 weeks)
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O (read as 1 and 0)
DEFAULT_LOCALE = "en-GB"

# Colours of the bands, each with at least 4.5:1 contrast against white (and white letters
# on them have the same). Each band also has its letter and, for after-windows, a hatch, so
# nothing depends on colour (WCAG 1.4.1).
COLOURS = ("#1d4e6b", "#8a1c1c", "#2c5e1a", "#5b2a86", "#7a4100", "#00606b", "#6b2d55", "#3d4a12")

# English msgids, translated per handout in build() through the language layer's catalogs.
WORDS = {
    "title": N_("Your plan on a calendar"),
    "before": N_("Before your appointment"),
    "after": N_("After your appointment"),
    "appointment": N_("Your appointment"),
    "today": N_("Today"),
    "next_session": N_("Your next session"),
    "until": N_("goes on until {day}"),
    "until_last": N_("goes on until your last session"),
    "open": N_("goes on after this calendar"),
    "and": N_("and"),
    "alt_one": N_(
        "A calendar from {first} to {last} with your appointment on {appointment} marked."
    ),
    "alt_two": N_(
        "{count} lettered bands show the days of the steps in the tables: "
        "the first starts on {start}, "
        "the last ends on {end}."
    ),
    "alt_two_one": N_(
        "One lettered band shows the days of the step in the tables, from {start} to {end}."
    ),
    "alt_none": N_("There are no dated steps before or after it."),
    "alt_one_today": N_(
        "A calendar from {first} to {last} with your appointment on {appointment} marked "
        "and today, {today}, circled."
    ),
    "hint": N_(
        "The letters match the list below the calendar; the tables above give every step in words."
    ),
}


@dataclass(frozen=True)
class Band:
    """One or more items that cover exactly the same days, drawn as one lettered band."""

    letter: str
    phase: str  # before | after
    rules: tuple[str, ...]
    names: tuple[str, ...]
    first: date  # first day drawn
    last: date  # last day drawn (clipped to the picture)
    start_half: bool  # starts in the middle of ``first`` (at a time of day)
    end_half: bool  # ends in the middle of ``last``
    colour: str
    hatched: bool  # after-windows are hatched, before-windows solid
    goes_on: str | None  # legend words when the window goes on past ``last`` (clipped)
    lane: int  # its row within a week, counted over the whole picture
    label: str  # the names joined in the handout's language: "ginkgo biloba and willow bark"


@dataclass(frozen=True)
class Segment:
    """The part of a band inside one week row: from half-day ``start`` to ``end`` (0..14)."""

    band: Band
    row: int  # the row in this week (bands present in the week, in lane order)
    start: int
    end: int
    first_in_band: bool  # the band's first segment (its letter is always drawn)


@dataclass(frozen=True)
class Day:
    date: date
    number: str
    in_range: bool
    appointment: bool
    today: bool
    session: bool  # another session of the course
    letters: tuple[str, ...]  # the bands covering this day


@dataclass(frozen=True)
class Week:
    start: date  # the date in the first column (may be in the previous month)
    days: tuple[Day | None, ...]  # seven cells; None outside the month
    segments: tuple[Segment, ...]
    rows: int  # how many band rows this week needs


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    title: str
    weeks: tuple[Week, ...]


@dataclass(frozen=True)
class Calendar:
    locale: str
    first: date
    last: date
    first_weekday: int  # 0 = Monday ... 6 = Sunday: the first column
    weekdays: tuple[str, ...]  # headings, in column order (CLDR abbreviated names)
    weekdays_long: tuple[str, ...]  # full names, in column order
    months: tuple[Month, ...]
    bands: tuple[Band, ...]
    appointment: date
    today: date | None  # None when today is outside the picture
    sessions: tuple[date, ...]  # other sessions of the course inside the picture
    alt: str  # one or two sentences saying what the picture shows
    words: dict
    marks: tuple[tuple[str, str], ...]  # (appointment | today | session, its legend line)

    def legend(self, phase: str) -> tuple[Band, ...]:
        return tuple(b for b in self.bands if b.phase == phase)


# --------------------------------------------------------------------------------------------
# CLDR
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _locale_data(tag: str):
    """(first weekday, abbreviated day names Monday-first, wide names, month-title function)."""
    import babel
    from babel.dates import format_skeleton

    try:
        loc = babel.Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, babel.UnknownLocaleError):
        loc = babel.Locale.parse(DEFAULT_LOCALE, sep="-")
    abbreviated = tuple(loc.days["format"]["abbreviated"][i] for i in range(7))
    wide = tuple(loc.days["format"]["wide"][i] for i in range(7))

    @lru_cache(maxsize=64)
    def title(year: int, month: int) -> str:
        return format_skeleton("yMMMM", date(year, month, 1), locale=loc)

    return loc.first_week_day, abbreviated, wide, title


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
def last_day(end: datetime) -> tuple[date, bool]:
    """The last day a window touches and whether it ends within that day (not at midnight)."""
    if end.hour == 0 and end.minute == 0 and end.second == 0:
        return end.date() - timedelta(days=1), False
    return end.date(), True


def starts_mid(start: datetime) -> bool:
    """Whether a window starts within its first day (not at midnight)."""
    return not (start.hour == 0 and start.minute == 0 and start.second == 0)


def build(h: Handout, locale: str | None = None) -> Calendar:
    """The calendar picture of ``h`` (weekday names and week start from ``locale``)."""
    language = h.lang  # dates written out in the handout's language
    day = language.day
    words = {key: language.gettext(text) for key, text in WORDS.items()}
    tag = locale or language.tag
    first_weekday, abbreviated, wide, month_title = _locale_data(tag)
    appt = h.start.date()
    later = [d for d in h.course.sessions if d > appt]
    horizon = appt + timedelta(days=HORIZON_DAYS)
    cap = min(later[0], horizon) if later else horizon

    # First pass: the days of every dated window, clipped at the cap.
    spans: list[tuple[Item, date, bool, date | None, bool, str | None]] = []
    for item in h.items:
        if item.phase not in ("before", "after"):
            continue
        first, start_half = item.start.date(), starts_mid(item.start)
        if item.end is None:
            spans.append(
                (
                    item,
                    first,
                    start_half,
                    None,
                    False,
                    words["until_last"] if h.course.end is None else words["open"],
                )
            )
            continue
        last, end_half = last_day(item.end)
        goes_on = None
        if last > cap:
            goes_on = words["until"].format(day=day(last))
            last, end_half = cap, False
        spans.append((item, first, start_half, max(last, first), end_half, goes_on))
    # An open window (no end) is drawn to the end of the picture.
    picture_last = max([appt] + [s[3] for s in spans if s[3] is not None])

    groups: dict[tuple, list[Item]] = {}
    for item, first, start_half, open_last, end_half, goes_on in spans:
        last = picture_last if open_last is None else open_last
        groups.setdefault(
            (item.phase, first, start_half, max(last, first), end_half, goes_on), []
        ).append(item)

    keys = sorted(groups, key=lambda k: (k[0] != "before", k[1], k[2], -(k[3] - k[1]).days, k[4]))
    span_first = min([appt] + [k[1] for k in keys])
    span_last = max([appt] + [k[3] for k in keys])

    # Lanes: greedy interval packing in half days, over the whole picture.
    lane_ends: list[int] = []
    bands: list[Band] = []
    for n, key in enumerate(keys):
        phase, first, start_half, last, end_half, goes_on = key
        a = (first - span_first).days * 2 + start_half
        b = (last - span_first).days * 2 + (1 if end_half else 2)
        lane = next((i for i, e in enumerate(lane_ends) if e <= a), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(b)
        else:
            lane_ends[lane] = b
        items = groups[key]
        names = tuple(dict.fromkeys(printable(i.name, newlines=False) for i in items))
        bands.append(
            Band(
                letter=LETTERS[n % len(LETTERS)]
                + ("" if n < len(LETTERS) else str(n // len(LETTERS))),
                phase=phase,
                rules=tuple(i.rule for i in items),
                names=names,
                first=first,
                last=last,
                start_half=bool(start_half),
                end_half=end_half,
                colour=COLOURS[n % len(COLOURS)],
                hatched=phase == "after",
                goes_on=goes_on,
                lane=lane,
                label=language.joined(list(names)),
            )
        )

    today = h.today if span_first <= h.today <= span_last else None
    sessions = tuple(d for d in h.course.sessions if d != appt and span_first <= d <= span_last)
    months = tuple(
        _month(
            y, m, span_first, span_last, first_weekday, bands, appt, today, sessions, month_title
        )
        for y, m in _months(span_first, span_last)
    )
    order = [(first_weekday + i) % 7 for i in range(7)]
    return Calendar(
        locale=tag,
        first=span_first,
        last=span_last,
        first_weekday=first_weekday,
        weekdays=tuple(abbreviated[i] for i in order),
        weekdays_long=tuple(wide[i] for i in order),
        months=months,
        bands=tuple(bands),
        appointment=appt,
        today=today,
        sessions=sessions,
        alt=_alt(span_first, span_last, appt, today, bands, day, words),
        words=words,
        marks=(
            ("appointment", language.typo(f"{words['appointment']}: {day(appt)}")),
            *(
                (("today", language.typo(f"{words['today']}: {day(today)}")),)
                if today is not None
                else ()
            ),
            *(("session", language.typo(f"{words['next_session']}: {day(d)}")) for d in sessions),
        ),
    )


def _months(first: date, last: date):
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def _month(
    year, month, first, last, first_weekday, bands, appt, today, sessions, month_title
) -> Month:
    start = max(first, date(year, month, 1))
    end = min(last, (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)))
    week = start - timedelta(days=(start.weekday() - first_weekday) % 7)
    weeks = []
    while week <= end:
        weeks.append(_week(week, year, month, first, last, bands, appt, today, sessions))
        week += timedelta(days=7)
    return Month(year=year, month=month, title=month_title(year, month), weeks=tuple(weeks))


def _week(week: date, year, month, first, last, bands, appt, today, sessions) -> Week:
    cells: list[Day | None] = []
    for col in range(7):
        d = week + timedelta(days=col)
        if (d.year, d.month) != (year, month):
            cells.append(None)
            continue
        cells.append(
            Day(
                date=d,
                number=str(d.day),
                in_range=first <= d <= last,
                appointment=d == appt,
                today=d == today,
                session=d in sessions,
                letters=tuple(b.letter for b in bands if b.first <= d <= b.last),
            )
        )
    # The month's own days in this row: segments are drawn only over them.
    own = [i for i, c in enumerate(cells) if c is not None]
    lo_day, hi_day = week + timedelta(days=own[0]), week + timedelta(days=own[-1])
    present = sorted({b.lane for b in bands if b.first <= hi_day and b.last >= lo_day})
    row_of = {lane: i for i, lane in enumerate(present)}
    segments = []
    for b in bands:
        if b.first > hi_day or b.last < lo_day:
            continue
        s_day, e_day = max(b.first, lo_day), min(b.last, hi_day)
        s = (s_day - week).days * 2 + (1 if (s_day == b.first and b.start_half) else 0)
        e = (e_day - week).days * 2 + (1 if (e_day == b.last and b.end_half) else 2)
        segments.append(
            Segment(band=b, row=row_of[b.lane], start=s, end=e, first_in_band=s_day == b.first)
        )
    return Week(start=week, days=tuple(cells), segments=tuple(segments), rows=len(present))


def _alt(
    first: date, last: date, appt: date, today: date | None, bands: list[Band], day, words: dict
) -> str:
    key, extra = ("alt_one", {}) if today is None else ("alt_one_today", {"today": day(today)})
    one = words[key].format(first=day(first), last=day(last), appointment=day(appt), **extra)
    if not bands:
        two = words["alt_none"]
    elif len(bands) == 1:
        two = words["alt_two_one"].format(start=day(bands[0].first), end=day(bands[0].last))
    else:
        two = words["alt_two"].format(
            count=len(bands),
            start=day(min(b.first for b in bands)),
            end=day(max(b.last for b in bands)),
        )
    return f"{one} {two}"


# --------------------------------------------------------------------------------------------
# Contrast (WCAG 2.x relative luminance), for the tests and for clinics choosing colours
# --------------------------------------------------------------------------------------------
def luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
