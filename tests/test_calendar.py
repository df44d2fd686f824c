"""The calendar picture: its days read back from the rendered SVG and Typst source must be the
JSON items' days; weekday names from CLDR; marks, contrast, sizes; where it appears.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta

import pytest
from typer.testing import CliRunner

from mesocare import lang
from mesocare.cli import app
from mesocare.course import make_course
from mesocare.render import calendar, calendar_svg, typst_doc

SVG = "{http://www.w3.org/2000/svg}"
BASE = ["--tz", "Europe/London", "--name", "Ana Silva"]
CASES = {
    "one-area": [
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--prescribed",
        "medrol",
        "--today",
        "2024-06-01",
    ],
    "course": [
        "--date",
        "2024-06-10",
        "--time",
        "15:00",
        "--area",
        "body",
        "--area",
        "neck",
        "--sessions",
        "3",
        "--every",
        "1m",
        "--today",
        "2024-06-01",
    ],
    "untimed": ["--date", "2024-06-10", "--area", "face", "--today", "2024-06-03"],
    "us-course": [
        "--date",
        "2024-11-01",
        "--time",
        "15:00",
        "--area",
        "body",
        "--prescribed",
        "lasix",
        "--course-end",
        "2025-01-01",
        "--today",
        "2024-10-15",
        "--tz",
        "America/New_York",
    ],
}


def prep(args, fmt, monkeypatch=None):
    result = CliRunner().invoke(app, ["prep", *BASE, *args, "--format", fmt])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def expected_days(item: dict, first: date, last: date) -> tuple[set[date], bool]:
    """The days an item covers inside the picture [first, last], and whether it goes on past it."""
    start = datetime.fromisoformat(item["start"])
    if item["end"] is None:
        end_day = None
    else:
        end = datetime.fromisoformat(item["end"])
        end_day = end.date() - timedelta(days=1) if (end.hour, end.minute) == (0, 0) else end.date()
    top = last if end_day is None else min(end_day, last)
    days = {start.date() + timedelta(n) for n in range((top - start.date()).days + 1)}
    return {d for d in days if first <= d <= last}, end_day is None or end_day > last


def svg_bands(html: str) -> tuple[ET.Element, dict[str, set[date]], dict[str, str]]:
    """(the svg element, letter -> days drawn, letter -> legend text) from a handout page."""
    found = re.search(r"<svg class=\"calendar-picture\".*?</svg>", html, re.S)
    assert found, "no calendar picture in the page"
    root = ET.fromstring(found[0])
    cell = calendar_svg.CELL
    days: dict[str, set[date]] = {}
    for week in root.iter(f"{SVG}g"):
        if week.get("class") != "week":
            continue
        start = date.fromisoformat(week.get("data-week"))
        for rect in week.iter(f"{SVG}rect"):
            if rect.get("class") != "band":
                continue
            x, w = float(rect.get("x")), float(rect.get("width"))
            a, b = round((x - 1) / (cell / 2)), round((x + w + 1) / (cell / 2))
            cols = range(a // 2, (b + 1) // 2)
            days.setdefault(rect.get("data-letter"), set()).update(
                start + timedelta(c) for c in cols
            )
    legend = {
        m[1]: re.sub(r"\s+", " ", m[2]).strip()
        for m in re.finditer(r'<span class="visually-hidden">(\w+): </span>([^<]*)</li>', html)
    }
    return root, days, legend


def check_items(
    items: list[dict], days: dict[str, set[date]], legend: dict[str, str], first: date, last: date
):
    import html as htmllib

    legend = {k: htmllib.unescape(v) for k, v in legend.items()}
    assert set(days) == set(legend), "every band drawn has a legend entry, and every entry a band"
    dated = [i for i in items if i["phase"] in ("before", "after")]
    assert dated
    for item in dated:
        want, goes_on = expected_days(item, first, last)
        matches = [k for k, text in legend.items() if item["name"] in text and days[k] == want]
        assert matches, f"{item['rule']}: no band with its name covers exactly {sorted(want)}"
        if goes_on:
            assert any("goes on" in legend[k] for k in matches), (
                f"{item['rule']}: the legend must say it goes on"
            )
    # and nothing is drawn that no item explains
    for letter in days:
        assert any(item["name"] in legend[letter] for item in dated), letter


@pytest.mark.parametrize("case", CASES)
def test_svg_days_are_the_json_items_days(case):
    args = CASES[case]
    html = prep(args, "html")
    items = json.loads(prep(args, "json"))["items"]
    root, days, legend = svg_bands(html)
    first, last = (
        date.fromisoformat(root.get("data-first")),
        date.fromisoformat(root.get("data-last")),
    )
    check_items(items, days, legend, first, last)
    appt = json.loads(prep(args, "json"))["appointment"]["date"]
    marked = {
        g.get("data-date"): g.get("data-marks")
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "day"
    }
    assert "appointment" in marked[appt]
    assert [d for d, m in marked.items() if "appointment" in m] == [appt]


def typst_calendars(source: str) -> list[dict]:
    """Every calendar's data as Typst itself reads it from the source (typst.query)."""
    import typst

    out = []
    for line in source.splitlines():
        if line.startswith("#mc-calendar("):
            value = line[len("#mc-calendar(") : -1]
            out.append(
                json.loads(
                    typst.query(f"#metadata({value})<d>".encode(), "<d>", field="value", one=True)
                )
            )
    return out


