"""The date engine against the contract's time semantics, as parametrized tables."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from conftest import item
from mesocare.dates import appointment_times, ceil_day, floor_day, item_status, local_midnight
from mesocare.errors import InputError
from mesocare.model import Clinic, Course

NY = Clinic(name="Madison Clinic", timezone="America/New_York")
LON = Clinic(name="Harbour Skin Clinic", timezone="Europe/London")


def utc(dt):
    return dt.astimezone(timezone.utc)


def iso(dt):
    return dt.isoformat() if dt else None


# ----------------------------------------------------------------------- days before
@pytest.mark.parametrize(
    "day, rule, start",
    [
        # the design card's example: 10 days before Monday 10 June 2024 is Friday 31 May
        (date(2024, 6, 10), "ginkgo-biloba", "2024-05-31T00:00:00+01:00"),
        (date(2024, 6, 10), "vitamin-e", "2024-06-05T00:00:00+01:00"),
        (date(2024, 6, 10), "medrol", "2024-06-07T00:00:00+01:00"),
        # leap day: 10 days before 10 March 2024 crosses 29 February
        (date(2024, 3, 10), "ginkgo-biloba", "2024-02-29T00:00:00+00:00"),
        (date(2023, 3, 10), "ginkgo-biloba", "2023-02-28T00:00:00+00:00"),
        (date(2024, 3, 4), "aspirin", "2024-02-28T00:00:00+00:00"),
        # year end: 5 days before 3 January 2025
        (date(2025, 1, 3), "nsaids", "2024-12-29T00:00:00+00:00"),
        (date(2025, 1, 1), "willow-bark", "2024-12-22T00:00:00+00:00"),
        # the start of the window is local midnight even when the clocks change inside it
        (date(2024, 4, 5), "ginkgo-biloba", "2024-03-26T00:00:00+00:00"),
        (date(2024, 4, 2), "ginkgo-biloba", "2024-03-23T00:00:00+00:00"),
        (date(2024, 11, 1), "ginkgo-biloba", "2024-10-22T00:00:00+01:00"),
    ],
)
def test_days_before_start_at_local_midnight(build, day, rule, start):
    h = build(day, time(10, 0), prescribed=("medrol",))
    i = item(h, rule)
    assert iso(i.start) == start
    assert i.end == h.start  # a before-window lasts until the appointment starts


# ----------------------------------------------------------------------- hours, DST
@pytest.mark.parametrize(
    "clinic, day, at, caffeine_start, shower_end",
    [
        # an ordinary day: 24 hours before 10:00 is 10:00 the day before
        (
            LON,
            date(2024, 6, 10),
            time(10, 0),
            "2024-06-09T10:00:00+01:00",
            "2024-06-12T10:30:00+01:00",
        ),
        # London springs forward at 01:00 on Sunday 31 March 2024 (a 23-hour day). A window
        # that straddles the change shows it: 24 elapsed hours before 10:00 BST on the 31st
        # is 09:00 GMT on the 30th; a window after the change shows none
        (
            LON,
            date(2024, 3, 31),
            time(10, 0),
            "2024-03-30T09:00:00+00:00",
            "2024-04-02T10:30:00+01:00",
        ),
        (
            LON,
            date(2024, 4, 1),
            time(10, 0),
            "2024-03-31T10:00:00+01:00",
            "2024-04-03T10:30:00+01:00",
        ),
        (
            LON,
            date(2024, 3, 30),
            time(10, 0),
            "2024-03-29T10:00:00+00:00",
            "2024-04-01T11:30:00+01:00",
        ),
        # London falls back at 02:00 on Sunday 27 October 2024 (a 25-hour day): 11:00 on the clock
        (
            LON,
            date(2024, 10, 27),
            time(10, 0),
            "2024-10-26T11:00:00+01:00",
            "2024-10-29T10:30:00+00:00",
        ),
        (
            LON,
            date(2024, 10, 28),
            time(10, 0),
            "2024-10-27T10:00:00+00:00",
            "2024-10-30T10:30:00+00:00",
        ),
        (
            LON,
            date(2024, 10, 26),
            time(10, 0),
            "2024-10-25T10:00:00+01:00",
            "2024-10-28T09:30:00+00:00",
        ),
        # New York springs forward on 10 March 2024 and falls back on 3 November 2024
        (
            NY,
            date(2024, 3, 10),
            time(9, 0),
            "2024-03-09T08:00:00-05:00",
            "2024-03-12T09:30:00-04:00",
        ),
        (
            NY,
            date(2024, 3, 11),
            time(9, 0),
            "2024-03-10T09:00:00-04:00",
            "2024-03-13T09:30:00-04:00",
        ),
        (
            NY,
            date(2024, 3, 9),
            time(9, 0),
            "2024-03-08T09:00:00-05:00",
            "2024-03-11T10:30:00-04:00",
        ),
        (
            NY,
            date(2024, 11, 3),
            time(9, 0),
            "2024-11-02T10:00:00-04:00",
            "2024-11-05T09:30:00-05:00",
        ),
        (
            NY,
            date(2024, 11, 4),
            time(9, 0),
            "2024-11-03T09:00:00-05:00",
            "2024-11-06T09:30:00-05:00",
        ),
        (
            NY,
            date(2024, 11, 2),
            time(15, 0),
            "2024-11-01T15:00:00-04:00",
            "2024-11-04T14:30:00-05:00",
        ),
        # year end and leap day
        (
            NY,
            date(2025, 1, 1),
            time(0, 30),
            "2024-12-31T00:30:00-05:00",
            "2025-01-03T01:00:00-05:00",
        ),
        (
            LON,
            date(2024, 3, 1),
            time(8, 0),
            "2024-02-29T08:00:00+00:00",
            "2024-03-03T08:30:00+00:00",
        ),
    ],
)
def test_hours_are_elapsed_time_across_clock_changes(
    build, clinic, day, at, caffeine_start, shower_end
):
    h = build(day, at, clinic=clinic)
    assert iso(item(h, "caffeine").start) == caffeine_start
    assert iso(item(h, "showers").end) == shower_end
    # and it really is 24 / 48 elapsed hours (subtract in UTC: Python subtracts two times
    # that share a zone as wall-clock times)
    assert utc(h.start) - utc(item(h, "caffeine").start) == timedelta(hours=24)
    assert utc(item(h, "showers").end) - utc(h.end) == timedelta(hours=48)


# ----------------------------------------------------------------------- days after, chains
@pytest.mark.parametrize(
    "day, rule, start, end",
    [
        # 48 hours (it ends as the sunscreen rule starts: issue 22)
        (
            date(2024, 6, 10),
            "topicals-after",
            "2024-06-10T10:30:00+01:00",
            "2024-06-12T10:30:00+01:00",
        ),
        (
            date(2024, 6, 10),
            "hot-tub-sauna",
            "2024-06-10T10:30:00+01:00",
            "2024-06-25T00:00:00+01:00",
        ),
        # SPF 30 starts when the 48-hour sunbathing window ends, until the end of day + 14
        (date(2024, 6, 10), "spf30", "2024-06-12T10:30:00+01:00", "2024-06-25T00:00:00+01:00"),
        # two weeks after 20 December runs into the new year
        (
            date(2024, 12, 20),
            "hot-tub-sauna",
            "2024-12-20T10:30:00+00:00",
            "2025-01-04T00:00:00+00:00",
        ),
        # two weeks after 20 February 2024 passes the leap day
        (
            date(2024, 2, 20),
            "hot-tub-sauna",
            "2024-02-20T10:30:00+00:00",
            "2024-03-06T00:00:00+00:00",
        ),
        (
            date(2023, 2, 20),
            "hot-tub-sauna",
            "2023-02-20T10:30:00+00:00",
            "2023-03-07T00:00:00+00:00",
        ),
        # 2 weeks after 20 March 2024 crosses the spring change: still the end of the local day
        (
            date(2024, 3, 20),
            "hot-tub-sauna",
            "2024-03-20T10:30:00+00:00",
            "2024-04-04T00:00:00+01:00",
        ),
        # the day of treatment is the calendar day, 00:00 to 24:00, even on a 25-hour day
        (
            date(2024, 10, 27),
            "water-treatment-day",
            "2024-10-27T00:00:00+01:00",
            "2024-10-28T00:00:00+00:00",
        ),
        (date(2024, 3, 31), "stimulants", "2024-03-31T00:00:00+00:00", "2024-04-01T00:00:00+01:00"),
        (
            date(2024, 6, 10),
            "antibacterial-soap",
            "2024-06-10T00:00:00+01:00",
            "2024-06-10T10:00:00+01:00",
        ),
    ],
)
def test_after_windows_and_chains(build, day, rule, start, end):
    i = item(build(day, time(10, 0)), rule)
    assert (iso(i.start), iso(i.end)) == (start, end)


def test_day_lengths_23_and_25_hours(build):
    spring = item(build(date(2024, 3, 31), time(10, 0)), "water-treatment-day")
    autumn = item(build(date(2024, 10, 27), time(10, 0)), "water-treatment-day")
    assert utc(spring.end) - utc(spring.start) == timedelta(hours=23)
    assert utc(autumn.end) - utc(autumn.start) == timedelta(hours=25)


# ----------------------------------------------------------------------- untimed
def test_untimed_appointment_is_conservative(build):
    h = build(date(2024, 6, 10))
    assert not h.timed
    assert iso(h.start) == "2024-06-10T00:00:00+01:00"
    assert iso(h.end) == "2024-06-11T00:00:00+01:00"
    assert iso(item(h, "caffeine").start) == "2024-06-09T00:00:00+01:00"
    assert iso(item(h, "showers").end) == "2024-06-13T00:00:00+01:00"
    assert item(h, "showers").when == "Until the end of Wednesday 12 June 2024"
    assert item(h, "caffeine").when == "From Sunday 9 June 2024"


def test_untimed_hour_windows_widen_to_whole_days_across_dst(build):
    # 24 h before 00:00 on Monday 1 April 2024 (after the spring change) is 23:00 on
    # Saturday 30 March: widened to the whole of Saturday, never narrowed
    h = build(date(2024, 4, 1))
    assert iso(item(h, "caffeine").start) == "2024-03-30T00:00:00+00:00"
    # 48 h after 24:00 on Saturday 26 October 2024 ends 23:00 Monday: widened to the end of Monday
    h = build(date(2024, 10, 26))
    assert iso(item(h, "showers").end) == "2024-10-29T00:00:00+00:00"


# ----------------------------------------------------------------------- course end
def test_course_end_known_and_unknown(build):
    unknown = item(build(date(2024, 6, 10), time(10, 0)), "water-daily")
    assert unknown.end is None
    assert unknown.when == "From Tuesday 11 June 2024 until your last session"
    course = Course(
        sessions=(date(2024, 6, 10), date(2024, 7, 10), date(2024, 8, 10)), end=date(2024, 8, 10)
    )
    known = item(build(date(2024, 6, 10), time(10, 0), course=course), "water-daily")
    assert iso(known.end) == "2024-08-11T00:00:00+01:00"
    assert known.when == "From Tuesday 11 June 2024 until the end of Saturday 10 August 2024"


# ----------------------------------------------------------------------- status
@pytest.mark.parametrize(
    "today, rule, status",
    [
        (date(2024, 5, 30), "ginkgo-biloba", "upcoming"),
        (date(2024, 5, 31), "ginkgo-biloba", "started"),
        (date(2024, 6, 10), "ginkgo-biloba", "started"),  # ends at 10:00 today: not before today
        (date(2024, 6, 11), "ginkgo-biloba", "passed"),
        (date(2024, 6, 12), "showers", "started"),
        (date(2024, 6, 13), "showers", "passed"),
        (date(2024, 6, 12), "topicals-after", "started"),
        (date(2024, 6, 13), "topicals-after", "passed"),  # ended at 10:30 on 12 June
        (date(2024, 6, 11), "spf30", "upcoming"),
        (date(2030, 1, 1), "water-daily", "started"),  # no known end: never passed
    ],
)
def test_status_against_today(build, today, rule, status):
    assert item(build(date(2024, 6, 10), time(10, 0), today=today), rule).status == status


# ----------------------------------------------------------------------- late bookings
@pytest.mark.parametrize(
    "booked, late",
    [
        (date(2024, 5, 1), set()),
        (date(2024, 5, 30), set()),
        (date(2024, 5, 31), {"ginkgo-biloba", "willow-bark"}),  # booked the day the window starts
        (date(2024, 6, 3), {"ginkgo-biloba", "willow-bark"}),
        (date(2024, 6, 5), {"ginkgo-biloba", "willow-bark", "vitamin-e", "aspirin", "nsaids"}),
        (
            date(2024, 6, 10),  # booked on the day: everything before the appointment is late
            {
                "ginkgo-biloba",
                "willow-bark",
                "vitamin-e",
                "aspirin",
                "nsaids",
                "caffeine",
                "stimulants",
                "antibacterial-soap",
                "no-topicals-before",
                "protein-meal",
                "water-treatment-day",
            },
        ),
        (date(2024, 6, 11), set()),  # booked after the appointment: nothing is late
        (None, set()),  # no booking date known
    ],
)
def test_late_items(build, booked, late):
    h = build(date(2024, 6, 10), time(10, 0), booked=booked)
    assert {i.rule for i in h.items if i.late} == late
    assert not any(i.late for i in h.items if i.phase == "after")
    assert bool(h.banners) == bool(late)


def test_late_banner_names_items_dates_and_phone(build):
    h = build(date(2024, 6, 10), time(10, 0), booked=date(2024, 6, 3))
    banner = h.banners[0]
    assert "ginkgo biloba (from Friday 31 May 2024)" in banner
    assert "7 days before your appointment" in banner
    assert "020 7946 0000" in banner


# ----------------------------------------------------------------------- past appointments
def test_past_appointment_renders_with_warning(build):
    h = build(date(2024, 6, 10), time(10, 0), today=date(2026, 11, 24), booked=date(2026, 11, 24))
    assert all(i.status == "passed" for i in h.items if i.end is not None)
    assert h.warnings and "before today" in h.warnings[0]
    assert any("in the past" in b for b in h.banners)
    assert not any(i.late for i in h.items)


def test_past_appointment_is_an_error_with_strict(ruleset, london):
    from mesocare.errors import PastAppointmentError
    from mesocare.handout import build_handout
    from mesocare.model import Request

    with pytest.raises(PastAppointmentError):
        build_handout(
            Request(date=date(2024, 6, 10), areas=("face",)),
            ruleset,
            london,
            date(2024, 6, 11),
            strict=True,
        )


# ----------------------------------------------------------------------- clock gaps
def test_time_in_spring_gap_is_an_error():
    with pytest.raises(InputError, match="does not exist"):
        appointment_times(date(2024, 3, 31), time(1, 30), 30, "Europe/London")


def test_time_in_autumn_overlap_takes_the_first():
    appt = appointment_times(date(2024, 10, 27), time(1, 30), 30, "Europe/London")
    assert appt.start.utcoffset() == timedelta(hours=1)


def test_midnight_in_a_gap_starts_the_day_after_the_gap():
    # Chile moves its clocks at midnight: 7 September 2024 starts at 01:00
    start = local_midnight(date(2024, 9, 8), __import__("zoneinfo").ZoneInfo("America/Santiago"))
    assert start.hour == 1


def test_floor_and_ceil_day():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/London")
    dt = datetime(2024, 6, 9, 13, 5, tzinfo=tz)
    assert floor_day(dt, tz).isoformat() == "2024-06-09T00:00:00+01:00"
    assert ceil_day(dt, tz).isoformat() == "2024-06-10T00:00:00+01:00"
    assert ceil_day(floor_day(dt, tz), tz) == floor_day(dt, tz)


def test_status_function_direct():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("UTC")
    s = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert item_status(s, None, date(2023, 12, 31), tz) == "upcoming"
    assert item_status(s, s + timedelta(days=1), date(2024, 1, 2), tz) == "passed"


def test_one_session_course_has_no_daily_water_after(build):
    course = Course(sessions=(date(2024, 6, 10),), end=date(2024, 6, 10))
    h = build(date(2024, 6, 10), time(10, 0), course=course)
    assert "water-daily" not in {i.rule for i in h.items}
    assert "water-treatment-day" in {i.rule for i in h.items}


def test_untimed_morning_items_cover_the_whole_day(build):
    h = build(date(2024, 6, 10))
    soap = item(h, "antibacterial-soap")
    assert (iso(soap.start), iso(soap.end)) == (
        "2024-06-10T00:00:00+01:00",
        "2024-06-11T00:00:00+01:00",
    )
    assert soap.when == "On Monday 10 June 2024, before your appointment"
    timed = item(build(date(2024, 6, 10), time(14, 15)), "antibacterial-soap")
    assert timed.when == "On Monday 10 June 2024, before your appointment at 14:15"