@pytest.mark.parametrize("case", CASES)
def test_typst_days_are_the_json_items_days(case, ruleset):
    args = CASES[case]
    data = json.loads(prep(args, "json"))
    handout = handout_from(args, ruleset)
    (cal,) = typst_calendars(typst_doc.typst_source([handout], handout.clinic))
    days: dict[str, set[date]] = {}
    for month in cal["months"]:
        for week in month["weeks"]:
            start = date.fromisoformat(week["start"])
            for letter, _row, half_from, half_to in week["segs"]:
                days.setdefault(letter, set()).update(
                    start + timedelta(c) for c in range(half_from // 2, (half_to + 1) // 2)
                )
    legend = {letter: band[2] for letter, band in cal["bands"].items()}
    assert sorted(legend) == sorted(
        letter for _heading, letters in cal["legend"] for letter in letters
    )
    model = calendar.build(handout)
    check_items(data["items"], days, legend, model.first, model.last)
    assert cal["alt"] == model.alt


def handout_from(args, ruleset):
    """The same handout as `prep ARGS`, built through the library."""
    from mesocare.handout import build_handout
    from mesocare.model import Clinic, Request

    opts = dict(zip(args[::2], args[1::2], strict=True))
    areas = tuple(v for k, v in zip(args[::2], args[1::2], strict=True) if k == "--area")
    day = date.fromisoformat(opts["--date"])
    course = make_course(
        day,
        sessions=int(opts["--sessions"]) if "--sessions" in opts else None,
        every=(int(opts["--every"][:-1]), opts["--every"][-1]) if "--every" in opts else None,
        course_end=date.fromisoformat(opts["--course-end"]) if "--course-end" in opts else None,
    )
    request = Request(
        date=day,
        areas=areas,
        time=time.fromisoformat(opts["--time"]) if "--time" in opts else None,
        prescribed=tuple(
            v for k, v in zip(args[::2], args[1::2], strict=True) if k == "--prescribed"
        ),
        course=course,
        name="Ana Silva",
    )
    clinic = Clinic(timezone=opts.get("--tz", "Europe/London"))
    return build_handout(request, ruleset, clinic, date.fromisoformat(opts["--today"]))


def test_the_picture_spans_the_plan_and_says_what_goes_on(ruleset):
    one = calendar.build(handout_from(CASES["one-area"], ruleset))
    assert (one.first, one.last) == (
        date(2024, 5, 31),
        date(2024, 6, 24),
    )  # ginkgo .. sunscreen and sauna
    assert [m.title for m in one.months] == ["May 2024", "June 2024"]
    water = next(b for b in one.bands if "water-daily" in b.rules)
    assert water.last == one.last and water.goes_on == "goes on until your last session"
    course = calendar.build(handout_from(CASES["course"], ruleset))
    water = next(b for b in course.bands if "water-daily" in b.rules)
    assert course.last == date(2024, 7, 10) == water.last  # drawn up to the next session...
    assert water.goes_on == "goes on until Saturday 10 August 2024"  # ...and says until when
    assert course.sessions == (date(2024, 7, 10),)
    untimed = calendar.build(handout_from(CASES["untimed"], ruleset))
    assert all(not b.start_half and not b.end_half for b in untimed.bands)  # whole days
    assert all(b.last < date(2024, 6, 10) for b in untimed.legend("before"))
    assert all(b.first > date(2024, 6, 10) for b in untimed.legend("after"))


def test_today_is_marked_only_inside_the_picture(ruleset):
    args = CASES["one-area"]
    inside = calendar.build(handout_from(args, ruleset))
    assert inside.today == date(2024, 6, 1) and "today, Saturday 1 June 2024, circled" in inside.alt
    outside = calendar.build(handout_from([*args[:-1], "2024-05-01"], ruleset))
    assert outside.today is None and "today" not in outside.alt.lower()
    days = [d for m in outside.months for w in m.weeks for d in w.days if d]
    assert not any(d.today for d in days)


def test_weekday_headings_come_from_cldr(ruleset):
    h = handout_from(CASES["one-area"], ruleset)
    assert calendar.build(h).weekdays == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    us = calendar.build(h, "en-US")
    assert us.weekdays[0] == "Sun" and us.first_weekday == 6
    assert us.months[0].weeks[0].days[5].number == "31"  # Friday 31 May in the sixth column
    de = calendar.build(h, "de-DE")
    assert de.weekdays[0].startswith("Mo") and de.months[1].title == "Juni 2024"
    assert "Juni 2024" in calendar_svg.svg(de)


def test_alternative_text_is_one_or_two_sentences(ruleset):
    for args in CASES.values():
        alt = calendar.build(handout_from(args, ruleset)).alt
        assert 1 <= len(re.findall(r"[.!?](\s|$)", alt)) <= 2, alt


def test_html_picture_is_an_accessible_image():
    html = prep(CASES["one-area"], "html")
    root, _, _ = svg_bands(html)
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert root.get("aria-labelledby") == title.get("id")
    assert title.text.startswith("A calendar from Friday 31 May 2024 to Monday 24 June 2024")
    sizes = [float(t.get("font-size")) for t in root.iter(f"{SVG}text")]
    assert (
        min(sizes) >= 15
    )  # CSS px at the smallest the page ever draws it: 11 pt, the body (13 pt) minus 2 pt
    assert (
        'aria-hidden="true"' in html.split('<p class="calendar-hint">')[1]
    )  # legend pictures are decorative


def test_colours_have_enough_contrast():
    for colour in calendar.COLOURS:
        assert calendar.contrast(colour, "#ffffff") >= 4.5, colour  # white letters on the band
    assert calendar.contrast(calendar_svg.MUTED, "#ffffff") >= 4.5


def test_bands_differ_by_more_than_colour(ruleset):
    cal = calendar.build(handout_from(CASES["course"], ruleset))
    letters = [b.letter for b in cal.bands]
    assert len(set(letters)) == len(letters)
    assert all(b.hatched for b in cal.legend("after")) and not any(
        b.hatched for b in cal.legend("before")
    )


def test_terminal_has_the_calendar_and_text_has_none():
    terminal = prep(CASES["one-area"], "terminal")
    assert "Your plan on a calendar" in terminal and "[10]" in terminal and "(1)" in terminal
    assert "A  ginkgo biloba and willow bark" in terminal
    text = prep(CASES["one-area"], "text")
    assert "calendar" not in text.lower() and "[10]" not in text
    markdown = prep(CASES["one-area"], "markdown")
    assert "<svg" not in markdown


def test_the_handouts_language_gives_weekdays_months_and_dates(ruleset):
    import dataclasses

    from mesocare import lang as languages

    h = dataclasses.replace(handout_from(CASES["one-area"], ruleset), lang=languages.get("de"))
    cal = calendar.build(h)
    assert cal.weekdays[0].startswith("Mo") and [m.title for m in cal.months] == [
        "Mai 2024",
        "Juni 2024",
    ]
    assert cal.marks[0][1].endswith(languages.get("de").day(date(2024, 6, 10)))


def test_the_pdf_calendar_made_once_per_plan_is_the_one_made_afresh(ruleset):
    # A batch makes each plan's picture once (calendar_typst keeps it); a handout that differs in
    # anything the picture shows gets its own.
    import dataclasses

    from mesocare.render import calendar_typst

    handouts = [handout_from(args, ruleset) for args in CASES.values()]
    handouts += [dataclasses.replace(h, today=h.today + timedelta(days=2)) for h in handouts]
    handouts += [dataclasses.replace(h, lang=lang.get("fr")) for h in handouts]
    first = handouts[0]
    later = dataclasses.replace(
        first,
        items=tuple(
            dataclasses.replace(i, end=i.end + timedelta(days=1))
            if i.end is not None and i.phase == "after"
            else i
            for i in first.items
        ),
    )
    handouts.append(later)
    calendar_typst._cache.clear()
    made = [calendar_typst.code(h) for h in handouts + handouts]  # the second round from the cache
    assert made == [calendar_typst._code(h, None) for h in handouts + handouts]
    n = len(CASES)
    assert made[-1] != made[0], "a window a day longer draws its own picture"
    assert all(made[k] != made[2 * n + k] for k in range(n)), "so does the same plan in French"


def test_a_days_appointments_with_the_same_steps_share_one_pdf_calendar(ruleset, monkeypatch):
    # The picture counts half days, so the time of day draws nothing: the same plan at 09:00,
    # 10:15 and 16:45 is one picture, made once. At midnight or untimed (a window then starts or
    # ends on a day's edge), late in the evening, or with a window that starts half a day later,
    # the picture differs and is made for itself.
    import dataclasses

    from mesocare.render import calendar_typst

    times = ["09:00", "10:15", "16:45", "00:00", "00:30", "23:30", "23:45", "23:59"]
    handouts = [handout_from([*CASES["one-area"], "--time", at], ruleset) for at in times]
    handouts.append(handout_from(CASES["untimed"], ruleset))
    first = handouts[0]
    before = next(i for i in first.items if i.phase == "before" and i.start.hour == 0)
    after = next(i for i in first.items if i.phase == "after" and i.end and i.end.hour != 0)
    midnight = after.end.replace(hour=0, minute=0) + timedelta(days=1)
    for step, changed in (
        (before, dataclasses.replace(before, start=before.start + timedelta(hours=12))),
        (after, dataclasses.replace(after, end=midnight)),  # the same last day, all of it
    ):
        items = tuple(changed if i is step else i for i in first.items)
        handouts.append(dataclasses.replace(first, items=items))
    made_afresh = [calendar_typst._code(h, None) for h in handouts]
    draw, drawn = calendar_typst._code, []
    monkeypatch.setattr(calendar_typst, "_code", lambda h, locale: drawn.append(h) or draw(h, None))
    calendar_typst._cache.clear()
    assert [calendar_typst.code(h) for h in handouts] == made_afresh
    assert made_afresh[0] not in made_afresh[-2:], "a band from noon, or to midnight, is drawn so"
    assert not any(h is handouts[1] or h is handouts[2] for h in drawn), "10:15 and 16:45: 09:00's"
